#!/usr/bin/env bash
# Backup/restore throughput benchmark (BENCH_MB, default 512) against a loopback nats-server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh" >/dev/null
exec "$ROOT/.venv/bin/python" "$ROOT/benchmarks/backup_throughput.py"
