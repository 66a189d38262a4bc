package main

import (
	"bytes"
	"errors"
	"flag"
	"os/exec"
	"strings"
	"testing"
)

// TestHelpNamesEveryCommand: `billingd --help` is where a newcomer looks
// first, so it lists the commands besides serve and where the demo is.
func TestHelpNamesEveryCommand(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "-h"}} {
		var stderr bytes.Buffer
		err := run(args, &stderr)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: err %v, want flag.ErrHelp", args, err)
		}
		help := stderr.String()
		for _, want := range []string{"billingd migrate", "billingd version", "billingd-demo", "make run", "-grpc-addr", "BILLINGD_"} {
			if !strings.Contains(help, want) {
				t.Errorf("%q: help lacks %q:\n%s", args, want, help)
			}
		}
	}
}

// TestDemoIsItsOwnCommand: the server binary has no demo; asked for one it
// says where it is instead of parsing "demo" as a flag error.
func TestDemoIsItsOwnCommand(t *testing.T) {
	var stderr bytes.Buffer
	err := run([]string{"demo"}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "billingd-demo") || !strings.Contains(err.Error(), "make run") {
		t.Errorf("billingd demo: err %v, want one naming billingd-demo and make run", err)
	}
}

// TestServerLinksNoSimulator: the production binary does not link the
// demo's simulated month or govmomi's vCenter simulator (before the demo
// moved to cmd/billingd-demo it linked both: 74.6 MB, now 52 MB).
func TestServerLinksNoSimulator(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg == "github.com/billingd/billingd/internal/demo/sim" || strings.HasPrefix(pkg, "github.com/vmware/govmomi/simulator") {
			t.Errorf("billingd links %s", pkg)
		}
	}
}
