// Package restapi holds what the collector sources for HTTP JSON APIs
// (the backup products: Veeam, Cohesity, Rubrik) share: a client that logs
// in for a bearer token, logs in again once when the token expired (401)
// and retries transient failures; the TLS settings of an endpoint; the
// rules that map a platform's tenant to a billingd customer; and the
// polling window of an interval-gauge source.
package restapi
