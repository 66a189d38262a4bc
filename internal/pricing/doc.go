// Package pricing holds price lists and their prices, campaigns (scheduled
// price overrides) and contracts (commitments). The root holds the types,
// validated inputs, the Repository the store implements and the Service that
// enforces the rules in one transaction: references exist, windows of one
// list and product do not overlap, contracts of one customer and product do
// not overlap, one list per owner and currency.
//
// It must not import the store, pgx or gRPC, nor the catalog and customer
// packages: it refers to products and customers by id and asks its
// Repository whether they exist.
package pricing
