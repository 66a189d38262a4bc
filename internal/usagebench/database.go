package usagebench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
)

// NewDatabase creates the empty database name on the server of adminURL
// (any database of it) and returns its URL and a function that drops it
// (with FORCE: billingd may still hold connections).
func NewDatabase(ctx context.Context, adminURL, name string) (string, func(context.Context) error, error) {
	dbURL, err := withDatabase(adminURL, name, 0)
	if err != nil {
		return "", nil, err
	}
	admin, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("connect %s: %w", redact(adminURL), err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, err
	}
	drop := func(ctx context.Context) error {
		admin, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return err
		}
		defer admin.Close(ctx)
		_, err = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}
	return dbURL, drop, nil
}

// RandomName is prefix followed by 12 random hex digits, for a database
// that no other run uses.
func RandomName(prefix string) string { return prefix + randomHex(6) }

// withDatabase is admin with the database name, and a pool of poolConns
// connections when positive.
func withDatabase(admin, name string, poolConns int) (string, error) {
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("--database-url must be a postgres:// URL")
	}
	u.Path = "/" + name
	if poolConns > 0 {
		q := u.Query()
		q.Set("pool_max_conns", fmt.Sprint(poolConns))
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// PlainURL drops the pool settings (pool_max_conns…) that a single
// connection refuses.
func PlainURL(s string) string {
	u, _ := url.Parse(s)
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable url)"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
