#!/usr/bin/env bash
# fuzz.sh PACKAGE TARGET FUZZTIME — runs one fuzz target for FUZZTIME.
#
# Go 1.26's fuzz coordinator can end a run that found nothing with a bare
# "context deadline exceeded" when -fuzztime expires while a worker is busy
# (a race fixed in Go 1.27: go.dev/issue/75804); on a loaded 2-core machine
# it happens now and then. Such a run wrote no failing input, so it is run
# once more; a run that writes one (testdata/fuzz/TARGET) fails at once.
set -uo pipefail
pkg=$1 target=$2 fuzztime=$3
corpus="${pkg#./}/testdata/fuzz/$target"

inputs() { ls "$corpus" 2>/dev/null | sort; }

for attempt in 1 2; do
	before=$(inputs)
	log=$(mktemp)
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	after=$(inputs)
	if [ "$status" -eq 0 ]; then
		rm -f "$log"
		exit 0
	fi
	if [ "$before" != "$after" ] || grep -q "Failing input written" "$log" || ! grep -q "context deadline exceeded" "$log"; then
		rm -f "$log"
		exit "$status" # a finding, or a failure of another kind
	fi
	rm -f "$log"
	echo "fuzz.sh: $target stopped with the coordinator's deadline race and no failing input; run $attempt of 2" >&2
done
exit 1
