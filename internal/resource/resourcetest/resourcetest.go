// Package resourcetest holds the assertions the tests of the domain packages
// (catalog, customer, pricing) share on what their services return.
//
// Only tests may import it. It must not import the store, pgx or any domain
// package, nor hold fixtures of one domain: those stay in that package's
// helpers_test.go.
package resourcetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/billingd/billingd/internal/apperr"
)

// Must fails the test now when err is not nil.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// WantKind fails unless err is not nil and has the apperr kind want.
func WantKind(t testing.TB, err error, want apperr.Kind) {
	t.Helper()
	if got := apperr.KindOf(err); err == nil || got != want {
		t.Fatalf("error = %v (kind %v), want kind %v", err, got, want)
	}
}

// WantFields fails unless err is Invalid with violations on exactly these fields.
func WantFields(t testing.TB, err error, fields ...string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		t.Fatalf("error = %v, want Invalid on %v", err, fields)
	}
	var got []string
	for _, v := range e.Violations {
		if !slices.Contains(got, v.Field) {
			got = append(got, v.Field)
		}
	}
	slices.Sort(got)
	slices.Sort(fields)
	if !slices.Equal(got, fields) {
		t.Fatalf("violations on %v, want %v (%v)", got, fields, err)
	}
}

// Same compares values by their printed form, so that decimals compare by
// value and nil and empty maps or slices are equal.
func Same(t testing.TB, got, want any) {
	t.Helper()
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
}
