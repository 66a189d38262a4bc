package report

import (
	"fmt"
	"mime"
	"slices"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/apperr"
)

// Format is a report file format.
type Format int

const (
	FormatUnspecified Format = iota
	CSV
	XLSX
	PDF
	JSON
	XML
)

var formatNames = [...]string{"", "csv", "xlsx", "pdf", "json", "xml"}

// ParseFormat reads a format name as used in URLs: csv, xlsx, pdf, json or
// xml, in any case.
func ParseFormat(s string) (Format, error) {
	for f := CSV; f <= XML; f++ {
		if strings.EqualFold(s, formatNames[f]) {
			return f, nil
		}
	}
	return FormatUnspecified, apperr.InvalidField("format", "unknown report format %q: want csv, xlsx, pdf, json or xml", s)
}

func (f Format) valid() bool { return f >= CSV && f <= XML }

// String is the format's name, which is also its file extension.
func (f Format) String() string {
	if !f.valid() {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// ContentType is the MIME type of a format, for Content-Type headers and
// the first ExportReport chunk.
func ContentType(f Format) string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case PDF:
		return "application/pdf"
	case JSON:
		return "application/json"
	case XML:
		return "application/xml"
	}
	return "application/octet-stream"
}

// FileName is "billing-<customer or all>-<period>.<ext>". The customer is
// the id of the only customer, "all" otherwise. The period is "2026-04"
// when [From, To) is exactly one calendar month, "2026-04-01_2026-04-15"
// (last day inclusive) when it is whole days, and
// "20260401T1300Z_20260402T0100Z" otherwise — read in the customers' time
// zone when they share one, in UTC otherwise.
func FileName(f Format, st Statement) string {
	who, loc := "all", time.UTC
	if len(st.Customers) == 1 {
		who = safeName(st.Customers[0].ID)
	}
	if len(st.Customers) > 0 && !slices.ContainsFunc(st.Customers, func(c CustomerInfo) bool {
		return c.TimeZone != st.Customers[0].TimeZone
	}) {
		loc = location(st.Customers[0].TimeZone)
	}
	from, to := st.Period(loc)
	return "billing-" + who + "-" + periodName(from.In(loc), to.In(loc)) + "." + f.String()
}

// ContentDisposition is the Content-Disposition header value of a download.
func ContentDisposition(fileName string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": fileName})
}

func periodName(from, to time.Time) string {
	switch {
	case from.IsZero() || to.IsZero():
		return "period"
	case midnight(from) && from.Day() == 1 && to.Equal(from.AddDate(0, 1, 0)):
		return from.Format("2006-01")
	case midnight(from) && midnight(to) && to.After(from):
		return from.Format("2006-01-02") + "_" + to.AddDate(0, 0, -1).Format("2006-01-02")
	}
	const f = "20060102T1504Z"
	return from.UTC().Format(f) + "_" + to.UTC().Format(f)
}

func midnight(t time.Time) bool {
	h, m, s := t.Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

// safeName keeps the characters of an id that are safe in a file name.
func safeName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "customer"
	}
	return string(b)
}

// location loads an IANA zone, falling back to UTC: a report is still
// worth having when a stored zone is unknown to this host.
func location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
