package billing

import (
	"context"
	"sync"
	"sync/atomic"
)

// ordered runs work(i) for i in [0, n) on up to workers goroutines and
// hands the results to consume in index order, on the calling goroutine.
// At most 2 × workers results are done or in progress ahead of consume, so
// memory stays bounded however many items there are. The first error, from
// work or consume, cancels the rest and is returned.
func ordered[T any](ctx context.Context, n, workers int, work func(context.Context, int) (T, error), consume func(int, T) error) error {
	if n == 0 {
		return nil
	}
	workers = max(1, min(workers, n))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make([]chan result, n)
	for i := range done {
		done[i] = make(chan result, 1)
	}
	// A worker takes a slot before it takes an index, so indexes are taken
	// in order and the one consume waits for is always running or done.
	slots := make(chan struct{}, 2*workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				v, err := work(ctx, i)
				done[i] <- result{v, err}
			}
		})
	}
	var err error
	for i := 0; i < n && err == nil; i++ {
		var r result
		select {
		case r = <-done[i]:
			<-slots
		case <-ctx.Done(): // the caller's context: item i may never start
			r.err = ctx.Err()
		}
		if err = r.err; err == nil {
			err = consume(i, r.v)
		}
	}
	cancel()
	wg.Wait()
	return err
}
