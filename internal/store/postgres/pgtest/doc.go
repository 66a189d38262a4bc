// Package pgtest gives each test a fresh, migrated PostgreSQL database on the
// server at BILLINGD_TEST_DATABASE_URL (default the local trust server),
// cloned from a template that is migrated once per schema. Tests only; it
// must not be imported by production code.
package pgtest
