package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Config says where and how to run the embedded cluster.
type Config struct {
	DataDir   string       // billingd's data dir; the cluster lives in DataDir/pg
	BinDir    string       // server binaries; "" = Find's search
	Port      int          // TCP port on 127.0.0.1; 0 = pick a free one
	RunAsUser string       // user postgres runs as when billingd is root; "" = "postgres"
	Logger    *slog.Logger // postgres output goes here at debug level; nil = slog.Default()
	Database  string       // database created for billingd; "" = "billingd"
}

// Cluster is a running postmaster owned by this process.
type Cluster struct {
	port     int
	database string
	pgDir    string
	sockDir  string
	tmpSock  bool // sockDir was made under os.TempDir and is ours to remove
	log      *slog.Logger
	sink     *logSink
	cmd      *exec.Cmd
	done     chan struct{} // closed once the postmaster has exited and been reaped
	waitErr  error         // valid after done is closed

	stopMu  sync.Mutex
	stopped bool
	stopErr error
}

// defaultReadyTimeout bounds the wait for connections when ctx has no deadline.
const defaultReadyTimeout = 2 * time.Minute

// Start creates the cluster on first use, starts postgres and returns once
// it accepts connections and cfg.Database exists. On error nothing is left
// running.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("embedded postgres: Config.DataDir is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Database == "" {
		cfg.Database = "billingd"
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	binDir, err := Find(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	ra, err := resolveRunAs(cfg.RunAsUser)
	if err != nil {
		return nil, err
	}
	created, err := mkdirAll(dataDir, 0o700)
	if err != nil {
		return nil, fmt.Errorf("embedded postgres: creating data dir: %w", err)
	}
	if ra != nil {
		for _, d := range created { // ours: safe to let the run-as user through
			if fi, err := os.Stat(d); err == nil {
				_ = os.Chmod(d, fi.Mode().Perm()|0o001)
			}
		}
		for _, d := range []string{dataDir, binDir} {
			if err := ra.checkTraversable(d); err != nil {
				return nil, err
			}
		}
	}

	pgDir := filepath.Join(dataDir, "pg")
	if !exists(filepath.Join(pgDir, "PG_VERSION")) {
		if exists(pgDir) {
			return nil, fmt.Errorf("embedded postgres: %s exists but is not a PostgreSQL cluster (no PG_VERSION); move it away", pgDir)
		}
		if err := initCluster(ctx, binDir, dataDir, pgDir, ra, cfg.Logger); err != nil {
			return nil, err
		}
	} else if err := ra.chownTree(pgDir); err != nil {
		return nil, fmt.Errorf("embedded postgres: %w", err)
	}
	if err := clearStalePidFile(pgDir, cfg.Logger); err != nil {
		return nil, err
	}
	sockDir, tmpSock, err := socketDir(dataDir, ra)
	if err != nil {
		return nil, err
	}

	for attempt := 1; ; attempt++ {
		port := cfg.Port
		if port == 0 {
			if port, err = freePort(); err != nil {
				break
			}
		}
		c := &Cluster{port: port, database: cfg.Database, pgDir: pgDir, sockDir: sockDir, log: cfg.Logger}
		if err = c.launch(binDir, ra); err != nil {
			break
		}
		if err = c.waitReady(ctx); err == nil {
			if err = c.createDatabase(ctx); err == nil {
				c.tmpSock = tmpSock
				cfg.Logger.Info("embedded postgres: ready", "url", c.URL(), "pid", c.cmd.Process.Pid, "dir", pgDir)
				return c, nil
			}
		}
		c.kill()
		// A port picked by freePort can be taken before postgres binds it.
		if cfg.Port != 0 || attempt == 3 || !c.sink.contains("could not bind") {
			break
		}
	}
	if tmpSock {
		_ = os.RemoveAll(sockDir)
	}
	return nil, err
}

