package queue

import (
	"errors"
	"strings"

	"github.com/billingd/billingd/internal/collector"
)

// Headers of a dead-lettered message (NATS headers, AMQP message headers);
// the body is the original message's, unchanged.
const (
	HeaderReason          = "Billingd-Dead-Letter-Reason" // a fixed code: not_json, invalid_record, rejected
	HeaderDetail          = "Billingd-Dead-Letter-Detail" // free text: the field and why
	HeaderSource          = "Billingd-Dead-Letter-Source" // the collector source that dead-lettered it
	HeaderOriginalSubject = "Billingd-Original-Subject"   // NATS subject or AMQP queue it came from
	HeaderOriginalID      = "Billingd-Original-Id"        // stream sequence or message id
)

// ReasonNotJSON is the dead-letter reason of a body that is not a usage
// record in billingd's JSON.
const ReasonNotJSON = "not_json"

// maxDetail bounds the detail header; billingd's reasons are short.
const maxDetail = 1024

// ReasonNotAllowed is the dead-letter reason of a record whose source or
// site is outside the configured limits.
const ReasonNotAllowed = collector.ReasonNotAllowed

// decode turns a message body into the record it carries, or the reason it
// is poison. defaultSource fills in a record's empty source.
func decode(id string, body []byte, defaultSource string, limits collector.Limits) collector.Message {
	m := collector.Message{ID: id}
	rec, err := collector.DecodeRecordJSON(body)
	if err != nil {
		reason := ReasonNotJSON
		var fe *collector.FieldError
		if errors.As(err, &fe) {
			reason = collector.ReasonInvalidRecord
		}
		m.Poison = &collector.Skip{Resource: id, Reason: reason, Detail: err.Error()}
		return m
	}
	if rec.Source == "" {
		rec.Source = defaultSource
	}
	if err := limits.Check(rec); err != nil {
		m.Poison = &collector.Skip{Resource: id, Reason: ReasonNotAllowed, Detail: rec.Key + ": " + err.Error()}
		return m
	}
	m.Record = rec
	return m
}

// headerText makes free text fit a single header line.
func headerText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxDetail {
		s = strings.ToValidUTF8(s[:maxDetail], "")
	}
	return s
}
