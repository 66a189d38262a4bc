package rpc

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
)

// TestEveryMethodHasAnAccessRule walks the generated descriptors: a new RPC
// without a rule in access's policy table fails here, and so does a rule
// for a method that no longer exists or whose field paths do not fit.
func TestEveryMethodHasAnAccessRule(t *testing.T) {
	_ = billingv1.File_billing_v1_access_proto // link every billing.v1 file
	seen := map[string]bool{}
	protoregistry.GlobalFiles.RangeFilesByPackage("billing.v1", func(f protoreflect.FileDescriptor) bool {
		for i := range f.Services().Len() {
			svc := f.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				name := "/" + string(svc.FullName()) + "/" + string(m.Name())
				seen[name] = true
				r, ok := access.RuleFor(name)
				if !ok {
					t.Errorf("%s has no access rule in internal/access/policy_table.go", name)
					continue
				}
				if err := r.CheckPaths(m.Input()); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if len(r.Roles) == 0 {
					t.Errorf("%s: no role may call it", name)
				}
			}
		}
		return true
	})
	if len(seen) < 60 { // 65 when written
		t.Fatalf("found only %d methods; are the generated files linked?", len(seen))
	}
	for _, m := range access.Methods() {
		if !seen[m] {
			t.Errorf("access rule for %s, which no service declares", m)
		}
	}
}

func TestBearer(t *testing.T) {
	for _, tc := range []struct {
		in, secret string
		ok         bool
	}{
		{"Bearer bk_x", "bk_x", true},
		{"bearer  bk_x ", "bk_x", true},
		{"Basic abc", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"bk_x", "", false},
	} {
		secret, ok := bearer(tc.in)
		if ok != tc.ok || (ok && secret != tc.secret) {
			t.Errorf("bearer(%q) = %q, %v", tc.in, secret, ok)
		}
	}
}

func TestLimiterRefillsAtTheRate(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(2, 3, func() time.Time { return now })
	for i := range 3 {
		if !l.allow("k") {
			t.Fatalf("call %d of the burst refused", i+1)
		}
	}
	if l.allow("k") {
		t.Fatal("call 4 allowed beyond the burst")
	}
	if !l.allow("other") {
		t.Fatal("another key shares the bucket")
	}
	now = now.Add(500 * time.Millisecond) // 2/s: one token back
	if !l.allow("k") || l.allow("k") {
		t.Fatal("after 0.5s exactly one call should pass")
	}
	if d, _ := l.take("k", true); d != 500*time.Millisecond {
		t.Fatalf("a reservation on an empty bucket waits %v, want 500ms", d)
	}
}

// fakeKeys authenticates the secrets of a map.
type fakeKeys map[string]access.Principal

func (f fakeKeys) Authenticate(_ context.Context, secret string) (access.Principal, error) {
	p, ok := f[secret]
	if !ok {
		return p, apperr.New(apperr.KindUnauthenticated, "invalid API key")
	}
	return p, nil
}

// echoCatalog answers GetMetric with the principal it ran as.
type echoCatalog struct {
	billingv1.UnimplementedCatalogServiceServer
}

func (echoCatalog) GetMetric(ctx context.Context, _ *billingv1.GetMetricRequest) (*billingv1.GetMetricResponse, error) {
	p, _ := access.FromContext(ctx)
	return &billingv1.GetMetricResponse{Metric: &billingv1.Metric{Key: p.ID, Description: access.RequestID(ctx)}}, nil
}

func serveAuth(t *testing.T, cfg AuthConfig) billingv1.CatalogServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 16)
	a := NewAuth(cfg)
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(a.Unary()), grpc.ChainStreamInterceptor(a.Stream()))
	billingv1.RegisterCatalogServiceServer(srv, echoCatalog{})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return billingv1.NewCatalogServiceClient(conn)
}

func TestAuthInterceptor(t *testing.T) {
	keys := fakeKeys{"r": {ID: "reader-1", Role: access.RoleReader}, "c": {ID: "coll-1", Role: access.RoleCollector}}
	c := serveAuth(t, AuthConfig{Enabled: true, Keys: keys, RatePerSecond: 1, Burst: 2})
	call := func(md ...string) (*billingv1.GetMetricResponse, error) {
		ctx := metadata.AppendToOutgoingContext(context.Background(), md...)
		return c.GetMetric(ctx, &billingv1.GetMetricRequest{MetricKey: "vm.vcpu"})
	}
	for _, tc := range []struct {
		name string
		md   []string
		want codes.Code
	}{
		{"no key", nil, codes.Unauthenticated},
		{"unknown key", []string{"authorization", "Bearer nope"}, codes.Unauthenticated},
		{"not bearer", []string{"authorization", "Basic cjpy"}, codes.Unauthenticated},
		{"two keys", []string{"authorization", "Bearer r", "authorization", "Bearer c"}, codes.Unauthenticated},
		{"wrong role", []string{"authorization", "Bearer c"}, codes.PermissionDenied},
	} {
		if _, err := call(tc.md...); status.Code(err) != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	res, err := call("authorization", "Bearer r", "x-request-id", "trace-42")
	if err != nil {
		t.Fatal(err)
	}
	if res.GetMetric().GetKey() != "reader-1" || res.GetMetric().GetDescription() != "trace-42" {
		t.Errorf("handler ran as %q with request id %q", res.GetMetric().GetKey(), res.GetMetric().GetDescription())
	}
	// The burst of 2 is spent (one call above); the next is refused.
	_, _ = call("authorization", "Bearer r")
	_, err = call("authorization", "Bearer r")
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(status.Convert(err).Message(), "rate limit") {
		t.Errorf("beyond the burst: %v, want ResourceExhausted naming the rate limit", err)
	}
}

func TestAuthOffRunsAsAnonymousAdmin(t *testing.T) {
	c := serveAuth(t, AuthConfig{Enabled: false, RatePerSecond: 1, Burst: 1})
	for range 3 { // anonymous is not rate limited
		res, err := c.GetMetric(context.Background(), &billingv1.GetMetricRequest{MetricKey: "vm.vcpu"})
		if err != nil || res.GetMetric().GetKey() != access.Anonymous.ID {
			t.Fatalf("auth off: %v, %v", res, err)
		}
	}
}

func TestTimeoutUnaryNamesTheLimit(t *testing.T) {
	slow := func(ctx context.Context, _ any) (any, error) {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}
	_, err := TimeoutUnary(20*time.Millisecond)(context.Background(), nil, &grpc.UnaryServerInfo{}, slow)
	if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(err.Error(), "--rpc-timeout") {
		t.Fatalf("err = %v, want DeadlineExceeded naming --rpc-timeout", err)
	}
	// A caller's own deadline is left alone.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = TimeoutUnary(time.Hour)(ctx, nil, &grpc.UnaryServerInfo{}, slow)
	if status.Code(err) != codes.DeadlineExceeded || strings.Contains(err.Error(), "--rpc-timeout") {
		t.Fatalf("err = %v, want the caller's own DeadlineExceeded", err)
	}
}
