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

// Server is the billingd under test: a subprocess (the default of
// cmd/usagebench and cmd/querybench, so that its memory and CPU are its
// own) or, without a binary, an app in this process (needed for a Go CPU
// profile of it).
type Server struct {
	GRPCAddr string
	cmd      *exec.Cmd // nil in process
	stop     func()    // stops billingd and waits for it
}

// StartServer starts billingd on dbURL, with authentication off, and
// returns once it is ready: binary as a subprocess, or in this process
// when binary is empty. Its output goes to progress.
func StartServer(ctx context.Context, binary, dbURL string, progress io.Writer) (*Server, error) {
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
	s := &Server{GRPCAddr: grpcAddr, cmd: cmd}
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

func startInProcess(ctx context.Context, dbURL string) (*Server, error) {
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
	return &Server{GRPCAddr: a.GRPCAddr(), stop: func() { cancel(); <-done }}, nil
}

// Stop stops billingd (SIGTERM, then SIGKILL after 30 s) and waits for it.
func (s *Server) Stop() { s.stop() }

// InProcess reports whether billingd runs in this process, whose memory
// and CPU then include the harness's.
func (s *Server) InProcess() bool { return s.cmd == nil }

// PID is billingd's process id (this process when in process).
func (s *Server) PID() int {
	if s.cmd == nil {
		return os.Getpid()
	}
	return s.cmd.Process.Pid
}

// MaxRSS is billingd's peak resident set (VmHWM) so far, in bytes; -1
// when unknown.
func (s *Server) MaxRSS() int64 { return s.status("VmHWM:") }

// RSS is billingd's resident set (VmRSS) now, in bytes; -1 when unknown.
func (s *Server) RSS() int64 { return s.status("VmRSS:") }

// ResetMaxRSS sets billingd's VmHWM back to its current RSS (Linux's
// clear_refs "5"), so that MaxRSS then reports the peak of what follows.
func (s *Server) ResetMaxRSS() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.PID()), []byte("5"), 0)
}

// status reads one "<field> <n> kB" line of /proc/<pid>/status in bytes.
func (s *Server) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.PID()))
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field); ok {
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
