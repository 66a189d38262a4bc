package postgres

import (
	"testing"
	"time"
)

// TestPoolHintsExpireAndStayBounded: a hint is kept for poolHintTTL, and
// the map never holds more than maxPoolHints.
func TestPoolHintsExpireAndStayBounded(t *testing.T) {
	var h poolHints
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	k := poolHintKey{customer: "acme", metrics: "vm.vcpu"}
	if _, ok := h.get(k, now); ok {
		t.Fatal("a hint before any was put")
	}
	h.put(k, poolHint{pools: 3, records: 600}, now)
	if v, ok := h.get(k, now.Add(poolHintTTL-time.Second)); !ok || v.records != 600 {
		t.Errorf("within the TTL: %+v, %v", v, ok)
	}
	if _, ok := h.get(k, now.Add(poolHintTTL)); ok {
		t.Error("a hint kept past its TTL")
	}
	for i := range 2 * maxPoolHints {
		h.put(poolHintKey{customer: "c", from: int64(i)}, poolHint{}, now)
		if len(h.m) > maxPoolHints {
			t.Fatalf("%d hints kept, more than %d", len(h.m), maxPoolHints)
		}
	}
}
