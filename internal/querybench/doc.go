// Package querybench measures what issue 16's goals 1 and 2 ask of a big
// customer's monthly bill: one fresh database, billingd started on it (a
// subprocess by default, so that its memory is its own), a VMware
// provider's catalog created through the public gRPC API, one month of
// usage shaped as the vCenter and VCD collectors send it (one interval
// record per resource-hour and metric) streamed through IngestUsage for a
// big customer (200 VMs) and a small one (1 VM), and then QueryBilling for
// each customer's month grouped by product: single-client latency of both
// (and their ratio), and throughput, latency and billingd's peak RSS under
// concurrent clients. Every answer must carry the same total as the first
// one; any other total or error fails the run. cmd/querybench is its
// command.
//
// It reuses usagebench's plumbing (database, billingd process, ingestion
// clients, rollup wait) and, like it, is a harness, not a test: billingd
// itself must not import it.
package querybench
