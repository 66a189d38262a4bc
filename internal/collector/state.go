package collector

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sourceState is one source's progress on disk, in <state dir>/<source>/:
//
//	state.json               the last window billingd acknowledged in full:
//	                         {"cursor": …, "window": seq}
//	window-<seq>.json        a collected window not yet acknowledged, with
//	                         its records and the cursor it ends at
//
// A window is written before it is pushed; state.json moves to it only after
// every batch of the window was acknowledged, and then its file is removed.
// A crash at any point leaves either the window pending (it is pushed again
// with the same keys) or state.json past it (the window file, if left, is
// dropped at the next start). Every file is written to a temporary name,
// synced, renamed into place and the directory synced, so a crash never
// leaves a torn file.
//
// sourceState is not safe for concurrent use; the Runner guards it.
type sourceState struct {
	dir     string
	acked   progress
	pending []pendingWindow // in seq order
}

type progress struct {
	Cursor    Cursor    `json:"cursor"`
	Window    uint64    `json:"window"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// window is one Collect's result as spooled.
type window struct {
	Seq         uint64    `json:"seq"`
	From        Cursor    `json:"from"`
	Next        Cursor    `json:"next"`
	CollectedAt time.Time `json:"collected_at"`
	Records     []Record  `json:"records"`
}

// pendingWindow is what is kept in memory of a spooled window: its records
// stay on disk until it is pushed.
type pendingWindow struct {
	Seq     uint64
	Next    Cursor
	Records int
}

const (
	progressFile = "state.json"
	windowPrefix = "window-"
	windowSuffix = ".json"
)

// openState loads (or creates) the state of the source called name under root.
func openState(root, name string) (*sourceState, error) {
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &sourceState{dir: dir}
	switch b, err := os.ReadFile(filepath.Join(dir, progressFile)); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(b, &s.acked); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(dir, progressFile), err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") { // a write a crash interrupted
			_ = os.Remove(filepath.Join(dir, name))
			continue
		}
		seq, ok := windowSeq(name)
		if !ok {
			continue
		}
		if seq <= s.acked.Window { // acknowledged; the crash came before its removal
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, err
			}
			continue
		}
		w, err := s.load(seq)
		if err != nil {
			return nil, err
		}
		s.pending = append(s.pending, pendingWindow{Seq: seq, Next: w.Next, Records: len(w.Records)})
	}
	slices.SortFunc(s.pending, func(a, b pendingWindow) int { return compareUint(a.Seq, b.Seq) })
	return s, nil
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func windowSeq(file string) (uint64, bool) {
	if !strings.HasPrefix(file, windowPrefix) || !strings.HasSuffix(file, windowSuffix) {
		return 0, false
	}
	seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(file, windowPrefix), windowSuffix), 10, 64)
	return seq, err == nil
}

func (s *sourceState) windowPath(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s%020d%s", windowPrefix, seq, windowSuffix))
}

// cursor is where the next Collect starts: the end of the last spooled
// window, or of the last acknowledged one when none is pending.
func (s *sourceState) cursor() Cursor {
	if n := len(s.pending); n > 0 {
		return s.pending[n-1].Next
	}
	return s.acked.Cursor
}

// spool writes a collected window durably and queues it for pushing.
func (s *sourceState) spool(from Cursor, b Batch, at time.Time) (pendingWindow, error) {
	seq := s.acked.Window + 1
	if n := len(s.pending); n > 0 {
		seq = s.pending[n-1].Seq + 1
	}
	w := window{Seq: seq, From: from, Next: b.Next, CollectedAt: at.UTC(), Records: b.Records}
	if w.Records == nil {
		w.Records = []Record{}
	}
	data, err := json.Marshal(w)
	if err != nil {
		return pendingWindow{}, err
	}
	if err := writeFileAtomic(s.windowPath(seq), data); err != nil {
		return pendingWindow{}, err
	}
	p := pendingWindow{Seq: seq, Next: b.Next, Records: len(b.Records)}
	s.pending = append(s.pending, p)
	return p, nil
}

// load reads a spooled window.
func (s *sourceState) load(seq uint64) (window, error) {
	var w window
	b, err := os.ReadFile(s.windowPath(seq))
	if err != nil {
		return w, err
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return w, fmt.Errorf("%s: %w", s.windowPath(seq), err)
	}
	if w.Seq != seq {
		return w, fmt.Errorf("%s: holds window %d", s.windowPath(seq), w.Seq)
	}
	return w, nil
}

// ack records that the oldest pending window was acknowledged in full:
// state.json moves to its cursor, then its file is removed.
func (s *sourceState) ack(seq uint64, at time.Time) error {
	if len(s.pending) == 0 || s.pending[0].Seq != seq {
		return fmt.Errorf("ack of window %d out of order", seq)
	}
	next := progress{Cursor: s.pending[0].Next, Window: seq, UpdatedAt: at.UTC()}
	data, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.dir, progressFile), data); err != nil {
		return err
	}
	s.acked = next
	s.pending = s.pending[1:]
	if err := os.Remove(s.windowPath(seq)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(s.dir)
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, fsync, rename, fsync of the directory.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
