// Package usagebench measures usage ingestion end to end against the two
// PostgreSQL baselines it has to be compared with, in one run on one fresh
// database: (a) a plain COPY of N usage rows into an unindexed table, (b) a
// COPY into a table with a unique index on the idempotency key, and (c) N
// records streamed by concurrent gRPC clients over loopback into billingd
// (a subprocess, or in process) with idempotency on. cmd/usagebench is its
// command.
//
// Its plumbing is shared with the other end-to-end harnesses
// (internal/querybench): NewDatabase, StartServer (billingd and its memory
// figures), Stream (concurrent ingestion clients) and WaitRollups.
//
// It is a harness, not a test: it must not be imported by billingd itself.
package usagebench
