package rpc

import (
	"context"
	"log/slog"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/proto"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
)

// Authenticator turns a bearer secret into the principal it stands for
// (access.Service does, by the secret's hash).
type Authenticator interface {
	Authenticate(ctx context.Context, secret string) (access.Principal, error)
}

// AuthConfig configures the authentication and authorization interceptors.
type AuthConfig struct {
	// Enabled false runs every network call as access.Anonymous, an admin
	// (--auth=off, for development and tests only).
	Enabled bool
	Keys    Authenticator
	// RatePerSecond and Burst size each principal's token bucket; a
	// RatePerSecond of 0 means no limit.
	RatePerSecond float64
	Burst         int
	Log           *slog.Logger
}

// Auth holds the interceptors that authenticate every call, limit its
// rate per principal and enforce the access policy (access.RuleFor).
type Auth struct {
	cfg     AuthConfig
	limiter *limiter
}

// NewAuth returns the interceptors of cfg.
func NewAuth(cfg AuthConfig) *Auth {
	a := &Auth{cfg: cfg}
	if cfg.RatePerSecond > 0 {
		a.limiter = newLimiter(cfg.RatePerSecond, cfg.Burst, nil)
	}
	return a
}

// InProcessAuthInfo marks a connection made inside billingd rather than
// over the network. A System connection (the demo loader) runs as
// access.System without a key; the REST gateway's connection is not System:
// its calls carry the REST caller's Authorization header like any client's.
type InProcessAuthInfo struct {
	credentials.CommonAuthInfo
	System bool
}

// AuthType names the connection's security.
func (InProcessAuthInfo) AuthType() string { return "in-process" }

// Unary authenticates, rate-limits and authorizes a unary call, narrowing
// the request of a customer-scoped key to its customer (see
// access.AuthorizeMessage), then runs the handler as the principal.
func (a *Auth) Unary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		ctx = a.withRequestID(ctx, func(md metadata.MD) { _ = grpc.SetHeader(ctx, md) })
		if access.PublicMethod(info.FullMethod) {
			return next(ctx, req)
		}
		p, err := a.admit(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		if m, ok := req.(proto.Message); ok {
			if err := access.AuthorizeMessage(info.FullMethod, p, m); err != nil {
				return nil, a.status(ctx, err)
			}
		}
		return next(access.WithPrincipal(ctx, p), req)
	}
}

// Stream does for a stream what Unary does for a call; every message the
// client sends is held to the policy, and each one after the first waits
// for a token of the principal's bucket, which slows a fast stream down
// rather than ending it.
func (a *Auth) Stream() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
		ctx := a.withRequestID(ss.Context(), func(md metadata.MD) { _ = ss.SetHeader(md) })
		if access.PublicMethod(info.FullMethod) {
			return next(srv, &authStream{ServerStream: ss, ctx: ctx})
		}
		p, err := a.admit(ctx, info.FullMethod)
		if err != nil {
			return err
		}
		return next(srv, &authStream{ServerStream: ss, ctx: access.WithPrincipal(ctx, p), auth: a, method: info.FullMethod, p: p, checked: true})
	}
}

type authStream struct {
	grpc.ServerStream
	ctx      context.Context
	auth     *Auth
	method   string
	p        access.Principal
	checked  bool // hold messages to the policy
	received int
}

func (s *authStream) Context() context.Context { return s.ctx }

func (s *authStream) RecvMsg(m any) error {
	if s.checked && s.received > 0 {
		if err := s.auth.wait(s.ctx, s.p); err != nil {
			return s.auth.status(s.ctx, err)
		}
	}
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	s.received++
	if pm, ok := m.(proto.Message); ok && s.checked {
		if err := access.AuthorizeMessage(s.method, s.p, pm); err != nil {
			return s.auth.status(s.ctx, err)
		}
	}
	return nil
}

// Admit is the check Unary and Stream make before a call to fullMethod,
// for a caller outside gRPC (the REST download) that sends authorization
// as its header: nil, or the Unauthenticated, PermissionDenied or
// ResourceExhausted status the call would get.
func (a *Auth) Admit(ctx context.Context, fullMethod, authorization string) error {
	md := metadata.MD{}
	if authorization != "" {
		md.Set("authorization", authorization)
	}
	_, err := a.admit(metadata.NewIncomingContext(ctx, md), fullMethod)
	return err
}

