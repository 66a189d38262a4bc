package report

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var dumpDir = flag.String("dump-dir", "", "write the sample report in every format to this directory")

func TestDumpSample(t *testing.T) {
	if *dumpDir == "" {
		t.Skip("no -dump-dir")
	}
	for f := CSV; f <= XML; f++ {
		name := filepath.Join(*dumpDir, FileName(f, sampleStatement()))
		if err := os.WriteFile(name, render(t, f, Options{}), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log(name)
	}
}
