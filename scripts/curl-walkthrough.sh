#!/usr/bin/env bash
# The REST walk-through of docs/api.md, run for real: starts a billingd,
# then runs every curl of the walk-through in order, failing on any HTTP
# error (curl -f) or on an answer that is not the one the docs show.
# scripts/walkthrough_test.go runs it in `make test`, so the docs cannot go
# stale.
#
# Usage: scripts/curl-walkthrough.sh
#   BILLINGD_BIN           billingd binary (default: built into a temp dir)
#   BILLINGD_DATABASE_URL  PostgreSQL to use (default: an embedded one in a temp dir)
#   SHOW=1                 print every answer too
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
chmod 0711 "$work" # the embedded PostgreSQL runs as postgres when we are root
pid=
cleanup() {
	if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

bin=${BILLINGD_BIN:-}
if [ -z "$bin" ]; then
	go build -o "$work/billingd" ./cmd/billingd
	bin=$work/billingd
fi

# A bootstrap admin key, as an operator makes one.
BILLINGD_API_KEY=walkthrough-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export BILLINGD_API_KEY
"$bin" --grpc-addr 127.0.0.1:0 --http-addr 127.0.0.1:0 --data-dir "$work/data" \
	--bootstrap-admin-key "$BILLINGD_API_KEY" --log-format text >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
	grep -q 'msg="billingd serving"' "$work/log" && break
	kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; echo "billingd exited" >&2; exit 1; }
	sleep 0.1
done
port=$(sed -n 's/.*msg="billingd serving".* http=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/log" | head -n1)
[ -n "$port" ] || { cat "$work/log" >&2; echo "billingd did not start" >&2; exit 1; }

# expect NAME TEXT: the last answer must contain TEXT.
expect() {
	if ! grep -qF -- "$2" "$work/out"; then
		echo "walk-through step '$1': answer lacks: $2" >&2
		cat "$work/out" >&2
		exit 1
	fi
	echo "ok  $1"
}
# step NAME: run the curl command on stdin (one line, as in docs/api.md).
step() {
	local cmd
	cmd=$(cat)
	echo "--  $cmd"
	(cd "$work" && eval "$cmd") >"$work/out"
	if [ "${SHOW:-}" = 1 ]; then head -c 1500 "$work/out"; echo; fi
}

# ---- the walk-through (docs/api.md, "A walk-through with curl") ----
BILLINGD=http://127.0.0.1:$port
AUTH="authorization: Bearer $BILLINGD_API_KEY"

step metric <<'CMD'
curl -fsS -H "$AUTH" $BILLINGD/v1/metrics -d '{"key": "vm.vcpu", "displayName": "vCPU allocated", "unit": "vCPU", "aggregation": "AGGREGATION_TIME_WEIGHTED_AVG"}'
CMD
expect metric '"key":"vm.vcpu"'

step group <<'CMD'
curl -fsS -H "$AUTH" $BILLINGD/v1/productGroups -d '{"id": "compute", "displayName": "Compute"}'
CMD
expect group '"id":"compute"'

step product <<'CMD'
curl -fsS -H "$AUTH" $BILLINGD/v1/products -d '{"id": "vcpu", "productGroupId": "compute", "metricKey": "vm.vcpu", "displayName": "vCPU", "unit": "vCPU-hour"}'
CMD
expect product '"metricKey":"vm.vcpu"'

step customer <<'CMD'
curl -fsS -H "$AUTH" $BILLINGD/v1/customers -d '{"id": "acme", "displayName": "ACME", "billingTimeZone": "UTC"}'
CMD
expect customer '"id":"acme"'

step price-list <<'CMD'
curl -fsS -H "$AUTH" $BILLINGD/v1/priceLists -d '{"id": "default-eur", "displayName": "Default EUR", "currency": "EUR"}'
CMD
expect price-list '"currency":"EUR"'

step price <<'CMD'
curl -fsS -H "$AUTH" $BILLINGD/v1/priceLists/default-eur/prices -d '{"id": "vcpu-2026", "productId": "vcpu", "unitPrice": "0.02", "granularity": "GRANULARITY_HOUR", "validFrom": "2026-01-01T00:00:00Z"}'
CMD
expect price '"unitPrice":"0.02"'

step ingest <<'CMD'
curl -fsS -H "$AUTH" $BILLINGD/v1/usage:ingest -d '{"records": [{"idempotencyKey": "demo:vm1:vcpu:2026-10-01", "customerId": "acme", "metricKey": "vm.vcpu", "quantity": "4", "startTime": "2026-10-01T00:00:00Z", "endTime": "2026-10-02T00:00:00Z", "resourceId": "vm1"}, {"idempotencyKey": "demo:vm2:vcpu:2026-10-01", "customerId": "acme", "metricKey": "vm.vcpu", "quantity": "2", "startTime": "2026-10-01T06:00:00Z", "endTime": "2026-10-01T18:00:00Z", "resourceId": "vm2"}]}'
CMD
expect ingest '"accepted":2'

step ingest-again <<'CMD'
curl -fsS -H "$AUTH" $BILLINGD/v1/usage:ingest -d '{"records": [{"idempotencyKey": "demo:vm1:vcpu:2026-10-01", "customerId": "acme", "metricKey": "vm.vcpu", "quantity": "4", "startTime": "2026-10-01T00:00:00Z", "endTime": "2026-10-02T00:00:00Z", "resourceId": "vm1"}]}'
CMD
expect ingest-again '"duplicates":1'

step query <<'CMD'
curl -fsS -H "$AUTH" "$BILLINGD/v1/billing:query?query.customerIds=acme&query.month=2026-10&query.groupBy=GROUP_BY_PRODUCT"
CMD
expect query-quantity '"quantity":"120"'
expect query-total '"amount":"2.40"'

step report <<'CMD'
curl -fsS -H "$AUTH" -o acme-2026-10.csv "$BILLINGD/v1/reports/billing?customer=acme&month=2026-10&group_by=product&format=csv"
CMD
cp "$work/acme-2026-10.csv" "$work/out"
expect report ',120,vCPU-hour,0.02,2.40,EUR,'

step error <<'CMD'
curl -sS -w '%{http_code}\n' -H "$AUTH" $BILLINGD/v1/priceLists/default-eur/prices -d '{"productId": "vcpu", "unitPrice": "-1", "granularity": "GRANULARITY_HOUR"}'
CMD
expect error-status '400'
expect error-code '"code":3'
expect error-field '"field":"price.unit_price"'

step unauthenticated <<'CMD'
curl -sS -o /dev/null -w '%{http_code}\n' $BILLINGD/v1/products
CMD
expect unauthenticated '401'

step openapi <<'CMD'
curl -fsS $BILLINGD/openapi.json
CMD
expect openapi '"swagger":'

step readyz <<'CMD'
curl -fsS $BILLINGD/readyz
CMD
echo "ok  readyz"

step metrics <<'CMD'
curl -fsS $BILLINGD/metrics
CMD
expect metrics 'grpc_server_handled_total'

echo "walk-through passed"
