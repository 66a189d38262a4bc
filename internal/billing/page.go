package billing

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"slices"

	"github.com/billingd/billingd/internal/apperr"
)

// MaxPageSize is the most lines one page holds; a page size of 0 means it.
const MaxPageSize = 10000

// Page is one page of a query's lines with the totals and unpriced usage
// of the whole result, and the token of the next page ("" on the last).
type Page struct {
	Result
	NextPageToken string
}

// QueryPage rates q and returns the page of lines that token points at
// (the first page for ""). A token names an offset and the query it was
// issued for: a token of another query is InvalidArgument on page_token.
// Pages are cut from a result computed afresh for each page, so usage or
// prices that change between two calls shift what the next page holds.
func (s *Service) QueryPage(ctx context.Context, q Query, pageSize int, token string) (Page, error) {
	if pageSize <= 0 || pageSize > MaxPageSize {
		pageSize = MaxPageSize
	}
	h := q.hash()
	offset := 0
	if token != "" {
		var ok bool
		if offset, ok = decodeToken(token, h); !ok {
			return Page{}, apperr.InvalidField("page_token", "is not a token of this query")
		}
	}
	if err := q.Validate(); err != nil {
		return Page{}, err
	}
	res, err := s.Query(ctx, q)
	if err != nil {
		return Page{}, err
	}
	p := Page{Result: res}
	offset = min(offset, len(res.Lines))
	end := min(offset+pageSize, len(res.Lines))
	p.Lines = res.Lines[offset:end:end]
	if end < len(res.Lines) {
		p.NextPageToken = encodeToken(end, h)
	}
	return p, nil
}

const hashLen = 12 // bytes of the query's SHA-256 a token carries

// hash identifies q: the same query, whatever the order of its customer
// ids, group keys and dimensions, has the same hash.
func (q Query) hash() []byte {
	var b bytes.Buffer
	str := func(s string) {
		b.Write(binary.AppendUvarint(nil, uint64(len(s))))
		b.WriteString(s)
	}
	num := func(n int64) { b.Write(binary.AppendVarint(nil, n)) }
	ids := slices.Sorted(slices.Values(q.CustomerIDs))
	num(int64(len(ids)))
	for _, id := range ids {
		str(id)
	}
	if q.Month != "" { // only then: tokens of window queries issued before months existed stay valid
		str(q.Month)
	}
	num(q.From.UnixNano())
	num(q.To.UnixNano())
	num(int64(q.Granularity))
	keys := slices.Sorted(slices.Values(q.GroupBy))
	num(int64(len(keys)))
	for _, k := range keys {
		num(int64(k))
	}
	dims := slices.Sorted(slices.Values(q.GroupByDimensions))
	num(int64(len(dims)))
	for _, d := range dims {
		str(d)
	}
	sum := sha256.Sum256(b.Bytes())
	return sum[:hashLen]
}

// A token is base64url(hash of the query ‖ uvarint offset).
func encodeToken(offset int, h []byte) string {
	return base64.RawURLEncoding.EncodeToString(binary.AppendUvarint(slices.Clone(h), uint64(offset)))
}

func decodeToken(token string, h []byte) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) <= hashLen || !bytes.Equal(b[:hashLen], h) {
		return 0, false
	}
	off, n := binary.Uvarint(b[hashLen:])
	if n <= 0 || n != len(b)-hashLen || off > 1<<40 {
		return 0, false
	}
	return int(off), true
}
