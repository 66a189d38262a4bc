package embedded

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// superuser is the cluster's bootstrap superuser and the user in URL().
const superuser = "billingd"

// initCluster runs initdb into a scratch dir and renames it to pgDir, so a
// crash mid-initdb never leaves a half-made cluster at pgDir.
func initCluster(ctx context.Context, binDir, dataDir, pgDir string, ra *runAs, log *slog.Logger) error {
	tmp := pgDir + ".initdb"
	var errs []error
	for _, locale := range []string{"--locale=C.UTF-8", "--no-locale"} {
		if err := os.RemoveAll(tmp); err != nil {
			return fmt.Errorf("embedded postgres: %w", err)
		}
		if err := os.Mkdir(tmp, 0o700); err != nil {
			return fmt.Errorf("embedded postgres: %w", err)
		}
		if err := ra.chownTree(tmp); err != nil {
			return fmt.Errorf("embedded postgres: %w", err)
		}
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"),
			"-D", tmp, "-A", "trust", "-U", superuser, "-E", "UTF8", locale)
		cmd.Dir = dataDir // our cwd may not be readable by the run-as user
		cmd.Env = childEnv()
		cmd.SysProcAttr = ra.sysProcAttr()
		sink := &logSink{log: log, source: "initdb"}
		cmd.Stdout, cmd.Stderr = sink, sink
		log.Info("embedded postgres: creating cluster", "dir", pgDir, "initdb", cmd.Path, "locale", locale)
		err := cmd.Run()
		if err == nil {
			if err := os.Rename(tmp, pgDir); err != nil {
				return fmt.Errorf("embedded postgres: %w", err)
			}
			syncDir(dataDir)
			return nil
		}
		errs = append(errs, fmt.Errorf("initdb %s: %w\n%s", locale, err, sink.Tail()))
		if ctx.Err() != nil {
			break
		}
	}
	_ = os.RemoveAll(tmp)
	return fmt.Errorf("embedded postgres: initdb failed: %w", errors.Join(errs...))
}

func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}

// childEnv is our environment minus PG* variables (PGDATA, PGPORT, ...),
// which would otherwise override what we pass on the command line.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return env
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
