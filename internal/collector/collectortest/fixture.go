package collectortest

import (
	"encoding/json"
	"os"
	"testing"
)

// ReadJSON decodes a recorded answer under testdata into doc.
func ReadJSON(t *testing.T, path string, doc any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
