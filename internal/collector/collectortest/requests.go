package collectortest

import "sync"

// Requests is what a fake platform was asked, in order, and the paths it
// still has to refuse with a 503; the zero value is ready to use.
type Requests struct {
	mu    sync.Mutex
	lines []string
	fail  map[string]int
}

// Add logs a request and returns how many were logged since the last Take.
func (r *Requests) Add(line string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, line)
	return len(r.lines)
}

// Take returns the requests logged so far and forgets them.
func (r *Requests) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.lines
	r.lines = nil
	return out
}

// Fail makes the next n requests for path fail.
func (r *Requests) Fail(path string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail == nil {
		r.fail = map[string]int{}
	}
	r.fail[path] = n
}

// Failing reports whether a request for path is one to fail, and counts
// it off.
func (r *Requests) Failing(path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail[path] == 0 {
		return false
	}
	r.fail[path]--
	return true
}
