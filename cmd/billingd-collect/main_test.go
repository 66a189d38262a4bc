package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
)

// ackAll is a UsageService that acknowledges every record as accepted.
type ackAll struct {
	billingv1.UnimplementedUsageServiceServer
	mu      sync.Mutex
	records []*billingv1.UsageRecord
	auth    []string
}

func (a *ackAll) IngestUsage(stream grpc.BidiStreamingServer[billingv1.IngestUsageRequest, billingv1.IngestUsageResponse]) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		a.mu.Lock()
		a.records = append(a.records, req.GetRecords()...)
		a.mu.Unlock()
		if err := stream.Send(&billingv1.IngestUsageResponse{Sequence: req.GetSequence(), Accepted: int32(len(req.GetRecords()))}); err != nil {
			return err
		}
	}
}

// TestOnceCollectsAndPushes runs the command as an operator would: a config
// file naming a (simulated) vCenter and billingd, credentials in files, and
// a state directory left by an earlier run an hour ago; --once pushes the
// hour since.
func TestOnceCollectsAndPushes(t *testing.T) {
	model := simulator.VPX()
	if err := model.Create(); err != nil {
		t.Fatal(err)
	}
	defer model.Remove()
	model.Service.Listen = &url.URL{User: url.UserPassword("billing", "vc-secret")}
	vc := model.Service.NewServer()
	defer vc.Close()

	fake := &ackAll{}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.StreamInterceptor(func(s any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if md, ok := metadataFrom(ss.Context()); ok {
			fake.mu.Lock()
			fake.auth = append(fake.auth, md...)
			fake.mu.Unlock()
		}
		return h(s, ss)
	}))
	billingv1.RegisterUsageServiceServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pw := write("vc-password", "vc-secret\n")
	tok := write("token", "collector-token\n")
	u := *vc.URL
	u.User = nil
	cfg := write("collectors.yaml", fmt.Sprintf(`
billingd: {address: %q, plaintext: true, token: {file: %s}}
state_dir: %s
sources:
  - name: vc01
    interval: 1h
    vcenter:
      url: %s
      username: billing
      password: {file: %s}
      default_customer: acme
`, lis.Addr().String(), tok, filepath.Join(dir, "state"), u.String(), pw))

	if err := os.MkdirAll(filepath.Join(dir, "state", "vc01"), 0o700); err != nil {
		t.Fatal(err)
	}
	hourAgo := time.Now().UTC().Add(-time.Hour).Truncate(time.Second).Format(time.RFC3339)
	write(filepath.Join("state", "vc01", "state.json"), `{"cursor":"`+hourAgo+`","window":7}`)

	var stderr bytes.Buffer
	if err := run([]string{"--config", cfg, "--once"}, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	state, err := os.ReadFile(filepath.Join(dir, "state", "vc01", "state.json"))
	if err != nil || !strings.Contains(string(state), `"window":8`) || strings.Contains(string(state), hourAgo) {
		t.Errorf("state after the run: %s, %v; want window 8 and a new cursor", state, err)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	// vcsim's VPX model: 4 VMs × (vcpu, memory, power, 2 storage) records.
	if len(fake.records) != 20 {
		t.Errorf("billingd got %d records, want 20", len(fake.records))
	}
	for _, r := range fake.records {
		if r.GetCustomerId() != "acme" || r.GetSource() != "vcenter:vc01" {
			t.Errorf("record %v", r)
			break
		}
	}
	if len(fake.auth) == 0 || fake.auth[0] != "Bearer collector-token" {
		t.Errorf("authorization sent: %q", fake.auth)
	}
	for _, secret := range []string{"vc-secret", "collector-token"} {
		if strings.Contains(stderr.String(), secret) {
			t.Errorf("the log shows a secret:\n%s", stderr.String())
		}
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("BILLINGD_COLLECT_CONFIG", "/nonexistent/from-env.yaml")
	err := run(nil, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/from-env.yaml") {
		t.Errorf("run = %v, want the config named by the environment", err)
	}
	err = run([]string{"--config", "/nonexistent/from-flag.yaml"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "from-flag.yaml") {
		t.Errorf("run = %v, want the flag to win over the environment", err)
	}
}

// metadataFrom returns the authorization headers of a call.
func metadataFrom(ctx context.Context) ([]string, bool) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return nil, false
	}
	return md.Get("authorization"), true
}
