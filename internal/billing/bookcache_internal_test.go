package billing

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestBookCacheLoadsEachVersionOnce: queries of one version wait for the
// one load of it under way instead of reading the book each; a new version
// is loaded again, and the older one's rater is dropped.
func TestBookCacheLoadsEachVersionOnce(t *testing.T) {
	var c bookCache
	ctx := context.Background()
	var loads atomic.Int32
	release := make(chan struct{})
	r1 := &rater{}
	load := func(context.Context) (*rater, error) {
		loads.Add(1)
		<-release
		return r1, nil
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
		if r != r1 {
			t.Fatalf("query %d got another rater", i)
		}
	}
	r2 := &rater{}
	if r, _ := c.get(ctx, 8, func(context.Context) (*rater, error) { return r2, nil }); r != r2 {
		t.Error("version 8 did not get its own rater")
	}
	if n := c.size(); n != 1 {
		t.Errorf("the cache holds %d versions, want 1 (the last loaded)", n)
	}
	if r, _ := c.get(ctx, 8, func(context.Context) (*rater, error) { t.Error("loaded again"); return nil, nil }); r != r2 {
		t.Error("version 8 was not kept")
	}
}

// TestBookCacheKeepsNoFailure: a load that fails or panics is not kept:
// the next query of that version loads again, and a query that waited for
// it loads for itself (the loader's error may be its own context's).
func TestBookCacheKeepsNoFailure(t *testing.T) {
	var c bookCache
	ctx := context.Background()
	boom := errors.New("boom")
	if _, err := c.get(ctx, 1, func(context.Context) (*rater, error) { return nil, boom }); err != boom {
		t.Fatalf("err %v, want boom", err)
	}
	if n := c.size(); n != 0 {
		t.Fatalf("a failed load left %d entries", n)
	}
	func() {
		defer func() { _ = recover() }()
		c.get(ctx, 1, func(context.Context) (*rater, error) { panic("bad book") })
	}()
	if n := c.size(); n != 0 {
		t.Fatalf("a panicking load left %d entries", n)
	}
	// The loader's context ends while another query waits for its load.
	loaderCtx, cancel := context.WithCancel(ctx)
	started, waiting := make(chan struct{}), make(chan struct{})
	go func() {
		c.get(loaderCtx, 2, func(ctx context.Context) (*rater, error) {
			close(started)
			<-waiting
			cancel()
			return nil, ctx.Err()
		})
	}()
	<-started
	r := &rater{}
	done := make(chan *rater)
	go func() {
		got, err := c.get(ctx, 2, func(context.Context) (*rater, error) { return r, nil })
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
