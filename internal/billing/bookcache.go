package billing

import (
	"context"
	"errors"
	"sync"

	"github.com/billingd/billingd/internal/apperr"
)

// bookCache keeps the rater of the live price book by the book's version
// (Store.BookVersion), so that a query reads one row instead of the whole
// book and rebuilds nothing while the book is unchanged.
//
// Why a query never rates with an old price: the store raises the version
// in the transaction of every write to the book, so snapshots that see one
// version see one book. A query reads the version first; a write
// acknowledged before the query started has committed, so the query reads
// its version or a later one. A rater is kept under the version read in
// its book's own snapshot (Store.Book), and a query takes only the rater
// kept under exactly the version it read: the book as of that version. On
// a miss the query reads the book, which is at its version or later (a
// book read after the version and found earlier is read again, see
// loadAtLeast): later is fine, since it holds every write the query must
// see.
//
// It holds the rater of the version loaded last, besides the loads under
// way: one per version read, which every query that read that version
// waits for instead of reading the book again. A load that fails is not
// kept, and its waiters load for themselves. Closed months are rated with
// the books they froze (Service.frozen), not from here.
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

// loadFunc reads the live book and builds its rater; it returns the
// book's version, read in the book's snapshot.
type loadFunc func(context.Context) (*rater, int64, error)

// get returns the rater of version v (a book at v or later), from the
// cache or from load.
func (c *bookCache) get(ctx context.Context, v int64, load loadFunc) (*rater, error) {
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
		r, _, err := loadAtLeast(ctx, v, load)
		return r, err
	}
	return e.r, nil
}

// load fills e, the entry of the loads of version v, and keeps it under
// the version its book was read at, alone among the loaded entries; a
// failed load is dropped, and so is one that panics (its waiters then
// load for themselves).
func (c *bookCache) load(ctx context.Context, v int64, e *bookEntry, load loadFunc) {
	e.err = errLoadPanicked
	var at int64
	defer func() {
		c.mu.Lock()
		if c.entries[v] == e {
			delete(c.entries, v)
		}
		if e.err == nil {
			for k, o := range c.entries {
				if o.loaded() {
					delete(c.entries, k)
				}
			}
			c.entries[at] = e
		}
		c.mu.Unlock()
		close(e.done)
	}()
	e.r, at, e.err = loadAtLeast(ctx, v, load)
}

var errLoadPanicked = errors.New("billing: reading the price book panicked")

// loadAtLeast loads a book of version v or later. On one PostgreSQL node a
// book read after its version was is never earlier; a distributed
// database could answer the two reads from different nodes, so an
// earlier book is read again rather than used.
func loadAtLeast(ctx context.Context, v int64, load loadFunc) (*rater, int64, error) {
	for range 3 {
		r, at, err := load(ctx)
		if err != nil || at >= v {
			return r, at, err
		}
	}
	return nil, 0, apperr.New(apperr.KindUnavailable, "the price book read is older than its version %d; try again", v)
}

// size is how many versions the cache holds, loaded or loading.
func (c *bookCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
