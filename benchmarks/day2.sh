#!/usr/bin/env bash
# Day-2 benchmark: seconds per operation on a converged supercluster (the Molecule `supercluster` scenario: nine
# nodes plus five spare machines) while a client publishes to R3 streams: add two nodes, drain + undrain, remove two
# nodes, replace a failed node, add and remove a cluster, kill -9 of a stream leader; publishes acknowledged,
# retried and lost. Creates and converges the scenario when needed and leaves it up (`scripts/molecule.sh
# supercluster destroy` removes it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
scripts/molecule.sh supercluster create >/dev/null
scripts/molecule.sh supercluster converge >/dev/null
# molecule verify runs the scenario's tests; pytest's own variable selects the day-2 ones.
PYTEST_ADDOPTS="-k test_zz_day2" scripts/molecule.sh supercluster verify 2>&1 | tee "$LOG" >/dev/null || {
  tail -60 "$LOG"; exit 1; }
ldd="$(grep -h '^nats_server_lame_duck_duration:' roles/server/defaults/main.yml | awk '{print $2}')"
echo "lame-duck duration: $ldd (role default; a node without clients of its own leaves lame-duck mode at once)"
grep -oE '(day 2|replaced c1|kill -9 of).*' "$LOG" || { echo "no figures printed" >&2; exit 1; }
