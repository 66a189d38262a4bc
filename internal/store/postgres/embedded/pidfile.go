package embedded

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// clearStalePidFile removes pgDir/postmaster.pid left by a crashed run. If
// the postmaster it names is still running, the data dir is in use and we
// fail instead: two postmasters must never share a cluster.
func clearStalePidFile(pgDir string, log *slog.Logger) error {
	path := filepath.Join(pgDir, "postmaster.pid")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("embedded postgres: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err == nil && pid > 0 && postmasterAlive(pid) {
		return fmt.Errorf("embedded postgres: data dir %s is in use by a running postgres (pid %d); "+
			"is another billingd using this data dir? stop it first or use another --data-dir", pgDir, pid)
	}
	log.Info("embedded postgres: removing stale postmaster.pid from a previous run", "pid", pid, "file", path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("embedded postgres: removing stale %s: %w", path, err)
	}
	return nil
}

// postmasterAlive reports whether pid is a live (non-zombie) process that
// may be a postgres. A pid recycled by some other program counts as dead;
// when /proc cannot tell, we assume alive to be safe.
func postmasterAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		return true
	}
	// Format: "pid (comm) state ..."; comm may contain spaces or parens.
	s := string(stat)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || end+2 >= len(s) {
		return true
	}
	comm, state := s[open+1:end], s[end+2]
	if state == 'Z' || state == 'X' {
		return false
	}
	return comm == "postgres" || comm == "postmaster"
}
