package embedded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// needBinaries skips the test when no PostgreSQL server binaries exist.
func needBinaries(t *testing.T) {
	t.Helper()
	if _, err := Find(""); err != nil {
		t.Skipf("no PostgreSQL server binaries: %v", err)
	}
}

// dataDir is a fresh temp dir. t.TempDir makes its dirs 0700; as root the
// postgres user must be able to traverse them, so open them up (o+x).
func dataDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if os.Geteuid() == 0 {
		for p := d; p != filepath.Clean(os.TempDir()) && p != filepath.Dir(p); p = filepath.Dir(p) {
			if err := os.Chmod(p, 0o711); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(d, "data") // let Start create the last level
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	c, err := Start(ctx, Config{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Logf("Start took %v", time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	return c
}

func stop(t *testing.T, c *Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func query(t *testing.T, c *Cluster, sql string, args ...any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatalf("connect %s: %v", c.URL(), err)
	}
	defer conn.Close(context.Background())
	var s string
	if err := conn.QueryRow(ctx, sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func assertGone(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postmaster pid %d still exists (kill 0: %v)", pid, err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still has members (kill 0: %v)", pid, err)
	}
}

func TestStartQueryStop(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	c := start(t, dataDir(t))
	want := fmt.Sprintf("postgres://billingd@127.0.0.1:%d/billingd?sslmode=disable", c.port)
	if c.URL() != want {
		t.Errorf("URL = %q, want %q", c.URL(), want)
	}
	if got := query(t, c, "SELECT current_database() || ' ' || current_user || ' ' || current_setting('fsync')"); got != "billingd billingd on" {
		t.Errorf("got %q", got)
	}
	pid := c.cmd.Process.Pid
	stop(t, c)
	assertGone(t, pid)
	if err := c.Stop(context.Background()); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestLongDataDirUsesTempSocketDir(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	dir := filepath.Join(dataDir(t), strings.Repeat("long-path-", 10))
	c := start(t, dir)
	if !c.tmpSock || !strings.HasPrefix(c.sockDir, os.TempDir()) {
		t.Errorf("socket dir = %q (tmp=%v), want one under %s", c.sockDir, c.tmpSock, os.TempDir())
	}
	query(t, c, "SELECT 'ok'")
	stop(t, c)
	if _, err := os.Stat(c.sockDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp socket dir %s not removed: %v", c.sockDir, err)
	}
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	dir := dataDir(t)
	c := start(t, dir)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	stop(t, c)

	c2 := start(t, dir)
	if got := query(t, c2, "SELECT v FROM kept"); got != "still here" {
		t.Errorf("after restart got %q", got)
	}
	stop(t, c2)
}

func TestStalePidFileRecovery(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	dir := dataDir(t)
	c := start(t, dir)
	pid := c.cmd.Process.Pid
	// Simulate a crash: SIGKILL the postmaster and its backends.
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
	if _, err := os.Stat(filepath.Join(dir, "pg", "postmaster.pid")); err != nil {
		t.Fatalf("expected a stale postmaster.pid after kill -9: %v", err)
	}
	if err := c.Stop(context.Background()); err == nil {
		t.Error("Stop after a crash should report the unexpected exit")
	}
	assertGone(t, pid)

	c2 := start(t, dir)
	query(t, c2, "SELECT 'ok'")
	stop(t, c2)
}

func TestSecondStartOnSameDirFails(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	dir := dataDir(t)
	c := start(t, dir)
	_, err := Start(context.Background(), Config{DataDir: dir, Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), "in use by a running postgres") {
		t.Fatalf("second Start on a live data dir: err = %v", err)
	}
	query(t, c, "SELECT 'first one unharmed'")
}

func TestFindBogusBinDir(t *testing.T) {
	t.Parallel()
	_, err := Find("/nonexistent/pg/bin")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	for _, want := range []string{"/nonexistent/pg/bin", "apt install postgresql", "--database-url"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := Start(context.Background(), Config{DataDir: t.TempDir(), BinDir: "/nonexistent"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Start with bogus BinDir: %v", err)
	}
}

func TestVersionOrder(t *testing.T) {
	t.Parallel()
	if !versionLess("9.6", "15") || !versionLess("15", "16") || versionLess("16", "9.6") {
		t.Error("versionLess is wrong")
	}
}

func TestUntraversableParentAsRoot(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root switches to an unprivileged user")
	}
	needBinaries(t)
	locked := t.TempDir() // 0700, owned by root
	if err := os.Chmod(locked, 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Config{DataDir: filepath.Join(locked, "data"), Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), locked) || !strings.Contains(err.Error(), "cannot enter") {
		t.Fatalf("err = %v, want one naming %s", err, locked)
	}
}

// TestParentDeathStopsPostgres starts a cluster in a child process, SIGKILLs
// that process, and checks the parent-death signal shuts postgres down so
// the data dir can be used again.
func TestParentDeathStopsPostgres(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	dir := dataDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "BILLINGD_EMBEDDED_HELPER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "POSTMASTER "); ok {
			pid, _ = strconv.Atoi(s)
			break
		}
	}
	go io.Copy(io.Discard, out)
	if pid == 0 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatal("helper did not report a postmaster pid")
	}
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) }) // only if the test failed
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	assertGone(t, pid)
	c := start(t, dir)
	query(t, c, "SELECT 'ok'")
	stop(t, c)
}

func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("BILLINGD_EMBEDDED_HELPER_DIR")
	if dir == "" {
		t.Skip("helper for TestParentDeathStopsPostgres")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("POSTMASTER %d\n", c.cmd.Process.Pid)
	time.Sleep(time.Minute) // killed by the parent test long before this
	t.Fatal("helper was not killed")
}
