#!/usr/bin/env bash
# migra on the schema_diff benchmark's pair of databases (called by benches/schema_diff.rs).
#
# Installs migra (pins in benches/migra-requirements.txt) into a virtualenv from PyPI, reused
# across runs until the pins or the Python change, then times `migra --unsafe FROM TO` RUNS
# times. The URLs come from MIGRA_FROM and MIGRA_TO (`postgresql+psycopg2://…`, no password:
# libpq reads PGPASSWORD), so no secret shows in a process list.
#
# Usage: MIGRA_FROM=… MIGRA_TO=… PGPASSWORD=… benches/migra.sh [RUNS]
# Prints one line per run on stdout: `run <seconds> <statements>`.
#    or: benches/migra.sh --install
# Installs (or reuses) the virtualenv and prints the path of its migra executable; the
# schema_diff bench times that executable itself, the same way as neon-migrate.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
req="$here/migra-requirements.txt"
venv="${NEON_MIGRATE_MIGRA_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/neon-migrate-bench/migra-venv}"
runs="${1:-3}"

py="$(command -v python3 || true)"
[ -n "$py" ] || { echo "migra.sh: python3 not found" >&2; exit 1; }
want="$({ cat "$req"; "$py" --version; } | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$venv/bin/migra" ]; then
  echo "migra.sh: installing migra ($req) into $venv" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
  echo "$want" >"$venv/.stamp"
fi

if [ "$runs" = "--install" ]; then
  echo "$venv/bin/migra"
  exit 0
fi
: "${MIGRA_FROM:?set MIGRA_FROM}" "${MIGRA_TO:?set MIGRA_TO}"

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for _ in $(seq "$runs"); do
  start="$(date +%s.%N)"
  rc=0
  "$venv/bin/migra" --unsafe "$MIGRA_FROM" "$MIGRA_TO" >"$out" || rc=$?
  end="$(date +%s.%N)"
  # migra exits 2 when it found differences (expected here), 0 when none.
  if [ "$rc" != 2 ] && [ "$rc" != 0 ]; then
    echo "migra.sh: migra failed (exit $rc)" >&2
    cat "$out" >&2
    exit 1
  fi
  echo "run $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') $(grep -c ';$' "$out" || true)"
done
