package postgres

import (
	"bytes"
	"encoding/base64"
	"unicode/utf8"

	"github.com/billingd/billingd/internal/apperr"
	"github.com/jackc/pgx/v5"
)

const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// page is a keyset page: rows with id > after, in id order, at most limit.
type page struct {
	limit int
	after string
}

// newPage decodes a List call's size and token. The token is opaque to
// clients: base64url of the last id of the previous page.
func newPage(size int, token string) (page, error) {
	var v apperr.Invalid
	switch {
	case size < 0:
		v.Add("page_size", "must be ≥ 0")
	case size == 0:
		size = defaultPageSize
	case size > maxPageSize:
		size = maxPageSize // AIP-158: coerce, don't fail
	}
	var after string
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || len(b) == 0 || !validText(b) {
			v.Add("page_token", "is not a token this server issued")
		}
		after = string(b)
	}
	return page{limit: size, after: after}, v.Err()
}

// validText reports whether b can be compared with text columns:
// PostgreSQL refuses invalid UTF-8 and NUL with an error.
func validText(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}

func pageToken(lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

// collectPage reads up to p.limit+1 rows (the query asks for one more than
// the page to learn whether another page follows) and returns the page and
// the next page's token.
func collectPage[T any](rows pgx.Rows, err error, p page, scan func(pgx.CollectableRow) (T, error), id func(T) string) ([]T, string, error) {
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, "", mapErr(err)
	}
	if len(items) <= p.limit {
		return items, "", nil
	}
	items = items[:p.limit]
	return items, pageToken(id(items[len(items)-1])), nil
}
