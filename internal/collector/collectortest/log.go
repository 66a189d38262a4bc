package collectortest

import (
	"log/slog"
	"strings"
	"sync"
)

// LockedBuffer is a log sink safe for the runner's goroutines.
type LockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Log is a text logger at level Info and what it wrote, so that a test
// can count what a source or runner logged.
func Log() (*slog.Logger, *LockedBuffer) {
	b := &LockedBuffer{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}
