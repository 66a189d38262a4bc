// Package apptest runs a whole billingd in-process for tests of its
// clients (billingctl, the demo, the console, the API itself). Tests only;
// production code must not import it.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
)

// Start runs billingd with cfg on loopback ports chosen by the system,
// writing its log to logs (nil: discarded), and stops it when the test
// ends, failing the test if it does not stop cleanly within 30 s.
func Start(t testing.TB, cfg config.Config, logs io.Writer, opts ...app.Option) *app.App {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), opts...)
	if err != nil {
		cancel()
		t.Fatalf("app.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("billingd Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("billingd did not stop within 30s")
		}
	})
	return a
}
