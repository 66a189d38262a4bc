// Package postgres is billingd's PostgreSQL store: a pgx pool, the
// transaction helper, every domain Repository, the mapping of SQLSTATE codes
// to apperr kinds, and the embedded numbered migrations with their runner.
//
// It imports the domain packages, never the reverse. It must not return
// driver text to clients (errors are wrapped with a neutral message, the
// cause kept for logs) nor hold business rules beyond the constraints the
// schema enforces as a backstop.
package postgres
