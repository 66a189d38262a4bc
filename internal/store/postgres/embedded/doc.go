// Package embedded runs billingd's "embedded default" database: when no
// --database-url is given, billingd starts a private PostgreSQL cluster in
// <data dir>/pg from the PostgreSQL server binaries installed on the machine
// (initdb and postgres), listening on 127.0.0.1 only with trust auth, and
// stops it again on shutdown.
//
// PostgreSQL refuses to run as root, so when billingd runs as root the cluster
// is created and run as an unprivileged user (the "postgres" system user by
// default) through syscall.Credential; the data dir is chowned to it and every
// parent directory must be traversable by it.
//
// The package owns the postmaster as a child process (not via pg_ctl): it puts
// it in its own process group, so a terminal's Ctrl-C reaches billingd and not
// postgres, and sets a parent-death signal so that a crashed billingd does not
// leave an orphaned postgres holding the data dir.
//
// It must not: download or bundle PostgreSQL, depend on sudo/su or pg_ctl,
// listen on anything but loopback, touch clusters or data outside its data
// dir, or know about billingd's schema (migrations live elsewhere; this
// package only hands out a URL).
package embedded
