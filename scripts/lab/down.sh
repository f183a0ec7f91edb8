#!/usr/bin/env bash
# Remove the lab containers and network, and stop the release mirror.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
if docker info >/dev/null 2>&1; then
  .venv/bin/ansible-playbook -i "${NATSOPS_LAB_INVENTORY:-inventories/lab}" playbooks/lab_down.yml
fi
pidfile=.cache/lab/mirror.pid
if [ -s "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; fi
