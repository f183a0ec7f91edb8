#!/usr/bin/env bash
# Run one Molecule scenario (extensions/molecule/<scenario>) end to end: destroy, create, converge,
# idempotence, verify, destroy. Builds the lab prerequisites (engine, base image, mirror) first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scenario="${1:?usage: scripts/molecule.sh <scenario> [molecule command [options]]}"
command="${2:-test}"
scripts/setup.sh >/dev/null
export PATH="$ROOT/.venv/bin:$PATH"
scripts/lab/docker.sh
scripts/lab/image.sh
scripts/lab/mirror.sh
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections"
export PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
exec molecule "$command" -s "$scenario" "${@:3}"
