// Package storetest is the one shared test suite over the domain
// repositories; every store implementation runs it from its own tests with
// Run. It checks storage behaviour (round trips, pagination, constraint
// backstops, error kinds), not business rules, which the domain services'
// tests cover. Tests only; production code must not import it.
package storetest
