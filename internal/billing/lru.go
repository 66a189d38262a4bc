package billing

import (
	"container/list"
	"sync"
	"time"
)

// CacheLimits bound one in-process cache: at most Entries entries whose
// weights (lines, for the caches of results) add up to at most Weight; an
// entry older than TTL is gone (0: entries do not age). The least recently
// used entries are dropped first. An entry heavier than Weight is not kept.
// A zero field takes the cache's default; a negative Weight turns it off.
type CacheLimits struct {
	Entries int
	Weight  int
	TTL     time.Duration
}

func (l CacheLimits) or(def CacheLimits) CacheLimits {
	if l.Entries == 0 {
		l.Entries = def.Entries
	}
	if l.Weight == 0 {
		l.Weight = def.Weight
	}
	if l.TTL == 0 {
		l.TTL = def.TTL
	}
	return l
}

// lru is a bounded map from K to V, safe for concurrent use. Values are
// shared with every reader: they must not be changed once added.
type lru[K comparable, V any] struct {
	mu     sync.Mutex
	lim    CacheLimits
	now    func() time.Time
	order  list.List // of *lruItem, most recently used first
	items  map[K]*list.Element
	weight int
}

type lruItem[K comparable, V any] struct {
	key     K
	val     V
	weight  int
	expires time.Time // zero: never
}

func newLRU[K comparable, V any](lim CacheLimits, now func() time.Time) *lru[K, V] {
	return &lru[K, V]{lim: lim, now: now, items: map[K]*list.Element{}}
}

// get returns the value of k if it is kept and has not expired.
func (c *lru[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	e, ok := c.items[k]
	if !ok {
		return zero, false
	}
	it := e.Value.(*lruItem[K, V])
	if !it.expires.IsZero() && !c.now().Before(it.expires) {
		c.drop(e)
		return zero, false
	}
	c.order.MoveToFront(e)
	return it.val, true
}

// add keeps v under k with the given weight, dropping the least recently
// used entries to stay within the limits, and reports whether v is kept.
func (c *lru[K, V]) add(k K, v V, weight int) bool {
	if c.lim.Weight < 0 || weight > c.lim.Weight || c.lim.Entries <= 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		c.drop(e)
	}
	it := &lruItem[K, V]{key: k, val: v, weight: weight}
	if c.lim.TTL > 0 {
		it.expires = c.now().Add(c.lim.TTL)
	}
	c.items[k] = c.order.PushFront(it)
	c.weight += weight
	for c.weight > c.lim.Weight || len(c.items) > c.lim.Entries {
		c.drop(c.order.Back())
	}
	return true
}

func (c *lru[K, V]) drop(e *list.Element) {
	it := e.Value.(*lruItem[K, V])
	c.order.Remove(e)
	delete(c.items, it.key)
	c.weight -= it.weight
}

// size returns how many entries are kept and their total weight.
func (c *lru[K, V]) size() (entries, weight int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items), c.weight
}
