package billing

import (
	"context"
	"errors"
	"sync"
)

// bookCache keeps the rater of the live price book by the book's version
// (Store.BookVersion), so that a query reads one row instead of the whole
// book and rebuilds nothing while the book is unchanged.
//
// Why a query never rates with an old price: the store raises the version
// in the transaction of every write to the book, so snapshots that see one
// version see one book. A query reads the version first; a write
// acknowledged before the query started has committed, so the query sees
// its version or a later one, never an earlier one. A rater is kept under
// the version read before its book was (the book is then at that version
// or later), and a query takes only the rater kept under exactly the
// version it read: the book of that version, or a later one, never an
// earlier one.
//
// It holds the rater of the version loaded last, besides the loads under
// way: one per version, which every query that read that version waits
// for instead of reading the book again. A load that fails is not kept,
// and its waiters load for themselves. Closed months are rated with the
// books they froze (Service.frozen), not from here.
type bookCache struct {
	mu      sync.Mutex
	entries map[int64]*bookEntry
}

type bookEntry struct {
	done    chan struct{} // closed once r or err is set
	r       *rater
	err     error
	waiters int // queries that found the load under way (under bookCache.mu; tests read it)
}

func (e *bookEntry) loaded() bool {
	select {
	case <-e.done:
		return true
	default:
		return false
	}
}

// get returns the rater of version v, from the cache or from load (which
// must read the book after v was read).
func (c *bookCache) get(ctx context.Context, v int64, load func(context.Context) (*rater, error)) (*rater, error) {
	c.mu.Lock()
	e := c.entries[v]
	if e == nil {
		e = &bookEntry{done: make(chan struct{})}
		if c.entries == nil {
			c.entries = map[int64]*bookEntry{}
		}
		c.entries[v] = e
		c.mu.Unlock()
		c.load(ctx, v, e, load)
		return e.r, e.err
	}
	e.waiters++
	c.mu.Unlock()
	select {
	case <-e.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if e.err != nil {
		// The loader's error may be its own (its context ended): try once
		// more, without the cache.
		return load(ctx)
	}
	return e.r, nil
}

// load fills e, the entry of version v, and keeps it alone among the
// loaded entries; a failed load is dropped, and so is one that panics
// (its waiters then load for themselves).
func (c *bookCache) load(ctx context.Context, v int64, e *bookEntry, load func(context.Context) (*rater, error)) {
	e.err = errLoadPanicked
	defer func() {
		c.mu.Lock()
		if e.err != nil {
			delete(c.entries, v)
		} else {
			for k, o := range c.entries {
				if k != v && o.loaded() {
					delete(c.entries, k)
				}
			}
		}
		c.mu.Unlock()
		close(e.done)
	}()
	e.r, e.err = load(ctx)
}

var errLoadPanicked = errors.New("billing: reading the price book panicked")

// size is how many versions the cache holds, loaded or loading.
func (c *bookCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
