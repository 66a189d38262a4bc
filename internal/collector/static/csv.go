package static

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/collector"
)

// dimensionPrefix marks a CSV column holding a dimension: dimensions.policy.
const dimensionPrefix = "dimensions."

// csvColumns are the record fields a CSV header may name (protojson names).
var csvColumns = map[string]bool{
	"idempotency_key": true, "customer_id": true, "metric_key": true, "quantity": true, "time": true,
	"start_time": true, "end_time": true, "resource_id": true, "organisation_id": true, "vdc_id": true,
	"site": true, "source": true,
}

// readCSV reads a CSV file with a header row. An unknown column skips the
// whole file (a typo would otherwise drop a field silently).
func readCSV(path string, data []byte, keyColumn string) ([]row, []collector.Skip) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, []collector.Skip{rowSkip(path, 1, "bad_header", err.Error())}
	}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		switch {
		case h == keyColumn, csvColumns[h]:
		case strings.HasPrefix(h, dimensionPrefix) && len(h) > len(dimensionPrefix):
		default:
			return nil, []collector.Skip{rowSkip(path, 1, "bad_header",
				fmt.Sprintf("unknown column %q: use %s, %s<name> for a dimension, or key_column", h, strings.Join(columnList(), ", "), dimensionPrefix))}
		}
	}
	r.FieldsPerRecord = len(header)
	var (
		rows  []row
		skips []collector.Skip
	)
	for {
		fields, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, skips
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			skips = append(skips, rowSkip(path, line, "invalid_row", err.Error()))
			if !errors.Is(err, csv.ErrFieldCount) {
				return rows, skips // the reader cannot resync after a quoting error
			}
			continue
		}
		rec, ferr := csvRecord(header, fields, keyColumn)
		if ferr != nil {
			skips = append(skips, rowSkip(path, line, ferr.reason, "field "+ferr.field+": "+ferr.detail))
			continue
		}
		rows = append(rows, row{line: line, rec: rec})
	}
}

type fieldErr struct{ field, reason, detail string }

func csvRecord(header, fields []string, keyColumn string) (collector.Record, *fieldErr) {
	var rec collector.Record
	for i, h := range header {
		v := strings.TrimSpace(fields[i])
		switch {
		case h == keyColumn:
			rec.Key = v
		case strings.HasPrefix(h, dimensionPrefix):
			if v != "" {
				if rec.Dimensions == nil {
					rec.Dimensions = map[string]string{}
				}
				rec.Dimensions[strings.TrimPrefix(h, dimensionPrefix)] = v
			}
		case h == "customer_id":
			rec.CustomerID = v
		case h == "metric_key":
			rec.Metric = v
		case h == "quantity":
			q, err := collector.ParseQuantity(v)
			if err != nil {
				return rec, &fieldErr{h, "invalid_quantity", err.Error()}
			}
			rec.Quantity = q
		case h == "time", h == "start_time", h == "end_time":
			t, err := parseTime(v)
			if err != nil {
				return rec, &fieldErr{h, "invalid_time", err.Error()}
			}
			switch h {
			case "time":
				rec.Time = t
			case "start_time":
				rec.Start = t
			default:
				rec.End = t
			}
		case h == "resource_id":
			rec.ResourceID = v
		case h == "organisation_id":
			rec.OrganisationID = v
		case h == "vdc_id":
			rec.VdcID = v
		case h == "site":
			rec.Site = v
		case h == "source":
			rec.Source = v
		}
	}
	switch {
	case rec.CustomerID == "":
		return rec, &fieldErr{"customer_id", "missing_field", "is empty"}
	case rec.Metric == "":
		return rec, &fieldErr{"metric_key", "missing_field", "is empty"}
	}
	return rec, nil
}

// parseTime reads RFC 3339, or a date (midnight UTC), which suits monthly
// contracts; empty is the zero time.
func parseTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is neither RFC 3339 (2026-01-01T00:00:00Z) nor a date (2026-01-01)", v)
}

func columnList() []string {
	return []string{"idempotency_key", "customer_id", "metric_key", "quantity", "time", "start_time", "end_time",
		"resource_id", "organisation_id", "vdc_id", "site", "source"}
}
