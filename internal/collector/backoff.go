package collector

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff spaces retries: the n-th retry (from 0) waits a random duration in
// [d/2, d] with d = min(Max, Initial·2^n) ("equal jitter"), so replicas
// that failed together do not retry in step, yet no wait collapses to zero.
type Backoff struct {
	Initial time.Duration `yaml:"initial"`
	Max     time.Duration `yaml:"max"`
}

// DefaultBackoff retries after about 1 s, 2 s, 4 s… up to 2 min.
var DefaultBackoff = Backoff{Initial: time.Second, Max: 2 * time.Minute}

// Delay returns the wait before retry n (0 for the first retry).
func (b Backoff) Delay(n int) time.Duration {
	d := b.Initial
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleep waits d or until ctx is done, and reports whether it waited fully.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
