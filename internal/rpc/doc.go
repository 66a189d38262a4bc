// Package rpc implements billingd's gRPC services on top of the domain
// services: it maps protobuf messages to domain inputs and back, validates
// requests with protovalidate, and translates errors to gRPC status codes in
// one place (ToStatus). It holds no business rules and no SQL.
package rpc
