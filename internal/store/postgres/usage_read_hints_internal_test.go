package postgres

import (
	"testing"
	"time"
)

// TestReadHintsExpireAndStayBounded: a hint is kept for readHintTTL, and
// the map never holds more than maxReadHints.
func TestReadHintsExpireAndStayBounded(t *testing.T) {
	var h readHints
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	k := readHintKey{kind: hintPooled, customer: "acme", metrics: "vm.vcpu"}
	if _, ok := h.get(k, now); ok {
		t.Fatal("a hint before any was put")
	}
	h.put(k, readHint{pools: 3, records: 600}, now)
	if v, ok := h.get(k, now.Add(readHintTTL-time.Second)); !ok || v.records != 600 {
		t.Errorf("within the TTL: %+v, %v", v, ok)
	}
	if _, ok := h.get(k, now.Add(readHintTTL)); ok {
		t.Error("a hint kept past its TTL")
	}
	for i := range 2 * maxReadHints {
		h.put(readHintKey{customer: "c", from: int64(i)}, readHint{}, now)
		if len(h.m) > maxReadHints {
			t.Fatalf("%d hints kept, more than %d", len(h.m), maxReadHints)
		}
	}
}
