package postgres

import (
	"encoding/binary"
	"io"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/billingd/billingd/internal/usage"
)

// sqlCopyRecords loads usage_records in PostgreSQL's binary COPY format,
// which copyEncoder writes directly: one buffer append per field instead
// of pgx's per-value encode plans and interface boxing, which cost more
// CPU than the rest of the ingest path in Go.
var sqlCopyRecords = "COPY " + tableUsageRecords + " (" + colsUsageRecord + ") FROM STDIN (FORMAT binary)"

// copyEncoder is an io.Reader of the binary COPY stream of records. It
// encodes about 64 KiB at a time, so a batch is never held twice in memory.
type copyEncoder struct {
	records []usage.Record
	next    int // next record to encode
	buf     []byte
	off     int
	done    bool
}

var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func (e *copyEncoder) Read(p []byte) (int, error) {
	for e.off == len(e.buf) {
		if e.done {
			return 0, io.EOF
		}
		e.fill()
	}
	n := copy(p, e.buf[e.off:])
	e.off += n
	return n, nil
}

func (e *copyEncoder) fill() {
	if e.buf == nil {
		e.buf = append(make([]byte, 0, 80<<10), copyHeader...)
	} else {
		e.buf, e.off = e.buf[:0], 0
	}
	for len(e.buf) < 64<<10 && e.next < len(e.records) {
		r := &e.records[e.next]
		e.next++
		e.buf = appendRecord(e.buf, r)
	}
	if e.next == len(e.records) {
		e.buf = binary.BigEndian.AppendUint16(e.buf, 0xffff) // trailer: field count -1
		e.done = true
	}
}

// appendRecord appends one tuple in the column order of colsUsageRecord.
func appendRecord(b []byte, r *usage.Record) []byte {
	b = binary.BigEndian.AppendUint16(b, 13)
	b = appendText(b, r.Key)
	b = appendText(b, r.CustomerID)
	b = appendText(b, r.MetricKey)
	b = appendNumeric(b, r.Quantity)
	b = appendTimestamp(b, r.Start)
	b = appendTimestamp(b, r.End)
	b = appendText(b, r.ResourceID)
	b = appendText(b, r.OrganisationID)
	b = appendText(b, r.VdcID)
	b = appendText(b, r.Site)
	b = appendText(b, r.Source)
	// jsonb: a version byte, then the JSON text; the length goes in front.
	at := len(b)
	b = append(b, 0, 0, 0, 0, 1)
	if len(r.Dimensions) == 0 {
		b = append(b, '{', '}')
	} else {
		b = appendJSONObject(b, r.Dimensions)
	}
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return appendTimestamp(b, r.ReceiveTime)
}

func appendText(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// postgresEpoch is where timestamptz counts microseconds from.
var postgresEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

func appendTimestamp(b []byte, t time.Time) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixMicro()-postgresEpoch))
}

// appendNumeric writes d as a binary numeric: base-10000 digits with the
// weight (power of 10000) of the first, a sign and the display scale, so
// "12.50" is stored as 12.50, as its text form would be.
func appendNumeric(b []byte, d decimal.Decimal) []byte {
	var small [24]byte
	var digits []byte // decimal digits of |coefficient|
	if d.NumDigits() <= 18 {
		c := d.CoefficientInt64()
		if c < 0 {
			c = -c
		}
		digits = strconv.AppendInt(small[:0], c, 10)
	} else {
		c := d.Coefficient()
		digits = c.Abs(c).Append(small[:0], 10)
	}
	// d = digits × 10^exp: the digit at position p has the decimal exponent
	// e = len(digits)-1-p+exp and lands in base-10000 digit floor(e/4).
	exp := int(d.Exponent())
	top, bottom := floorDiv4(len(digits)-1+exp), floorDiv4(exp)
	var groupsBuf [32]uint16
	groups := groupsBuf[:0]
	if n := top - bottom + 1; n > len(groupsBuf) {
		groups = make([]uint16, 0, n)
	}
	groups = groups[:top-bottom+1]
	clear(groups)
	for p, c := range digits {
		e := len(digits) - 1 - p + exp
		g := floorDiv4(e)
		groups[top-g] += uint16(c-'0') * pow10[e-4*g]
	}
	weight := top
	for len(groups) > 0 && groups[0] == 0 {
		groups, weight = groups[1:], weight-1
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(0)
	if d.Sign() < 0 {
		sign = 0x4000
	}
	if len(groups) == 0 {
		weight = 0
	}
	b = binary.BigEndian.AppendUint32(b, uint32(8+2*len(groups)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(groups)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(max(0, -exp)))
	for _, g := range groups {
		b = binary.BigEndian.AppendUint16(b, g)
	}
	return b
}

var pow10 = [4]uint16{1, 10, 100, 1000}

// floorDiv4 is ⌊e/4⌋, also for negative e.
func floorDiv4(e int) int {
	if e >= 0 {
		return e / 4
	}
	return -((-e + 3) / 4)
}
