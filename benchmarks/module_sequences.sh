#!/usr/bin/env bash
# Property-based sequence test of the JetStream resource modules against a live nats-server, run long:
# NATSOPS_SEQ_EXAMPLES examples (default 200; CI runs 12). Prints examples run, steps, seconds and steps/s.
# Expects the environment scripts/setup.sh prepares (.venv with ansible-core, nats-py, hypothesis, nats-server).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATS="$(mktemp)"
trap 'rm -f "$STATS"' EXIT
export NATSOPS_SEQ_EXAMPLES="${NATSOPS_SEQ_EXAMPLES:-200}" NATSOPS_SEQ_STATS="$STATS"
export PATH="$ROOT/.venv/bin:$PATH" ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections" PYTHONPATH="$ROOT/.cache/collections${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT"
status=0
python -m pytest -q -p no:cacheprovider tests/integration/modules/test_sequences.py || status=$?
python - "$STATS" <<'PY'
import json, sys
try:
    s = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit("no statistics written (the test did not run)")
rate = s["steps"] / s["seconds"] if s["seconds"] else 0.0
print("examples run: %d (of max %d)" % (s["examples"], s["max_examples"]))
print("steps: %d (ansible-playbook runs: %d)" % (s["steps"], s["playbooks"]))
print("outcomes: %s" % ", ".join("%s %d" % kv for kv in sorted(s["outcomes"].items())))
print("seconds: %.1f" % s["seconds"])
print("steps/s: %.2f" % rate)
PY
exit "$status"
