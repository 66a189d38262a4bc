package embedded

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
)

const tailLines = 30

// logSink receives the child's stdout/stderr, forwards each line to the
// logger at debug level and keeps the last lines for error messages.
type logSink struct {
	log    *slog.Logger
	source string

	mu      sync.Mutex
	partial []byte
	tail    []string
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, p...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		s.line(string(s.partial[:i]))
		s.partial = s.partial[i+1:]
	}
	return len(p), nil
}

func (s *logSink) line(l string) {
	l = strings.TrimRight(l, "\r")
	if l == "" {
		return
	}
	s.log.LogAttrs(context.Background(), slog.LevelDebug, s.source, slog.String("line", l))
	if len(s.tail) == tailLines {
		s.tail = s.tail[1:]
	}
	s.tail = append(s.tail, l)
}

// Tail returns the last lines written, newline-separated.
func (s *logSink) Tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := append([]string(nil), s.tail...)
	if len(s.partial) > 0 {
		t = append(t, string(s.partial))
	}
	return strings.Join(t, "\n")
}

func (s *logSink) contains(sub string) bool { return strings.Contains(s.Tail(), sub) }
