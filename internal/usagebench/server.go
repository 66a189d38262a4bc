package usagebench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/billingd/billingd/internal/app"
	"github.com/billingd/billingd/internal/config"
)

// server is the billingd under test: a subprocess (the default of
// cmd/usagebench, so that its memory and CPU are its own) or, without a
// binary, an app in this process (needed for a Go CPU profile of it).
type server struct {
	grpcAddr string
	cmd      *exec.Cmd // nil in process
	stop     func()    // stops billingd and waits for it
}

// startServer starts billingd on dbURL and returns once it is ready.
func startServer(ctx context.Context, binary, dbURL string, progress io.Writer) (*server, error) {
	if binary == "" {
		return startInProcess(ctx, dbURL)
	}
	grpcAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "serve", "--database-url", dbURL, "--grpc-addr", grpcAddr, "--http-addr", httpAddr,
		"--auth=off", "--log-level", "warn") // measured: ingestion; API keys would add one hash lookup per stream
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	s := &server{grpcAddr: grpcAddr, cmd: cmd}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s.stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	// Ready when /readyz answers 200: migrated and connected.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("billingd exited before it was ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, errors.New("billingd was not ready within 2 minutes")
		}
	}
}

func startInProcess(ctx context.Context, dbURL string) (*server, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Default()
	cfg.DatabaseURL, cfg.GRPCAddr, cfg.HTTPAddr = dbURL, "127.0.0.1:0", "127.0.0.1:0"
	cfg.Auth = false
	runCtx, cancel := context.WithCancel(ctx)
	a, err := app.New(runCtx, cfg, log)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("start billingd: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	return &server{grpcAddr: a.GRPCAddr(), stop: func() { cancel(); <-done }}, nil
}

// pid is billingd's process id (this process when in process).
func (s *server) pid() int {
	if s.cmd == nil {
		return os.Getpid()
	}
	return s.cmd.Process.Pid
}

// maxRSS is billingd's peak resident set (VmHWM) so far, in bytes.
func (s *server) maxRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid()))
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
