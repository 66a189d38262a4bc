// Package app builds billingd from its configuration and runs it: the
// database (external or embedded), the migrations, the domain services, the
// gRPC server and the HTTP side, TLS and the bootstrap admin key. The REST
// gateway and billingd's own calls reach the gRPC server over in-process
// connections, so they pass the same interceptors without a network hop.
// It is wiring only: no business rules.
package app
