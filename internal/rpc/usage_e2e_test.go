package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	billingv1 "github.com/billingd/billingd/gen/go/billing/v1"
	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// Whole billingd processes ingesting usage: two replicas on one database,
// the REST gateway, and a billingd killed with SIGKILL mid-stream.

// usageReplica is a billingd started in this process.
type usageReplica struct {
	usage billingv1.UsageServiceClient
	http  string
}

func startUsageReplica(t *testing.T, dbURL string) *usageReplica {
	t.Helper()
	cfg := config.Default()
	cfg.DatabaseURL, cfg.GRPCAddr, cfg.HTTPAddr = dbURL, "127.0.0.1:0", "127.0.0.1:0"
	cfg.Auth = false // ingestion without API keys; access has its own tests
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &usageReplica{usage: billingv1.NewUsageServiceClient(conn), http: "http://" + a.HTTPAddr()}
}

// TestIngestUsageExactlyOnceAcrossReplicas streams the same 10,000 records
// through two billingd replicas at once, twice over, and once more through
// one: exactly 10,000 are stored and the quantities add up.
func TestIngestUsageExactlyOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	db := usageConnect(t, url)
	usageSeed(t, db)
	replicas := []*usageReplica{startUsageReplica(t, url), startUsageReplica(t, url)}
	const n = 10_000
	batches := usageBatches("rep", n, 1000)
	ctx := context.Background()

	var (
		wg                   sync.WaitGroup
		mu                   sync.Mutex
		accepted, duplicates int
	)
	for round := range 2 {
		for _, r := range replicas {
			wg.Go(func() {
				acks, err := usageStream(ctx, r.usage, batches, 0, nil)
				if err != nil {
					t.Errorf("round %d: %v", round, err)
				}
				a, d, _ := usageTotals(acks)
				mu.Lock()
				accepted, duplicates = accepted+a, duplicates+d
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	acks, err := usageStream(ctx, replicas[1].usage, batches, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, d, _ := usageTotals(acks)
	if accepted != n || duplicates != 3*n || a != 0 || d != n {
		t.Errorf("accepted %d + %d, duplicates %d + %d; want %d accepted in all, the rest duplicates", accepted, a, duplicates, d, n)
	}
	wantUsageStored(t, db, n)
}

// TestIngestUsageOverREST posts a batch as JSON to POST /v1/usage:ingest.
func TestIngestUsageOverREST(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	db := usageConnect(t, url)
	usageSeed(t, db)
	r := startUsageReplica(t, url)
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	body := fmt.Sprintf(`{"records": [
		{"idempotencyKey": "r1", "customerId": "acme", "metricKey": "vm.vcpu", "quantity": "4", "time": %q,
		 "resourceId": "vm-1", "dimensions": {"policy": "Gold"}},
		{"idempotencyKey": "r2", "customerId": "acme", "metricKey": "vm.vcpu", "quantity": "1e3", "time": %q},
		{"idempotency_key": "r3", "customer_id": "globex", "metric_key": "net.egress_gb", "quantity": "0.25",
		 "start_time": %q, "end_time": %q}
	]}`, at, at, at, time.Now().UTC().Format(time.RFC3339))
	code, raw := usagePost(t, r.http+"/v1/usage:ingest", body)
	if code != http.StatusOK {
		t.Fatalf("POST /v1/usage:ingest = %d %s", code, raw)
	}
	var res billingv1.BatchIngestUsageResponse
	if err := protojson.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	rej := res.GetRejected()
	if res.GetAccepted() != 2 || len(rej) != 1 || rej[0].GetIndex() != 1 || rej[0].GetField() != "quantity" || rej[0].GetIdempotencyKey() != "r2" {
		t.Errorf("response %s", raw)
	}
	code, raw = usagePost(t, r.http+"/v1/usage:ingest", body)
	if code != http.StatusOK || !strings.Contains(string(raw), `"duplicates":2`) {
		t.Errorf("resent: %d %s", code, raw)
	}
	// Over the size limit: 400 naming "records".
	var recs []string
	for i := range 10_001 {
		recs = append(recs, fmt.Sprintf(`{"idempotencyKey": "big-%d", "customerId": "acme", "metricKey": "vm.vcpu", "quantity": "1", "time": %q}`, i, at))
	}
	code, raw = usagePost(t, r.http+"/v1/usage:ingest", `{"records": [`+strings.Join(recs, ",")+`]}`)
	if code != http.StatusBadRequest || !strings.Contains(string(raw), `"records"`) {
		t.Errorf("10,001 records: %d %.300s", code, raw)
	}
	var stored int
	if err := db.QueryRow(context.Background(), "SELECT count(*) FROM usage_records").Scan(&stored); err != nil || stored != 2 {
		t.Errorf("%d records stored, %v; want 2", stored, err)
	}
}

func usagePost(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && !json.Valid(raw) {
		t.Fatalf("not JSON: %s", raw)
	}
	return resp.StatusCode, raw
}

// buildBillingd builds cmd/billingd into dir.
func buildBillingd(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "billingd")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/billingd/billingd/cmd/billingd").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// usageProcess is billingd running as a child process.
type usageProcess struct {
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	usage  billingv1.UsageServiceClient
	conn   *grpc.ClientConn
	exited chan struct{}
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startUsageProcess(t *testing.T, bin, dbURL string) *usageProcess {
	t.Helper()
	var err error
	grpcAddr := freeAddr(t)
	p := &usageProcess{logs: &bytes.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "--database-url", dbURL, "--grpc-addr", grpcAddr, "--http-addr", freeAddr(t), "--log-level", "warn", "--auth=off")
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill(t) })
	if p.conn, err = grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.conn.Close() })
	p.usage = billingv1.NewUsageServiceClient(p.conn)
	// Ready when it answers a call.
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := p.usage.ListUsage(ctx, &billingv1.ListUsageRequest{PageSize: 1})
		cancel()
		if err == nil {
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("billingd exited: %s", p.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("billingd not ready after 60s: %v\n%s", err, p.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *usageProcess) kill(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Error("billingd did not die on SIGKILL")
	}
}

// TestIngestUsageSurvivesKill9 kills billingd with SIGKILL in the middle
// of a stream. Every batch it acknowledged is in the database; a new
// billingd takes the resent rest (from the last acknowledgement) and then
// the whole stream once more, and the totals are exact.
func TestIngestUsageSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs billingd as a process")
	}
	t.Parallel()
	url := pgtest.NewDatabase(t)
	db := usageConnect(t, url)
	usageSeed(t, db)
	const n, size, killAfter = 10_000, 250, 10
	batches := usageBatches("crash", n, size)
	ctx := context.Background()

	bin := buildBillingd(t, t.TempDir())
	first := startUsageProcess(t, bin, url)
	acks, err := usageStream(ctx, first.usage, batches, 0, func(ack *billingv1.IngestUsageResponse) {
		if ack.GetSequence() == killAfter {
			first.kill(t) // with more batches in flight
		}
	})
	if err == nil {
		t.Fatal("the stream survived SIGKILL")
	}
	acked := len(acks)
	if acked < killAfter || acked == len(batches) {
		t.Fatalf("%d batches acknowledged, want at least %d and not all", acked, killAfter)
	}
	// Every acknowledged batch is stored.
	var keys []string
	for _, b := range batches[:acked] {
		for _, r := range b {
			keys = append(keys, r.GetIdempotencyKey())
		}
	}
	var stored int
	if err := db.QueryRow(ctx, "SELECT count(*) FROM usage_records WHERE idempotency_key = ANY($1)", keys).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != len(keys) {
		t.Fatalf("%d of the %d acknowledged records are stored", stored, len(keys))
	}
	// A batch the kill caught in flight is stored whole or not at all.
	inFlight := 0
	for i, b := range batches[acked:] {
		var bk []string
		for _, r := range b {
			bk = append(bk, r.GetIdempotencyKey())
		}
		if err := db.QueryRow(ctx, "SELECT count(*) FROM usage_records WHERE idempotency_key = ANY($1)", bk).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		switch stored {
		case 0:
		case len(bk):
			inFlight++
		default:
			t.Errorf("batch %d, unacknowledged, is stored in part: %d of %d records", acked+i+1, stored, len(bk))
		}
	}
	t.Logf("killed after %d acknowledged batches (%d records); %d more were committed unacknowledged", acked, len(keys), inFlight)

	// The collector resends from its last acknowledgement, to a new billingd.
	second := startUsageProcess(t, bin, url)
	rest, err := usageStream(ctx, second.usage, batches, acked, nil)
	if err != nil {
		t.Fatal(err)
	}
	accepted, duplicates, _ := usageTotals(rest)
	a0, _, _ := usageTotals(acks)
	// Batches sent after the last acknowledgement may have been committed
	// before the kill: those come back as duplicates.
	if a0+accepted+duplicates != n {
		t.Errorf("accepted %d before and %d after the kill with %d duplicates; want %d in all", a0, accepted, duplicates, n)
	}
	wantUsageStored(t, db, n)

	// And a collector that resends everything changes nothing.
	all, err := usageStream(ctx, second.usage, batches, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, d, _ := usageTotals(all); a != 0 || d != n {
		t.Errorf("full resend: %d accepted, %d duplicates; want 0 and %d", a, d, n)
	}
	wantUsageStored(t, db, n)
}
