package rpc

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/billingd/billingd/internal/access"
	"github.com/billingd/billingd/internal/apperr"
)

// allow takes a token of p's bucket for a new call: ResourceExhausted
// (HTTP 429) when it is empty. billingd's own calls and, with auth off,
// the anonymous caller are not limited.
func (a *Auth) allow(p access.Principal) error {
	if a.limiter == nil || !limited(p) {
		return nil
	}
	if !a.limiter.allow(p.ID) {
		return apperr.New(apperr.KindResourceExhausted, "rate limit of %g calls per second (burst %d) exceeded for API key %q; retry later", a.limiter.rate, int(a.limiter.burst), p.ID)
	}
	return nil
}

// wait takes a token of p's bucket for another message of a stream,
// waiting for it when the bucket is empty.
func (a *Auth) wait(ctx context.Context, p access.Principal) error {
	if a.limiter == nil || !limited(p) {
		return nil
	}
	return a.limiter.wait(ctx, p.ID)
}

func limited(p access.Principal) bool {
	return p.ID != access.System.ID && p.ID != access.Anonymous.ID
}

// limiter is a token bucket per key: rate tokens a second, at most burst.
type limiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the map; beyond it, full buckets (idle keys) are dropped.
const maxBuckets = 10000

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if burst < 1 {
		burst = 1
	}
	if now == nil {
		now = time.Now
	}
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}}
}

// take removes one token from key's bucket and returns how long the caller
// must wait for it (0: available now). With reserve false an empty bucket
// is left as it is and ok is false.
func (l *limiter) take(key string, reserve bool) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	if !reserve {
		return 0, false
	}
	b.tokens-- // a reservation: the bucket goes negative and refills first
	return time.Duration(-b.tokens / l.rate * float64(time.Second)), true
}

func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

func (l *limiter) allow(key string) bool {
	_, ok := l.take(key, false)
	return ok
}

func (l *limiter) wait(ctx context.Context, key string) error {
	d, _ := l.take(key, true)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errServerTimeout = errors.New("server timeout")

// TimeoutUnary gives a unary call without a deadline of its own one of d
// (--rpc-timeout), so a slow query cannot hold a connection and a database
// session forever. A call that runs out of it fails with DeadlineExceeded
// (HTTP 504) and a message naming the limit. d <= 0 means no default.
func TimeoutUnary(d time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
		if _, ok := ctx.Deadline(); ok || d <= 0 {
			return next(ctx, req)
		}
		ctx, cancel := context.WithTimeoutCause(ctx, d, errServerTimeout)
		defer cancel()
		resp, err := next(ctx, req)
		if err != nil && errors.Is(context.Cause(ctx), errServerTimeout) {
			return nil, status.Errorf(codes.DeadlineExceeded, "the call ran longer than the server's limit of %s (--rpc-timeout); narrow or page the request, or set a deadline", d)
		}
		return resp, err
	}
}