// socketDir returns where postgres puts its unix socket: DataDir/sock, or a
// fresh dir under os.TempDir when that path would exceed the 107-byte
// sun_path limit.
func socketDir(dataDir string, ra *runAs) (dir string, tmp bool, err error) {
	const sockName = "/.s.PGSQL.65535"
	dir = filepath.Join(dataDir, "sock")
	if len(dir)+len(sockName) <= 107 {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", false, fmt.Errorf("embedded postgres: %w", err)
		}
	} else {
		if dir, err = os.MkdirTemp("", "billingd-pg-"); err != nil {
			return "", false, fmt.Errorf("embedded postgres: %w", err)
		}
		if len(dir)+len(sockName) > 107 {
			_ = os.Remove(dir)
			return "", false, fmt.Errorf("embedded postgres: no unix socket dir short enough (data dir and TMPDIR paths are too long)")
		}
		tmp = true
	}
	if err := ra.chownTree(dir); err != nil {
		return "", false, fmt.Errorf("embedded postgres: %w", err)
	}
	return dir, tmp, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("embedded postgres: picking a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the postmaster. The child gets a parent-death signal so it
// shuts down if billingd dies without calling Stop. Linux ties that signal
// to the thread that forked, so the fork happens on a goroutine locked to
// its OS thread that lives (blocked in Wait) exactly as long as the child.
func (c *Cluster) launch(binDir string, ra *runAs) error {
	c.sink = &logSink{log: c.log, source: "postgres"}
	c.done = make(chan struct{})
	cmd := exec.Command(filepath.Join(binDir, "postgres"),
		"-D", c.pgDir, "-p", strconv.Itoa(c.port), "-k", c.sockDir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=on")
	cmd.Dir = c.pgDir
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = c.sink, c.sink
	cmd.WaitDelay = 5 * time.Second // don't hang on the log pipe if a backend outlives the postmaster
	cmd.SysProcAttr = ra.sysProcAttr()
	// SIGINT = fast shutdown: a dead billingd's connections are gone, and a
	// stray client must not keep the orphan (and the data dir) alive.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	c.cmd = cmd

	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with this goroutine, after the child is reaped
		if err := cmd.Start(); err != nil {
			started <- err
			close(c.done)
			return
		}
		started <- nil
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("embedded postgres: starting %s: %w", cmd.Path, err)
	}
	return nil
}

// kill SIGKILLs the postmaster's whole process group and waits for it.
func (c *Cluster) kill() {
	select {
	case <-c.done:
	default:
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.done
	}
}

// URL is the libpq/pgx connection URL for cfg.Database.
func (c *Cluster) URL() string { return c.url(c.database) }

func (c *Cluster) url(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(superuser), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// Stop shuts postgres down with a fast shutdown (SIGINT) and waits for it
// to exit; if ctx ends first the process group is SIGKILLed. It is
// idempotent and returns the first call's result.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if !c.stopped {
		c.stopped = true
		c.stopErr = c.stop(ctx)
		if c.tmpSock {
			_ = os.RemoveAll(c.sockDir)
		}
	}
	return c.stopErr
}

func (c *Cluster) stop(ctx context.Context) error {
	pid := c.cmd.Process.Pid
	select {
	case <-c.done:
		return fmt.Errorf("embedded postgres: postgres (pid %d) had already exited: %v\n%s", pid, c.waitErr, c.sink.Tail())
	default:
	}
	_ = syscall.Kill(pid, syscall.SIGINT)
	select {
	case <-c.done:
	case <-ctx.Done():
		c.kill()
		return fmt.Errorf("embedded postgres: fast shutdown did not finish (%w); killed pid %d and its children", ctx.Err(), pid)
	}
	if c.waitErr != nil {
		return fmt.Errorf("embedded postgres: postgres exited with %v\n%s", c.waitErr, c.sink.Tail())
	}
	c.log.Info("embedded postgres: stopped", "pid", pid)
	return nil
}
