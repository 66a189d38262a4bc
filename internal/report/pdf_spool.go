package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
)

// spoolInMemory is how many lines of a customer the PDF keeps in memory
// (about 1 KB each) before it moves them to a temporary file.
const spoolInMemory = 4096

// spool holds one customer's lines so that the PDF can print them in
// sections (product group, then model) whatever order they came in. Past
// spoolInMemory lines they go to a temporary file as JSON, and only a sort
// key and an offset stay in memory per line (under 100 bytes), so a
// statement of any length costs a bounded heap.
type spool struct {
	mem  []Line
	refs []spoolRef

	file *os.File
	w    *bufio.Writer
	size int64
	buf  []byte
}

type spoolRef struct {
	sectionKey       // the line's model section: the sort order
	at         int64 // offset in the file, or index in mem
	n          int32 // bytes in the file
}

func (s *spool) add(l *Line) error {
	ref := spoolRef{sectionKey: sectionOf(l, modelOrder[l.Model])}
	if s.file == nil && len(s.mem) == spoolInMemory {
		if err := s.spill(); err != nil {
			return err
		}
	}
	if s.file == nil {
		ref.at = int64(len(s.mem))
		s.mem = append(s.mem, *l)
		s.refs = append(s.refs, ref)
		return nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	ref.at, ref.n = s.size, int32(len(b))
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("PDF line spool: %w", err)
	}
	s.size += int64(len(b))
	s.refs = append(s.refs, ref)
	return nil
}

// spill moves the lines in memory to a new temporary file.
func (s *spool) spill() error {
	f, err := os.CreateTemp("", "billingd-pdf-*.jsonl")
	if err != nil {
		return fmt.Errorf("PDF line spool: %w", err)
	}
	_ = os.Remove(f.Name()) // unlinked: gone with the last descriptor, also after a crash
	s.file, s.w = f, bufio.NewWriterSize(f, 64<<10)
	mem := s.mem
	s.mem, s.refs = nil, s.refs[:0]
	for i := range mem {
		if err := s.add(&mem[i]); err != nil {
			return err
		}
	}
	return nil
}

// sort orders the lines into sections: product groups by name (lines
// without one last), then models in a fixed order; lines keep the order
// they came in within a section.
func (s *spool) sort() error {
	slices.SortStableFunc(s.refs, func(a, b spoolRef) int {
		return cmp.Or(cmp.Compare(a.ungrouped, b.ungrouped), cmp.Compare(a.title, b.title),
			cmp.Compare(a.groupID, b.groupID), cmp.Compare(a.model, b.model))
	})
	if s.w != nil {
		return s.w.Flush()
	}
	return nil
}

func (s *spool) len() int { return len(s.refs) }

// line returns the i-th line in sorted order; it stays valid until the
// next call.
func (s *spool) line(i int, into *Line) (*Line, error) {
	r := s.refs[i]
	if s.file == nil {
		return &s.mem[r.at], nil
	}
	if cap(s.buf) < int(r.n) {
		s.buf = make([]byte, r.n)
	}
	b := s.buf[:r.n]
	if _, err := s.file.ReadAt(b, r.at); err != nil && err != io.EOF {
		return nil, fmt.Errorf("PDF line spool: %w", err)
	}
	*into = Line{}
	if err := json.Unmarshal(b, into); err != nil {
		return nil, fmt.Errorf("PDF line spool: %w", err)
	}
	return into, nil
}

// reset empties the spool for the next customer.
func (s *spool) reset() error {
	clear(s.mem)
	s.mem, s.refs = s.mem[:0], s.refs[:0]
	return s.close()
}

func (s *spool) close() error {
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file, s.w, s.size = nil, nil, 0
	return err
}
