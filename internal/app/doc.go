// Package app builds billingd from its configuration and runs it: the
// database (external or embedded), the migrations, the domain services, the
// gRPC server and the HTTP side. It is wiring only: no business rules.
package app
