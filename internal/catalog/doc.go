// Package catalog holds what billingd can bill: metrics (the product atoms
// collectors measure), product groups and products (a metric narrowed by a
// dimension filter). The root holds the types, validated inputs, the
// Repository the store implements and the Service that enforces the rules in
// one transaction.
//
// It must not import the store, pgx or gRPC: the store imports this package,
// and internal/rpc maps these types onto the wire.
package catalog
