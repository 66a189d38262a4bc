// Package customer holds billing accounts and the structure usage refers to:
// customer → organisation (e.g. a VMware Cloud Director org) → VDC. The root
// holds the types, validated inputs, the Repository the store implements and
// the Service that enforces the rules in one transaction.
//
// It must not import the store, pgx or gRPC, nor know about prices: whatever
// refers to a customer is reported by Repository.CustomerReferrer.
package customer
