package main

import (
	"bufio"
	"flag"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/config"
)

// The README and docs/ tell a newcomer what to run; these tests keep them
// in step with the binary.

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile("../../" + path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestREADMEFlagTableListsEveryFlag: every flag billingd takes has a row in
// the README's table (`--name` in its first cell).
func TestREADMEFlagTableListsEveryFlag(t *testing.T) {
	readme := readDoc(t, "README.md")
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| ([^|]+)\|`).FindAllStringSubmatch(readme, -1) {
		for _, f := range regexp.MustCompile("`--([a-z-]+)`").FindAllStringSubmatch(m[1], -1) {
			rows[f[1]] = true
		}
	}
	fs := flag.NewFlagSet("billingd", flag.ContinueOnError)
	cfg := config.Default()
	cfg.Bind(fs)
	fs.VisitAll(func(f *flag.Flag) {
		if !rows[f.Name] {
			t.Errorf("README's flag table has no row for --%s", f.Name)
		}
	})
}

// TestDocsRunNoBareBillingd: billingd is not on a newcomer's PATH, so a
// command in a shell block runs a binary the text has built (bin/billingd)
// or go run.
func TestDocsRunNoBareBillingd(t *testing.T) {
	for _, path := range []string{"README.md", "docs/api.md"} {
		inShell := false
		sc := bufio.NewScanner(strings.NewReader(readDoc(t, path)))
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "```"):
				inShell = line == "```sh"
			case inShell && regexp.MustCompile(`(^|[;&|]\s*)billingd(-collect|-demo)?\s`).MatchString(line):
				t.Errorf("%s:%d runs a bare billingd, which is not on PATH: %s", path, n, line)
			}
		}
	}
}

// TestREADMEGoVersionMatchesGoMod: the README names the Go release go.mod
// requires.
func TestREADMEGoVersionMatchesGoMod(t *testing.T) {
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readDoc(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	readme := readDoc(t, "README.md")
	if !strings.Contains(readme, "Go "+m[1]+" ") && !strings.Contains(readme, "Go "+m[1]+",") {
		t.Errorf("README does not name Go %s, which go.mod requires", m[1])
	}
	for _, v := range regexp.MustCompile(`Go (1\.\d+(\.\d+)?)`).FindAllStringSubmatch(readme, -1) {
		if v[1] != m[1] {
			t.Errorf("README names Go %s, go.mod requires %s", v[1], m[1])
		}
	}
}