// Authenticate checks only who calls, for a caller outside gRPC that sends
// authorization as its header: the REST side refuses an unknown caller
// before it reads a request body. Rights are checked by the call itself.
func (a *Auth) Authenticate(ctx context.Context, authorization string) error {
	md := metadata.MD{}
	if authorization != "" {
		md.Set("authorization", authorization)
	}
	if _, err := a.authenticate(metadata.NewIncomingContext(ctx, md)); err != nil {
		return a.status(ctx, err)
	}
	return nil
}

// admit authenticates the caller, takes a token of its bucket and checks
// that its role may call method.
func (a *Auth) admit(ctx context.Context, method string) (access.Principal, error) {
	p, err := a.authenticate(ctx)
	if err != nil {
		return p, a.status(ctx, err)
	}
	if err := a.allow(p); err != nil {
		return p, a.status(ctx, err)
	}
	if err := access.AuthorizeCall(method, p); err != nil {
		return p, a.status(ctx, err)
	}
	return p, nil
}

// authenticate finds who calls: billingd itself over its in-process
// connection, anyone when auth is off, else the bearer key, else a client
// certificate the --client-ca verified (a collector).
func (a *Auth) authenticate(ctx context.Context) (access.Principal, error) {
	pr, _ := peer.FromContext(ctx)
	if pr != nil {
		if info, ok := pr.AuthInfo.(InProcessAuthInfo); ok && info.System {
			return access.System, nil
		}
	}
	if !a.cfg.Enabled {
		return access.Anonymous, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	switch vals := md.Get("authorization"); len(vals) {
	case 0:
	case 1:
		secret, ok := bearer(vals[0])
		if !ok {
			return access.Principal{}, apperr.New(apperr.KindUnauthenticated, `authorization must be "Bearer <API key>"`)
		}
		return a.cfg.Keys.Authenticate(ctx, secret)
	default:
		return access.Principal{}, apperr.New(apperr.KindUnauthenticated, "send one authorization header, not %d", len(vals))
	}
	if pr != nil {
		if info, ok := pr.AuthInfo.(credentials.TLSInfo); ok && len(info.State.VerifiedChains) > 0 && len(info.State.PeerCertificates) > 0 {
			return certCollector(info.State.PeerCertificates[0].Subject.CommonName, info.State.PeerCertificates[0].SerialNumber.Text(16)), nil
		}
	}
	return access.Principal{}, apperr.New(apperr.KindUnauthenticated, "missing API key: send authorization: Bearer <API key>")
}

// certCollector is the principal of a client certificate signed by the
// --client-ca: an unscoped collector named after the certificate's common
// name (its serial number when it has none).
func certCollector(commonName, serial string) access.Principal {
	name := commonName
	if name == "" {
		name = "serial-" + serial
	}
	return access.Principal{ID: "cert:" + name, Role: access.RoleCollector}
}

// bearer returns the secret of an "Bearer <secret>" header value.
func bearer(v string) (string, bool) {
	scheme, secret, ok := strings.Cut(strings.TrimSpace(v), " ")
	secret = strings.TrimSpace(secret)
	return secret, ok && strings.EqualFold(scheme, "bearer") && secret != ""
}

func (a *Auth) status(ctx context.Context, err error) error { return ToStatus(ctx, a.log(), err) }

func (a *Auth) log() *slog.Logger {
	if a.cfg.Log != nil {
		return a.cfg.Log
	}
	return slog.Default()
}

// maxRequestIDLen bounds a client's x-request-id.
const maxRequestIDLen = 128

// withRequestID gives the call an id, recorded with every audit event it
// causes: the client's x-request-id when it is short printable text, else
// a new UUID. The id is sent back in the x-request-id response header.
func (a *Auth) withRequestID(ctx context.Context, send func(metadata.MD)) context.Context {
	md, _ := metadata.FromIncomingContext(ctx)
	id := ""
	if vals := md.Get("x-request-id"); len(vals) == 1 && validRequestID(vals[0]) {
		id = vals[0]
	} else if u, err := uuid.NewV7(); err == nil {
		id = u.String()
	}
	send(metadata.Pairs("x-request-id", id))
	return access.WithRequestID(ctx, id)
}

func validRequestID(s string) bool {
	if s == "" || len(s) > maxRequestIDLen {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
