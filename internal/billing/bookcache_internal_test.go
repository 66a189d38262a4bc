package billing

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/billingd/billingd/internal/apperr"
)

// at returns a load of rater r at version v.
func at(r *rater, v int64) loadFunc {
	return func(context.Context) (*rater, int64, error) { return r, v, nil }
}

// TestBookCacheLoadsEachVersionOnce: queries of one version wait for the
// one load of it under way instead of reading the book each; a new version
// is loaded again, and the older one's rater is dropped.
func TestBookCacheLoadsEachVersionOnce(t *testing.T) {
	var c bookCache
	ctx := context.Background()
	var loads atomic.Int32
	release := make(chan struct{})
	r7 := &rater{}
	load := func(context.Context) (*rater, int64, error) {
		loads.Add(1)
		<-release
		return r7, 7, nil
	}
	var wg sync.WaitGroup
	got := make([]*rater, 20)
	for i := range got {
		wg.Go(func() {
			r, err := c.get(ctx, 7, load)
			if err != nil {
				t.Error(err)
			}
			got[i] = r
		})
	}
	c.waitFor(t, 7, 19)
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("20 queries of one version loaded the book %d times, want once", n)
	}
	for i, r := range got {
		if r != r7 {
			t.Fatalf("query %d got another rater", i)
		}
	}
	r8 := &rater{}
	if r, _ := c.get(ctx, 8, at(r8, 8)); r != r8 {
		t.Error("version 8 did not get its own rater")
	}
	if n := c.size(); n != 1 {
		t.Errorf("the cache holds %d versions, want 1 (the last loaded)", n)
	}
	if r, _ := c.get(ctx, 8, at(nil, 0)); r != r8 {
		t.Error("version 8 was not kept")
	}
}

// TestBookCacheKeepsARaterUnderItsBooksVersion: a book read after the
// version changed again is kept under its own version, not the one the
// query read; a book older than the version read is read again, and never
// used.
func TestBookCacheKeepsARaterUnderItsBooksVersion(t *testing.T) {
	var c bookCache
	ctx := context.Background()
	r6 := &rater{}
	if r, _ := c.get(ctx, 5, at(r6, 6)); r != r6 {
		t.Fatal("a query of version 5 did not get the book of version 6 it read")
	}
	if r, _ := c.get(ctx, 6, at(nil, 0)); r != r6 {
		t.Error("the book read at version 6 was not kept under 6")
	}
	if r, _ := c.get(ctx, 5, at(&rater{}, 6)); r == r6 {
		t.Error("version 5 was kept: its query did not read the book")
	}
	c = bookCache{}
	tries := 0
	r9 := &rater{}
	if r, _ := c.get(ctx, 9, func(context.Context) (*rater, int64, error) {
		tries++
		if tries < 3 {
			return &rater{}, 8, nil
		}
		return r9, 9, nil
	}); r != r9 {
		t.Error("a query of version 9 did not get the book of version 9")
	}
	if _, err := c.get(ctx, 10, at(&rater{}, 9)); apperr.KindOf(err) != apperr.KindUnavailable {
		t.Errorf("a book always older than its version: %v, want Unavailable", err)
	}
	if n := c.size(); n != 1 {
		t.Errorf("the cache holds %d versions, want 1", n)
	}
}

// TestBookCacheKeepsNoFailure: a load that fails or panics is not kept:
// the next query of that version loads again, and a query that waited for
// it loads for itself (the loader's error may be its own context's).
func TestBookCacheKeepsNoFailure(t *testing.T) {
	var c bookCache
	ctx := context.Background()
	boom := errors.New("boom")
	if _, err := c.get(ctx, 1, func(context.Context) (*rater, int64, error) { return nil, 0, boom }); err != boom {
		t.Fatalf("err %v, want boom", err)
	}
	if n := c.size(); n != 0 {
		t.Fatalf("a failed load left %d entries", n)
	}
	func() {
		defer func() { _ = recover() }()
		c.get(ctx, 1, func(context.Context) (*rater, int64, error) { panic("bad book") })
	}()
	if n := c.size(); n != 0 {
		t.Fatalf("a panicking load left %d entries", n)
	}
	// The loader's context ends while another query waits for its load.
	loaderCtx, cancel := context.WithCancel(ctx)
	started, waiting := make(chan struct{}), make(chan struct{})
	go func() {
		c.get(loaderCtx, 2, func(ctx context.Context) (*rater, int64, error) {
			close(started)
			<-waiting
			cancel()
			return nil, 0, ctx.Err()
		})
	}()
	<-started
	r := &rater{}
	done := make(chan *rater)
	go func() {
		got, err := c.get(ctx, 2, at(r, 2))
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	c.waitFor(t, 2, 1)
	close(waiting)
	if got := <-done; got != r {
		t.Error("the waiting query did not load for itself after the loader's context ended")
	}
}

// waitFor returns once n queries wait for the load of version v.
func (c *bookCache) waitFor(t *testing.T, v int64, n int) {
	t.Helper()
	for {
		c.mu.Lock()
		e := c.entries[v]
		w := 0
		if e != nil {
			w = e.waiters
		}
		c.mu.Unlock()
		if w >= n {
			return
		}
		runtime.Gosched()
	}
}
