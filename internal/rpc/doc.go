// Package rpc implements billingd's gRPC services on top of the domain
// services: it maps protobuf messages to domain inputs and back, validates
// requests with protovalidate, and translates errors to gRPC status codes in
// one place (ToStatus). Its interceptors authenticate every call (API key
// or client certificate), limit each key's rate, give unary calls a default
// deadline and enforce internal/access's policy table. It holds no business
// rules and no SQL.
package rpc
