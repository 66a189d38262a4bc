package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is wrapped by Find's error when no usable server binaries exist.
var ErrNotFound = errors.New("embedded postgres: PostgreSQL server binaries (initdb, postgres) not found")

const installHint = "install the PostgreSQL server binaries (Debian/Ubuntu: apt install postgresql) " +
	"or pass --database-url to use an existing PostgreSQL server"

// Find locates the directory holding initdb and postgres. In order: binDir
// if set, env BILLINGD_PG_BIN, `pg_config --bindir`, initdb+postgres on
// PATH, then /usr/lib/postgresql/<N>/bin (highest N first) and
// /usr/local/pgsql/bin. An explicit binDir or BILLINGD_PG_BIN that does not
// hold the binaries is an error rather than being skipped.
func Find(binDir string) (string, error) {
	if binDir != "" {
		return explicitBinDir(binDir, "BinDir")
	}
	if d := os.Getenv("BILLINGD_PG_BIN"); d != "" {
		return explicitBinDir(d, "BILLINGD_PG_BIN")
	}
	var tried []string
	for _, d := range candidateDirs() {
		if d == "" {
			continue
		}
		if checkBinDir(d) == nil {
			return filepath.Abs(d)
		}
		tried = append(tried, d)
	}
	return "", fmt.Errorf("%w (looked in pg_config --bindir, PATH, /usr/lib/postgresql/*/bin, /usr/local/pgsql/bin; tried %s): %s",
		ErrNotFound, strings.Join(tried, ", "), installHint)
}

func explicitBinDir(dir, source string) (string, error) {
	if err := checkBinDir(dir); err != nil {
		return "", fmt.Errorf("%w: %s %q: %v; %s", ErrNotFound, source, dir, err, installHint)
	}
	return filepath.Abs(dir)
}

// checkBinDir reports why dir is not a usable server binary directory.
func checkBinDir(dir string) error {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("no %s: %w", name, err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s is not an executable file", filepath.Join(dir, name))
		}
	}
	return nil
}

func candidateDirs() []string {
	dirs := []string{pgConfigBinDir()}
	if i, err := exec.LookPath("initdb"); err == nil {
		if p, err := exec.LookPath("postgres"); err == nil {
			// Resolve symlinks (e.g. /usr/local/bin/initdb -> .../15/bin/initdb)
			// so both binaries come from the same installation.
			i, _ = filepath.EvalSymlinks(i)
			p, _ = filepath.EvalSymlinks(p)
			if filepath.Dir(i) == filepath.Dir(p) {
				dirs = append(dirs, filepath.Dir(i))
			}
		}
	}
	dirs = append(dirs, debianBinDirs()...)
	return append(dirs, "/usr/local/pgsql/bin")
}

func pgConfigBinDir() string {
	path, err := exec.LookPath("pg_config")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--bindir").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// debianBinDirs lists /usr/lib/postgresql/<N>/bin, highest version first.
func debianBinDirs() []string {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(matches, func(a, b int) bool {
		return versionLess(filepath.Base(filepath.Dir(matches[b])), filepath.Base(filepath.Dir(matches[a])))
	})
	return matches
}

// versionLess compares dotted numeric versions ("9.6" < "15"); non-numeric
// parts sort first.
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int = -1, -1
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
