package app_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
)

// trickle opens a connection to addr, sends a POST whose headers promise a
// 1000-byte body, then only the first bytes of it, and returns the answer
// and how long it took (or fails after limit).
func trickle(t *testing.T, addr, authorization string, limit time.Duration) (int, string, time.Duration) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	began := time.Now()
	_ = c.SetDeadline(began.Add(limit))
	head := "POST /v1/productGroups HTTP/1.1\r\nHost: billingd\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
	if authorization != "" {
		head += "Authorization: " + authorization + "\r\n"
	}
	if _, err := fmt.Fprintf(c, "%s\r\n{\"id\":", head); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", limit, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body), time.Since(began)
}

// TestSlowBodiesAreBounded: a caller without a valid key is refused
// before billingd reads its body, and a body that does not arrive in time
// ends the request, so trickling clients cannot hold connections open.
func TestSlowBodiesAreBounded(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.BootstrapAdminKey = bootstrapSecret
	a := launch(t, cfg, app.WithBodyTimeout(2*time.Second))
	addr := a.HTTPAddr()
	for _, auth := range []string{"", "Bearer not-a-key"} {
		if code, _, took := trickle(t, addr, auth, 10*time.Second); code != http.StatusUnauthorized || took > time.Second {
			t.Errorf("authorization %q: %d after %v, want 401 at once", auth, code, took)
		}
	}
	code, body, took := trickle(t, addr, "Bearer "+bootstrapSecret, 15*time.Second)
	if code != http.StatusBadRequest || !strings.Contains(body, "did not arrive within 2s") || took < 2*time.Second {
		t.Errorf("admin's slow body: %d %s after %v, want 400 naming the 2s body timeout", code, body, took)
	}
}

// TestUsageStreamOverRESTMayPause: the body timeout of a usage stream is
// per read, so a collector may stream for longer than it, pausing less;
// and every batch sent after the first ack is read and acknowledged (over
// HTTP/1.1 the body is kept open while acks are flushed: full duplex).
func TestUsageStreamOverRESTMayPause(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Auth = false
	a := launch(t, cfg, app.WithBodyTimeout(2*time.Second))
	pr, pw := io.Pipe()
	go func() {
		// 3 s in all, longer than the 2 s timeout, but 0.6 s between reads:
		// a wide margin below the timeout, so a loaded machine does not trip it
		for seq := 1; seq <= 5; seq++ {
			fmt.Fprintf(pw, `{"sequence":"%d","records":[{"idempotencyKey":"k%d","customerId":"acme","metricKey":"vm.vcpu","quantity":"1","time":"2026-10-01T00:00:00Z"}]}`+"\n", seq, seq)
			time.Sleep(600 * time.Millisecond)
		}
		pw.Close()
	}()
	resp, err := http.Post("http://"+a.HTTPAddr()+"/v1/usage:stream", "application/json", pr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(body), `"result"`); resp.StatusCode != http.StatusOK || n != 5 {
		t.Errorf("stream = %d with %d acks: %s; want 5", resp.StatusCode, n, body)
	}
}
