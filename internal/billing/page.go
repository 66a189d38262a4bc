package billing

import (
	"bytes"
	"context"
	"crypto/rand"
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
//
// Pages are a snapshot as of the first page: its result is kept (cache.go)
// and the following pages are cut from it, so they fit together whatever
// changes in between. When it is no longer kept (after Pages.TTL, 10
// minutes, eviction, on another replica, after a restart, or for a token of
// an older billingd), a page is cut from a fresh rating, kept in turn for
// the pages after it; usage or prices that changed meanwhile then shift
// what it holds.
func (s *Service) QueryPage(ctx context.Context, q Query, pageSize int, token string) (Page, error) {
	if pageSize <= 0 || pageSize > MaxPageSize {
		pageSize = MaxPageSize
	}
	h := q.hash()
	var (
		offset int
		id     pageID
		kept   bool
	)
	if token != "" {
		var ok bool
		if offset, id, kept, ok = decodeToken(token, h); !ok {
			return Page{}, apperr.InvalidField("page_token", "is not a token of this query")
		}
	}
	if err := q.Validate(); err != nil {
		return Page{}, err
	}
	var res Result
	if kept {
		var e pageEntry
		if e, kept = s.cache.pages.get(id); kept && !bytes.Equal(e.hash, h) {
			kept = false // cannot happen with random ids; never serve another query's lines
		}
		res = e.res
	}
	if !kept {
		var err error
		if res, err = s.Query(ctx, q); err != nil {
			return Page{}, err
		}
	}
	p := Page{Result: res}
	offset = min(offset, len(res.Lines))
	end := min(offset+pageSize, len(res.Lines))
	p.Lines = res.Lines[offset:end:end]
	if end < len(res.Lines) {
		if !kept {
			id = newPageID()
			kept = s.cache.pages.add(id, pageEntry{hash: h, res: res}, len(res.Lines))
		}
		if kept {
			p.NextPageToken = encodeToken(end, h, &id)
		} else {
			p.NextPageToken = encodeToken(end, h, nil)
		}
	}
	return p, nil
}

// pageID names a kept result; random, so that a token cannot be forged
// into another caller's result.
type pageID [16]byte

func newPageID() pageID {
	var id pageID
	_, _ = rand.Read(id[:]) // never fails (crypto/rand)
	return id
}

// pageEntry is a kept result and the hash of its query. Read only.
type pageEntry struct {
	hash []byte
	res  Result
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

// A token is base64url(hash of the query ‖ uvarint offset [‖ page id]):
// tokens without an id (written by older billingd) re-rate.
func encodeToken(offset int, h []byte, id *pageID) string {
	b := binary.AppendUvarint(slices.Clone(h), uint64(offset))
	if id != nil {
		b = append(b, id[:]...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(token string, h []byte) (offset int, id pageID, hasID, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) <= hashLen || !bytes.Equal(b[:hashLen], h) {
		return 0, id, false, false
	}
	off, n := binary.Uvarint(b[hashLen:])
	rest := len(b) - hashLen - n
	if n <= 0 || (rest != 0 && rest != len(id)) || off > 1<<40 {
		return 0, id, false, false
	}
	copy(id[:], b[hashLen+n:])
	return int(off), id, rest != 0, true
}
