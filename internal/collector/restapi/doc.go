// Package restapi holds what the collector sources for HTTP JSON APIs
// (the backup products: Veeam, Cohesity, Rubrik) share: a client that logs
// in for a bearer token, logs in again once when the token expired (401)
// and retries transient failures; the settings every source has (the
// endpoint and its TLS, site, page_size, per_vm, the rules that map a
// platform's tenant to a billingd customer) and their checks; the Build
// and Base every source is made of, with the polling window of an
// interval-gauge source; and the tally that turns one poll into records.
// A product's package keeps only its API: paths, answers, paging, login.
package restapi
