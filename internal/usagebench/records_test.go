package usagebench

import (
	"fmt"
	"strconv"
	"testing"
)

// TestRowsFollowTheirFormulas: the tables makeRow reads from give the rows
// the load is defined by, for every residue the tables repeat over.
func TestRowsFollowTheirFormulas(t *testing.T) {
	for i := range 20_000 {
		r := makeRow(i)
		want := row{
			customer: fmt.Sprintf("cust-%03d", i%Customers),
			quantity: strconv.Itoa(1+i%16) + "." + strconv.Itoa(i%100),
			resource: "vm-" + strconv.Itoa(i%vms),
		}
		if r.customer != want.customer || r.quantity != want.quantity || r.resource != want.resource {
			t.Fatalf("row %d = %+v, want customer %s, quantity %s, resource %s", i, r, want.customer, want.quantity, want.resource)
		}
	}
}

// TestCollectorKeysAreUnique: the collector-shaped keys of a million
// records are all different, and name the record's VM, metric and time.
func TestCollectorKeysAreUnique(t *testing.T) {
	seen := make(map[string]int, 1_000_000)
	for i := range 1_000_000 {
		r := makeRow(i)
		if j, dup := seen[r.key]; dup {
			t.Fatalf("rows %d and %d have the key %s", j, i, r.key)
		}
		seen[r.key] = i
	}
	r := makeRow(1234)
	if want := "vcenter:vc01:" + vmUUIDs[1234%vms] + ":" + r.metric + ":" + strconv.FormatInt(r.start.Unix(), 10); r.key != want {
		t.Errorf("key %s, want %s", r.key, want)
	}
}
