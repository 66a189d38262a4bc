// Package gateway serves billingd's HTTP side: the REST/JSON gateway onto
// the gRPC API, /openapi.json, /healthz, /readyz and /metrics. It forwards
// REST calls to billingd's own gRPC listener so that validation, auth and
// metrics apply to both transports alike; it holds no business logic.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// RegisterFunc registers one generated service handler on the gateway mux,
// e.g. billingv1.RegisterCatalogServiceHandler.
type RegisterFunc func(ctx context.Context, mux *runtime.ServeMux, conn *grpc.ClientConn) error

// Config is what the HTTP side needs.
type Config struct {
	Conn     *grpc.ClientConn            // client connection to billingd's own gRPC server
	Services []RegisterFunc              // generated gateway registrations
	OpenAPI  []byte                      // the generated OpenAPI document
	Ready    func(context.Context) error // nil error means ready (the database answers)
	Gatherer prometheus.Gatherer         // metrics registry
	Logger   *slog.Logger
	// Authorize checks that the caller sending the Authorization header
	// may call a gRPC method, for handlers that answer some requests
	// without calling it (the report download's bad parameters).
	Authorize func(ctx context.Context, fullMethod, authorization string) error
}

func (c Config) validate() error {
	var errs []error
	if c.Conn == nil {
		errs = append(errs, errors.New("gateway: Conn is required"))
	}
	if c.Ready == nil {
		errs = append(errs, errors.New("gateway: Ready is required"))
	}
	if c.Gatherer == nil {
		errs = append(errs, errors.New("gateway: Gatherer is required"))
	}
	if c.Logger == nil {
		errs = append(errs, errors.New("gateway: Logger is required"))
	}
	if c.Authorize == nil {
		errs = append(errs, errors.New("gateway: Authorize is required"))
	}
	return errors.Join(errs...)
}

// New returns the HTTP handler of billingd.
func New(ctx context.Context, cfg Config) (http.Handler, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	mux := runtime.NewServeMux(
		// Field names as in the protos' JSON mapping (lowerCamel), and
		// zero values included so clients see "0" amounts and empty lists.
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		}),
		runtime.WithRoutingErrorHandler(routingError(newAllowIndex(cfg.OpenAPI))),
		runtime.WithErrorHandler(errorHandler),
	)
	for _, register := range cfg.Services {
		if err := register(ctx, mux, cfg.Conn); err != nil {
			return nil, err
		}
	}

	root := http.NewServeMux()
	root.Handle("/v1/", mux)
	root.Handle("GET /v1/reports/billing", reportDownload(cfg.Conn, cfg.Logger, cfg.Authorize))
	root.HandleFunc("/v1/reports/billing", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, HEAD")
		methodNotAllowed(w, r)
	})
	root.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(cfg.OpenAPI)
	})
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	root.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := cfg.Ready(ctx); err != nil {
			cfg.Logger.WarnContext(ctx, "not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database does not answer"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	root.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	return requireUTF8(root), nil
}

// requireUTF8 answers 400 to a path or query parameter that is not UTF-8:
// protobuf strings must be, so the gateway could not forward it (it would
// fail marshalling the request, a 500).
func requireUTF8(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !utf8.ValidString(r.URL.Path) {
			writeFieldError(w, "path", "must be valid UTF-8 once percent-decoded")
			return
		}
		for name, values := range r.URL.Query() {
			if !utf8.ValidString(name) {
				writeFieldError(w, "query", "parameter names must be valid UTF-8 once percent-decoded")
				return
			}
			for _, v := range values {
				if !utf8.ValidString(v) {
					writeFieldError(w, name, "must be valid UTF-8 once percent-decoded")
					return
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// routingError answers a method the path does not serve with 405 Method
// Not Allowed and the methods it does serve: the gateway's default says
// 501, as if the server could not do it at all. Other routing errors keep
// the default.
func routingError(allow allowIndex) runtime.RoutingErrorHandlerFunc {
	return func(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, code int) {
		if code != http.StatusMethodNotAllowed {
			runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, code)
			return
		}
		if methods := allow.allowed(r.URL.Path); methods != "" {
			w.Header().Set("Allow", methods)
		}
		methodNotAllowed(w, r)
	}
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	WriteStatus(w, http.StatusMethodNotAllowed, status.Newf(codes.Unimplemented, "method %s is not allowed on %s", r.Method, r.URL.Path))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
