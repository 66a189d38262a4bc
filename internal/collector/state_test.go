package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestStateSurvivesCrashPoints replays the states a crash can leave: a
// temporary file of an interrupted write, and a window file still present
// after state.json moved past it.
func TestStateSurvivesCrashPoints(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := openState(root, "src")
	if err != nil {
		t.Fatal(err)
	}
	rec := Record{Key: "k", CustomerID: "c", Metric: "m", Quantity: decimal.RequireFromString("1.5"), Start: now, End: now.Add(time.Hour)}
	for i, next := range []Cursor{"a", "b", "c"} {
		if _, err := st.spool(st.cursor(), Batch{Records: []Record{rec}, Next: next}, now); err != nil {
			t.Fatal(err)
		}
		if got := st.cursor(); got != next {
			t.Fatalf("after spooling window %d the collect cursor is %q, want %q", i+1, got, next)
		}
	}
	if err := st.ack(1, now); err != nil {
		t.Fatal(err)
	}
	if err := st.ack(3, now); err == nil {
		t.Error("out-of-order ack accepted")
	}
	// Crash points: state.json moved to window 2 but its file was not
	// removed yet; a write to a temporary file was interrupted.
	if err := writeFileAtomic(filepath.Join(st.dir, progressFile), []byte(`{"cursor":"b","window":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.dir, ".tmp-123"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}

	st2, err := openState(root, "src")
	if err != nil {
		t.Fatal(err)
	}
	if st2.acked.Cursor != "b" || len(st2.pending) != 1 || st2.pending[0].Seq != 3 || st2.cursor() != "c" {
		t.Errorf("reopened: acked %+v, pending %+v, cursor %q; want b, [3], c", st2.acked, st2.pending, st2.cursor())
	}
	w, err := st2.load(3)
	if err != nil || len(w.Records) != 1 || !w.Records[0].Quantity.Equal(rec.Quantity) || !w.Records[0].End.Equal(rec.End) {
		t.Errorf("window 3 = %+v, %v", w, err)
	}
	entries, _ := os.ReadDir(st2.dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != progressFile || !strings.HasPrefix(names[1], windowPrefix) {
		t.Errorf("files left %v, want state.json and window 3 only", names)
	}

	if err := os.WriteFile(filepath.Join(st.dir, progressFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openState(root, "src"); err == nil {
		t.Error("a corrupt state.json was accepted")
	}
}
