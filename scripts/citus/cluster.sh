#!/usr/bin/env bash
# Starts and stops a local Citus cluster for tests and benchmarks: a
# coordinator and two workers, three PostgreSQL instances of the machine's
# PostgreSQL (with Citus installed by scripts/citus/build.sh), listening on
# 127.0.0.1 only, run as the `postgres` user (PostgreSQL refuses root).
#
#   scripts/citus/cluster.sh start   # prints the BILLINGD_TEST_CITUS_URL to export
#   scripts/citus/cluster.sh stop
#   scripts/citus/cluster.sh status
#
# Environment: CITUS_DIR (/var/tmp/billingd-citus: data directories and
# logs), CITUS_PORT (9700: coordinator; workers on the next two ports),
# PG_MAJOR (15). Authentication is trust on loopback: a test cluster only.
set -euo pipefail

PG_MAJOR=${PG_MAJOR:-15}
bin=/usr/lib/postgresql/$PG_MAJOR/bin
dir=${CITUS_DIR:-/var/tmp/billingd-citus}
port0=${CITUS_PORT:-9700}
ports=("$port0" $((port0 + 1)) $((port0 + 2)))
names=(coordinator worker1 worker2)
user=postgres

# as_pg runs a command as the postgres user (directly when already it).
as_pg() {
	if [[ $(id -un) == "$user" ]]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

psql_at() { # port, SQL
	as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U "$user" -d postgres -c "$2"
}

start() {
	[[ -f $bin/postgres ]] || { echo "no PostgreSQL $PG_MAJOR at $bin" >&2; exit 1; }
	[[ -f $("$bin/pg_config" --pkglibdir)/citus.so ]] ||
		{ echo "Citus is not installed into PostgreSQL $PG_MAJOR: run scripts/citus/build.sh first" >&2; exit 1; }
	mkdir -p "$dir"
	chown "$user": "$dir"
	local fresh=()
	for i in 0 1 2; do
		local d=$dir/${names[$i]}
		if [[ ! -f $d/PG_VERSION ]]; then
			as_pg "$bin/initdb" -D "$d" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
			cat >>"$d/postgresql.conf" <<CONF
# billingd test cluster (scripts/citus/cluster.sh)
listen_addresses = '127.0.0.1'
port = ${ports[$i]}
unix_socket_directories = '$dir'
shared_preload_libraries = 'citus'
max_connections = 300
max_prepared_transactions = 300   # Citus commits multi-node transactions in two phases
shared_buffers = 128MB
fsync = off                       # a throw-away test cluster
synchronous_commit = off
full_page_writes = off
citus.shard_count = 16
CONF
			fresh+=("$i")
		fi
		if ! as_pg "$bin/pg_ctl" -D "$d" status >/dev/null 2>&1; then
			as_pg "$bin/pg_ctl" -D "$d" -l "$dir/${names[$i]}.log" -w -t 60 start >/dev/null
		fi
	done
	for i in "${fresh[@]}"; do
		psql_at "${ports[$i]}" "CREATE EXTENSION IF NOT EXISTS citus"
	done
	if [[ " ${fresh[*]} " == *" 0 "* ]]; then
		psql_at "${ports[0]}" "SELECT citus_set_coordinator_host('127.0.0.1', ${ports[0]})" >/dev/null
		psql_at "${ports[0]}" "SELECT citus_add_node('127.0.0.1', ${ports[1]})" >/dev/null
		psql_at "${ports[0]}" "SELECT citus_add_node('127.0.0.1', ${ports[2]})" >/dev/null
	fi
	echo "Citus cluster up: coordinator 127.0.0.1:${ports[0]}, workers :${ports[1]} :${ports[2]} (data in $dir)"
	echo "export BILLINGD_TEST_CITUS_URL='postgres://$user@127.0.0.1:${ports[0]}/postgres?sslmode=disable'"
}

stop() {
	for i in 2 1 0; do
		local d=$dir/${names[$i]}
		if [[ -f $d/postmaster.pid ]]; then
			as_pg "$bin/pg_ctl" -D "$d" -m fast -w stop >/dev/null
		fi
	done
	echo "Citus cluster stopped (data kept in $dir; remove it to start afresh)"
}

status() {
	for i in 0 1 2; do
		printf '%-12s ' "${names[$i]}"
		as_pg "$bin/pg_ctl" -D "$dir/${names[$i]}" status 2>/dev/null | head -1 || echo "not running"
	done
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
