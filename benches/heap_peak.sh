#!/usr/bin/env bash
# The peak heap of `neon-migrate diff` on the schema_diff benchmark's pair of databases, under
# heaptrack: bytes the program asked of the allocator at its highest, a number that does not
# depend on the machine's load (max RSS does: pages of the binary, the allocator's own room).
#
# Usage: benches/heap_peak.sh [NEON_MIGRATE_BINARY] [TABLES]
#   NEON_MIGRATE_BINARY  default target/release/neon-migrate (build it first)
#   TABLES               2000 (default) or the count of another pair the bench built
# Needs heaptrack (Debian: `apt-get install heaptrack`) and the bench's databases, which
# `scripts/bench schema_diff` builds and keeps in its cluster; this starts that cluster when it
# is not running and stops it again at the end. Prints heaptrack's summary (peak heap, calls
# to allocation functions) and the max RSS of a run without heaptrack, with the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/release/neon-migrate}"
tables="${2:-2000}"
dir="${NEON_MIGRATE_SCHEMA_BENCH_DIR:-/var/tmp/neon-migrate-bench-schema}"
command -v heaptrack >/dev/null || { echo "heap_peak.sh: heaptrack not found" >&2; exit 1; }
[ -x "$bin" ] || { echo "heap_peak.sh: no executable $bin" >&2; exit 1; }
bin="$(realpath "$bin")"
port="$(sed -n 's/^port = //p' "$dir/data/neon-migrate.conf")"
pgbin="$(sed -n '1s/^\(.*\)\/postgres .*/\1/p' "$dir/data/postmaster.opts")"
owner="$(stat -c %U "$dir/data")"
pgctl() {
  if [ "$(id -un)" = "$owner" ]; then "$pgbin/pg_ctl" "$@"; else su "$owner" -c "$(printf '%q ' "$pgbin/pg_ctl" "$@")"; fi
}
started=""
if ! pgctl -D "$dir/data" status >/dev/null 2>&1; then
  pgctl -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
  started=1
fi
work="$(mktemp -d)"
cleanup() {
  rm -rf "$work"
  if [ -n "$started" ]; then pgctl -D "$dir/data" -m fast -w stop >/dev/null; fi
}
trap cleanup EXIT
a=nmschema_bench_a b=nmschema_bench_b
if [ "$tables" != 2000 ]; then a="${a}_$tables" b="${b}_$tables"; fi
# The bench cluster's own password, in the URL as the bench passes it (a local throwaway cluster).
password="$(cat "$dir/password")"
url() { echo "postgres://postgres:$password@127.0.0.1:$port/$1"; }
echo "# $(basename "$bin") diff, $tables tables; load $(cut -d' ' -f1-3 /proc/loadavg) at start"
(cd "$work" && heaptrack -o "$work/heap" "$bin" diff --from "$(url $a)" --to "$(url $b)" >"$work/plan.sql" 2>/dev/null) || true
heaptrack_print -f "$work"/heap.* 2>/dev/null | grep -E '^(calls to allocation functions|peak heap memory consumption|total memory leaked)' || echo "heap_peak.sh: heaptrack recorded nothing" >&2
for i in 1 2 3; do
  (cd "$work" && /usr/bin/time -f "max RSS %M kB, %e s" "$bin" diff --from "$(url $a)" --to "$(url $b)" 2>&1 >"$work/plan$i.sql" | grep '^max RSS')
done
echo "plan: $(grep -c ';$' "$work/plan1.sql") lines ending in ';', md5 $(md5sum <"$work/plan1.sql" | cut -d' ' -f1)"
echo "# load $(cut -d' ' -f1-3 /proc/loadavg) at end"
