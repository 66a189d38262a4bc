#!/usr/bin/env bash
# Builds Citus from a source directory and installs it into the machine's
# PostgreSQL (Debian layout, default major version 15). Citus is not a Debian
# package, so its public source (github.com/citusdata/citus, tag v13.2.2 for
# PostgreSQL 15-17) is built here; this is never part of CI, whose Citus
# tests skip where no Citus is installed.
#
#   scripts/citus/build.sh /path/to/citus-source   # e.g. `git archive v13.2.2 | tar -x`
#
# Environment: PG_MAJOR (15), JOBS (2), SKIP_APT=1 to not install build deps.
set -euo pipefail

src=${1:?usage: $0 CITUS_SOURCE_DIR}
PG_MAJOR=${PG_MAJOR:-15}
JOBS=${JOBS:-2}
pg_config=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config

if [[ ${SKIP_APT:-0} != 1 ]]; then
	pkgs=(postgresql-server-dev-$PG_MAJOR liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev
		libxslt1-dev libpam0g-dev libreadline-dev autoconf flex bison make gcc)
	missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if ((${#missing[@]})); then
		echo "installing build dependencies: ${missing[*]}"
		apt-get install -y --no-install-recommends "${missing[@]}" || {
			apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"
		}
	fi
fi

cd "$src"

# Debian's PostgreSQL 15.20 exports have_createdb_privilege(), which Citus
# 13.2.2 still defines as a static function for PostgreSQL < 16: the two
# clash at compile time. Drop Citus's copy when the server headers declare it.
compat=src/include/pg_version_compat.h
server_inc=$("$pg_config" --includedir-server)
if grep -q 'have_createdb_privilege' "$server_inc/commands/dbcommands.h" 2>/dev/null &&
	grep -q '^have_createdb_privilege(void)' "$compat"; then
	echo "patching $compat: removing the static have_createdb_privilege (PostgreSQL exports it)"
	perl -0pi -e 's/static inline bool\nhave_createdb_privilege\(void\)\n\{.*?\n\}\n//s' "$compat"
fi

if [[ ! -f config.status ]]; then
	PG_CONFIG=$pg_config ./configure --without-libcurl
fi
# with_llvm=no: skip the LLVM bitcode (JIT inlining) that doubles the build time.
make -j"$JOBS" with_llvm=no
make install with_llvm=no
echo "citus installed into $("$pg_config" --pkglibdir)"
