package report

import (
	"os"
	"os/exec"
	"testing"
)

// toolsRequired is how `make test` asks for the external checkers: with
// BILLINGD_TEST_TOOLS=required a missing one fails the test instead of
// skipping it, so a run cannot pass without parsing the PDFs back or
// validating the XML.
const toolsEnv = "BILLINGD_TEST_TOOLS"

// lookTool finds an external checker (Debian package pkg), skipping the
// test without it unless toolsEnv requires it.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		return bin
	}
	if os.Getenv(toolsEnv) == "required" {
		t.Fatalf("%s not installed and %s=required: apt-get install %s", name, toolsEnv, pkg)
	}
	t.Skipf("%s not installed (apt-get install %s): check skipped; %s=required makes this a failure", name, pkg, toolsEnv)
	return ""
}
