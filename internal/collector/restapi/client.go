package restapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/billingd/billingd/internal/collector"
)

// Login obtains a credential from the platform (a bearer token, or a
// static API key returned as is). It is called before the first request
// and again once after a 401.
type Login func(ctx context.Context, c *Client) (string, error)

// Client calls one platform's JSON API. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	http  *http.Client
	login Login
	// authorize sets the credential on a request; default
	// "Authorization: Bearer <token>".
	authorize func(h http.Header, token string)
	retry     collector.Backoff
	attempts  int

	mu    sync.Mutex
	token string
}

// Option changes a Client.
type Option func(*Client)

// WithHeader sends the credential in a header of its own (e.g. Cohesity's
// "apiKey") instead of "Authorization: Bearer".
func WithHeader(name string) Option {
	return func(c *Client) {
		c.authorize = func(h http.Header, token string) { h.Set(name, token) }
	}
}

// WithRetry sets how often (attempts, at least 1) and how far apart a
// request that failed transiently (connection error, 429, 502, 503, 504)
// is sent.
func WithRetry(attempts int, b collector.Backoff) Option {
	return func(c *Client) { c.attempts, c.retry = max(attempts, 1), b }
}

// NewClient returns a client for the API under base (scheme and host, and
// a path prefix if any).
func NewClient(base string, hc *http.Client, login Login, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	c := &Client{base: u, http: hc, login: login, attempts: 3,
		retry:     collector.Backoff{Initial: 500 * time.Millisecond, Max: 5 * time.Second},
		authorize: func(h http.Header, token string) { h.Set("Authorization", "Bearer "+token) }}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// StatusError is a response outside 2xx.
type StatusError struct {
	Method, Path string
	Code         int
	Body         string // the start of the body, for the log
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Code, e.Body)
}

// IsStatus reports whether err is a StatusError with the code.
func IsStatus(err error, code int) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// maxBody bounds a response: an inventory page of a few thousand objects
// is a few MB.
const maxBody = 64 << 20

// Get sends GET path?query with the credential and decodes the JSON answer into dst.
func (c *Client) Get(ctx context.Context, path string, query url.Values, dst any) error {
	return c.Do(ctx, http.MethodGet, path, query, nil, dst)
}

// Post sends body as JSON with the credential and decodes the answer into dst.
func (c *Client) Post(ctx context.Context, path string, body, dst any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	return c.Do(ctx, http.MethodPost, path, nil, b, dst)
}

// PostLogin sends a login request to path, without the stored
// credential: body url.Values as a form, anything else as JSON. It
// decodes the JSON answer (the token) into dst.
func (c *Client) PostLogin(ctx context.Context, path string, body, dst any) error {
	contentType := "application/x-www-form-urlencoded"
	var b []byte
	if form, ok := body.(url.Values); ok {
		b = []byte(form.Encode())
	} else {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%s %s: %w", http.MethodPost, path, err)
		}
		contentType = "application/json"
	}
	return c.Raw(ctx, http.MethodPost, path, nil, b, func(h http.Header) {
		h.Set("Content-Type", contentType)
		h.Set("Accept", "application/json")
	}, dst)
}

// Do sends one authorised request. It logs in first if needed; on 401 it
// logs in again and resends once (the token expired between polls); it
// resends after transient failures as WithRetry says.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body []byte, dst any) error {
	token, err := c.credential(ctx, "")
	if err != nil {
		return err
	}
	err = c.send(ctx, method, path, query, body, token, dst)
	if !IsStatus(err, http.StatusUnauthorized) {
		return err
	}
	if token, err = c.credential(ctx, token); err != nil {
		return err
	}
	return c.send(ctx, method, path, query, body, token, dst)
}

// credential returns the current token, logging in when there is none or
// when it is still the one that was refused (another caller may have
// logged in again meanwhile).
func (c *Client) credential(ctx context.Context, refused string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.token != refused {
		return c.token, nil
	}
	c.token = ""
	t, err := c.login(ctx, c)
	if err != nil {
		return "", fmt.Errorf("log in to %s: %w", c.base.Host, err)
	}
	if t == "" {
		return "", fmt.Errorf("log in to %s: empty token", c.base.Host)
	}
	c.token = t
	return t, nil
}

// Forget drops the token so that the next request logs in.
func (c *Client) Forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = ""
}

func (c *Client) send(ctx context.Context, method, path string, query url.Values, body []byte, token string, dst any) error {
	return c.Raw(ctx, method, path, query, body, func(h http.Header) {
		h.Set("Accept", "application/json")
		if body != nil {
			h.Set("Content-Type", "application/json")
		}
		c.authorize(h, token)
	}, dst)
}

// Raw sends a request without the stored credential (for logins), with
// the headers set sets, retrying transient failures, and decodes a 2xx
// JSON answer into dst (nil: discard).
func (c *Client) Raw(ctx context.Context, method, path string, query url.Values, body []byte, set func(http.Header), dst any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var last error
	for attempt := range c.attempts {
		if attempt > 0 {
			t := time.NewTimer(c.retry.Delay(attempt - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return errors.Join(last, ctx.Err())
			case <-t.C:
			}
		}
		var retry bool
		retry, last = c.once(ctx, method, u.String(), path, body, set, dst)
		if !retry || ctx.Err() != nil {
			return last
		}
	}
	return last
}

func (c *Client) once(ctx context.Context, method, rawURL, path string, body []byte, set func(http.Header), dst any) (retry bool, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return false, err
	}
	if set != nil {
		set(req.Header)
	}
	res, err := c.http.Do(req)
	if err != nil {
		// An untrusted certificate will not become trusted by asking again.
		var cv *tls.CertificateVerificationError
		return !errors.As(err, &cv), fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return true, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		se := &StatusError{Method: method, Path: path, Code: res.StatusCode, Body: snippet(b)}
		switch res.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true, se
		}
		return false, se
	}
	if len(b) > maxBody {
		return false, fmt.Errorf("%s %s: answer over %d bytes", method, path, maxBody)
	}
	if dst == nil {
		return false, nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return false, fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return false, nil
}

// snippet keeps the start of an error body for the log, on one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strconv.Quote(s)
}
