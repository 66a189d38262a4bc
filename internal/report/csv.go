package report

import (
	"encoding/csv"
	"io"
)

// csvSink writes one row per line under a header row (RFC 4180, UTF-8,
// CRLF line ends as the RFC says). It holds one row at a time; csv.Writer
// buffers 4 KiB.
type csvSink struct {
	w   *csv.Writer
	row [numColumns]string
}

func newCSVSink(w io.Writer, delimiter rune) *csvSink {
	cw := csv.NewWriter(w)
	cw.Comma = delimiter
	cw.UseCRLF = true
	return &csvSink{w: cw}
}

func (s *csvSink) begin(*Statement) error {
	var header [numColumns]string
	for i, c := range columns {
		header[i] = c.key
	}
	return s.w.Write(header[:])
}

func (s *csvSink) beginCustomer(*CustomerInfo) error { return nil }

func (s *csvSink) line(c *CustomerInfo, l *Line) error {
	textFields(&s.row, c, l)
	return s.w.Write(s.row[:])
}

func (s *csvSink) endCustomer(*CustomerInfo, []Total) error { return s.w.Error() }

func (s *csvSink) end([]Total) error {
	s.w.Flush()
	return s.w.Error()
}

func (s *csvSink) close() error { return nil }
