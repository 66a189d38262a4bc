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
		if r.customer != want.customer || r.quantity != want.quantity || r.resource != want.resource || r.key != "bench-"+strconv.Itoa(i) {
			t.Fatalf("row %d = %+v, want customer %s, quantity %s, resource %s", i, r, want.customer, want.quantity, want.resource)
		}
	}
}
