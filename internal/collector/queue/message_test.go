package queue

import (
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/collector"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	body := func(source, site string) []byte {
		return []byte(`{"idempotency_key":"k1","customer_id":"acme","metric_key":"backup.gb","quantity":"1.5",` +
			`"time":"2026-01-01T00:00:00Z","source":"` + source + `","site":"` + site + `"}`)
	}
	limits := collector.Limits{AllowedSources: []string{"veeam:ams", "nats:q"}, AllowedSites: []string{"ams"}}
	for _, c := range []struct {
		name         string
		body         []byte
		reason       string // poison reason, "" for a record
		detail       string
		wantSource   string
		wantQuantity string
	}{
		{"good", body("veeam:ams", "ams"), "", "", "veeam:ams", "1.5"},
		{"default source", body("", "ams"), "", "", "nats:q", "1.5"},
		{"not json", []byte("hello"), ReasonNotJSON, "not a usage record", "", ""},
		{"unknown field", []byte(`{"idempotency_key":"k1","colour":"red"}`), ReasonNotJSON, `unknown field "colour"`, "", ""},
		{"bad quantity", []byte(`{"idempotency_key":"k1","quantity":"1,5"}`), collector.ReasonInvalidRecord, `quantity: "1,5" is not a decimal`, "", ""},
		{"source beyond the key", body("veeam:fra", "ams"), ReasonNotAllowed, `k1: source "veeam:fra" is not in allowed_sources`, "", ""},
		{"site beyond the key", body("veeam:ams", "fra"), ReasonNotAllowed, `k1: site "fra" is not in allowed_sites`, "", ""},
	} {
		m := decode("s#1", c.body, "nats:q", limits)
		switch {
		case c.reason == "" && m.Poison != nil:
			t.Errorf("%s: poison %+v", c.name, m.Poison)
		case c.reason == "" && (m.Record.Source != c.wantSource || m.Record.Quantity.String() != c.wantQuantity || m.Record.Check() != nil):
			t.Errorf("%s: record %+v", c.name, m.Record)
		case c.reason != "" && (m.Poison == nil || m.Poison.Reason != c.reason || !strings.Contains(m.Poison.Detail, c.detail) || m.Poison.Resource != "s#1"):
			t.Errorf("%s: poison %+v, want reason %s with %q", c.name, m.Poison, c.reason, c.detail)
		}
	}
	if got := headerText("a\r\nb" + strings.Repeat("é", 600)); strings.ContainsAny(got, "\r\n") || len(got) > maxDetail || !strings.HasPrefix(got, "a  b") {
		t.Errorf("header text %q", got)
	}
}
