// Package scripts_test runs the repository's scripts as tests, so that
// what the docs tell people to run keeps working.
package scripts_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/store/postgres/pgtest"
)

// TestCurlWalkthrough runs scripts/curl-walkthrough.sh against a billingd
// built from this tree, on a fresh test database.
func TestCurlWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "billingd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/billingd")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "curl-walkthrough.sh")
	cmd.Env = append(os.Environ(), "BILLINGD_BIN="+bin, "BILLINGD_DATABASE_URL="+pgtest.NewDatabase(t), "SHOW=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("curl-walkthrough.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "walk-through passed") {
		t.Fatalf("the script did not finish:\n%s", out)
	}
}

// TestWalkthroughMatchesTheDocs: every curl command of docs/api.md's
// walk-through is one the script runs, word for word.
func TestWalkthroughMatchesTheDocs(t *testing.T) {
	script, err := os.ReadFile("curl-walkthrough.sh")
	if err != nil {
		t.Fatal(err)
	}
	run := map[string]bool{}
	for line := range strings.SplitSeq(string(script), "\n") {
		if strings.HasPrefix(line, "curl ") {
			run[line] = true
		}
	}
	f, err := os.Open("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var inWalk bool
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			inWalk = strings.Contains(line, "walk-through")
		case inWalk && strings.HasPrefix(line, "curl "):
			n++
			if !run[line] {
				t.Errorf("docs/api.md runs a curl the script does not:\n%s", line)
			}
		}
	}
	if n < 10 {
		t.Errorf("found %d curl commands in docs/api.md's walk-through section, want the whole walk-through", n)
	}
}
