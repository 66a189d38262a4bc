package report

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"
)

// jsonSink writes the proto JSON of a QueryBillingResponse as the REST
// gateway renders it (lowerCamelCase names, every field present, decimals,
// int64 and enums as strings, RFC 3339 UTC timestamps):
//
//	{"lines":[{"customerId":"acme",…,"amount":"0.80","currency":"EUR",…},
//	…],
//	"totals":[{"currency":"EUR","amount":"…","lineCount":"12"}]}
//
// One line is encoded at a time; bufio buffers 4 KiB. Product and group
// names are not in the proto message, so they are left out here.
type jsonSink struct {
	bw    *bufio.Writer
	enc   *json.Encoder
	first bool
	buf   jsonLine
}

type jsonLine struct {
	CustomerID     string            `json:"customerId"`
	OrganisationID string            `json:"organisationId"`
	VdcID          string            `json:"vdcId"`
	Site           string            `json:"site"`
	ResourceID     string            `json:"resourceId"`
	ProductGroupID string            `json:"productGroupId"`
	ProductID      string            `json:"productId"`
	MetricKey      string            `json:"metricKey"`
	Dimensions     map[string]string `json:"dimensions"`
	Model          string            `json:"model"`
	Granularity    string            `json:"granularity"`
	StartTime      string            `json:"startTime"`
	EndTime        string            `json:"endTime"`
	Quantity       string            `json:"quantity"`
	Unit           string            `json:"unit"`
	UnitPrice      string            `json:"unitPrice"`
	Amount         string            `json:"amount"`
	Currency       string            `json:"currency"`
	PriceListID    string            `json:"priceListId"`
	PriceID        string            `json:"priceId"`
	CampaignID     string            `json:"campaignId"`
	ContractID     string            `json:"contractId"`
	Description    string            `json:"description"`
	// omitted when empty, as protojson omits them on other lines
	AdjustedMonth   string `json:"adjustedMonth,omitempty"`
	AdjustmentCause string `json:"adjustmentCause,omitempty"`
}

type jsonTotal struct {
	Currency  string `json:"currency"`
	Amount    string `json:"amount"`
	LineCount string `json:"lineCount"` // int64: a string in proto JSON
}

var emptyDimensions = map[string]string{}

func newJSONSink(w io.Writer) *jsonSink {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &jsonSink{bw: bw, enc: enc, first: true}
}

func (s *jsonSink) begin(*Statement) error {
	_, err := s.bw.WriteString(`{"lines":[`)
	return err
}

func (s *jsonSink) beginCustomer(*CustomerInfo) error { return nil }

func (s *jsonSink) line(_ *CustomerInfo, l *Line) error {
	if !s.first {
		if err := s.bw.WriteByte(','); err != nil {
			return err
		}
	}
	s.first = false
	dims := l.Dimensions
	if dims == nil {
		dims = emptyDimensions
	}
	s.buf = jsonLine{
		CustomerID:     l.CustomerID,
		OrganisationID: l.OrganisationID,
		VdcID:          l.VdcID,
		Site:           l.Site,
		ResourceID:     l.ResourceID,
		ProductGroupID: l.ProductGroupID,
		ProductID:      l.ProductID,
		MetricKey:      l.MetricKey,
		Dimensions:     dims,
		Model:          protoEnum("BILLING_MODEL_", l.Model),
		Granularity:    protoEnum("GRANULARITY_", l.Granularity),
		StartTime:      protoTime(l.Start),
		EndTime:        protoTime(l.End),
		Quantity:       l.Quantity.String(),
		Unit:           l.Unit,
		UnitPrice:      l.UnitPrice.String(),
		Amount:         formatAmount(l.Currency, l.Amount),
		Currency:       l.Currency,
		PriceListID:    l.PriceListID,
		PriceID:        l.PriceID,
		CampaignID:     l.CampaignID,
		ContractID:     l.ContractID,
		Description:    l.Description,
		AdjustedMonth:  l.AdjustedMonth,
	}
	if l.AdjustmentCause != "" {
		s.buf.AdjustmentCause = protoEnum("ADJUSTMENT_CAUSE_", l.AdjustmentCause)
	}
	return s.enc.Encode(&s.buf) // Encode ends with a newline: one line per line
}

func (s *jsonSink) endCustomer(*CustomerInfo, []Total) error { return nil }

func (s *jsonSink) end(totals []Total) error {
	if _, err := s.bw.WriteString(`],"totals":`); err != nil {
		return err
	}
	out := make([]jsonTotal, len(totals))
	for i, t := range totals {
		out[i] = jsonTotal{Currency: t.Currency, Amount: formatAmount(t.Currency, t.Amount), LineCount: strconv.FormatInt(t.Lines, 10)}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	s.bw.Write(b)
	s.bw.WriteString("}\n")
	return s.bw.Flush()
}

// protoEnum is the proto enum value name of a model or granularity:
// "payg" → "BILLING_MODEL_PAYG", "" → "…_UNSPECIFIED".
func protoEnum(prefix, v string) string {
	if v == "" {
		return prefix + "UNSPECIFIED"
	}
	return prefix + strings.ToUpper(v)
}

// protoTime formats a timestamp as protojson does: UTC, with 0, 3, 6 or 9
// fractional digits.
func protoTime(t time.Time) string {
	t = t.UTC()
	switch ns := t.Nanosecond(); {
	case ns == 0:
		return t.Format("2006-01-02T15:04:05Z")
	case ns%1e6 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case ns%1e3 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}

func (s *jsonSink) close() error { return nil }
