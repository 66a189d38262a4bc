package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/gen/openapiv2"
	"github.com/billingd/billingd/internal/console"
	"github.com/billingd/billingd/internal/gateway"
	"github.com/billingd/billingd/internal/rpc"
)

// gatewayServices are the REST registrations, one per gRPC service.
var gatewayServices = []gateway.RegisterFunc{
	billingv1.RegisterCatalogServiceHandler,
	billingv1.RegisterCustomerServiceHandler,
	billingv1.RegisterPricingServiceHandler,
	billingv1.RegisterUsageServiceHandler,
	billingv1.RegisterBillingServiceHandler,
	billingv1.RegisterReportServiceHandler,
	billingv1.RegisterAccessServiceHandler,
}

func newHTTPServer(ctx context.Context, conn *grpc.ClientConn, ready func(context.Context) error, g prometheus.Gatherer, log *slog.Logger, maxBody int64, bodyTimeout time.Duration, auth *rpc.Auth, withConsole bool) (*http.Server, error) {
	h, err := gateway.New(ctx, gateway.Config{
		Conn: conn, Services: gatewayServices, OpenAPI: openapiv2.Spec,
		Ready: ready, Gatherer: g, Logger: log, Authorize: auth.Admit,
	})
	if err != nil {
		return nil, err
	}
	if withConsole {
		// The console is static files; its data comes from /v1/ like any
		// other client's, with the user's key.
		mux := http.NewServeMux()
		mux.Handle("/", h)
		mux.Handle("/console", console.Handler())
		mux.Handle(console.Prefix, console.Handler())
		h = mux
	}
	return &http.Server{
		Handler:           authenticateBody(limitBody(boundBodyTime(h, bodyTimeout), maxBody), auth),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}, nil
}

// limitBody refuses a REST request body larger than max: 413 at once when
// Content-Length says so, else the gateway's read fails at max bytes and it
// answers 400 naming the limit. gRPC messages have their own limit
// (maxMessageBytes).
func limitBody(h http.Handler, max int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			gateway.WriteStatus(w, http.StatusRequestEntityTooLarge, status.Newf(codes.ResourceExhausted,
				"request body of %d bytes is larger than the limit of %d bytes (--max-body-bytes)", r.ContentLength, max))
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, max), max: max}
		}
		h.ServeHTTP(w, r)
	})
}

// limitedBody names the limit when a body without Content-Length exceeds it.
type limitedBody struct {
	io.ReadCloser
	max int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		err = fmt.Errorf("request body is larger than the limit of %d bytes (--max-body-bytes)", b.max)
	}
	return n, err
}

// authenticateBody refuses a request with a body from a caller without a
// valid key before anything reads the body, so that an unknown caller
// cannot hold a connection open by sending it slowly. Requests without a
// body are authenticated by the gRPC call as usual.
func authenticateBody(h http.Handler, auth *rpc.Auth) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			if err := auth.Authenticate(r.Context(), r.Header.Get("Authorization")); err != nil {
				// Closing the connection spares the server draining the
				// unread body before it answers.
				w.Header().Set("Connection", "close")
				st := status.Convert(err)
				gateway.WriteStatus(w, runtime.HTTPStatusFromCode(st.Code()), st)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// streamPath is the REST form of the client-streaming IngestUsage: its
// body is open for as long as the collector streams.
const streamPath = "/v1/usage:stream"

// boundBodyTime gives a request body timeout to arrive; the body of a
// usage stream gets timeout between two reads instead. The server has no
// ReadTimeout, which would also cut streams and long downloads.
func boundBodyTime(h http.Handler, timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			stream := r.URL.Path == streamPath
			if stream {
				// Acks go out while records still come in: without full
				// duplex, HTTP/1.1 may close the request body at the first
				// flushed ack and the stream's later batches are lost.
				_ = rc.EnableFullDuplex()
			}
			b := &timedBody{ReadCloser: r.Body, rc: rc, timeout: timeout, perRead: stream}
			b.extend()
			r.Body = b
		}
		h.ServeHTTP(w, r)
	})
}

// timedBody keeps the connection's read deadline while the body is read,
// and clears it at the end of the body: a deadline left behind would end
// the server's background read, which cancels the request's context.
type timedBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	perRead bool
	done    bool
}

func (b *timedBody) extend() { _ = b.rc.SetReadDeadline(time.Now().Add(b.timeout)) }

func (b *timedBody) Read(p []byte) (int, error) {
	if b.perRead {
		b.extend()
	}
	n, err := b.ReadCloser.Read(p)
	switch {
	case errors.Is(err, io.EOF) && !b.done:
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case err != nil:
		// The deadline stays: the server drains what is left of a body
		// before it answers, and must not wait for a slow one.
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			err = fmt.Errorf("the request body did not arrive within %v", b.timeout)
		}
	}
	return n, err
}
