#!/usr/bin/env bash
# Idempotent setup of everything the project needs on a fresh Debian 12 machine:
# OS packages, the Python virtualenv (.venv) with pinned requirements, and the
# collection linked into .cache/collections so playbooks resolve natsops.jetstream.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Debian packages of the commands that the scripts, tests and Makefile call beyond a bare Debian 12
# system, as <command>:<package>. tests/unit/test_setup_commands.py checks every script against this list.
APT_TOOLS=(
  docker:docker.io dockerd:docker.io  # the lab and Molecule's systemd containers
  debootstrap:debootstrap             # the lab's base image
  ssh:openssh-client                  # the Molecule `default` scenario connects over SSH
  bc:bc                               # benchmarks/lab_converge.sh
  promtool:prometheus                 # tests/unit/monitoring: promtool check/test rules, check config
  prometheus:prometheus               # tests/integration/monitoring: the storage alert on a real store
  prometheus-node-exporter:prometheus-node-exporter
  node:nodejs npm:npm                 # tests/integration/jwt: @nats-io/jwt, an independent JWT decoder
  iptables:iptables                   # tests/integration/health: a cluster behind an unreachable gateway port
)
need_apt=()
for entry in "${APT_TOOLS[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || need_apt+=("${entry#*:}")
done
# `python3 -m venv` needs ensurepip, which Debian ships apart from python3.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

stamp=".venv/.requirements.sha256"
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating .venv from requirements.txt"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

# Expose this checkout as the natsops.jetstream collection.
mkdir -p .cache/collections/ansible_collections/natsops
ln -sfn "$ROOT" .cache/collections/ansible_collections/natsops/jetstream
scripts/tools.sh  # the NATS CLI (natscli) for tests/integration/cli, into .cache/tools/bin/nats
# @nats-io/jwt and @nats-io/nkeys (pinned by the lockfile) for tests/integration/jwt, an independent decoder of the
# collection's JWTs and .creds files, into .cache/jwt-node (the tests install it the same way when it is missing).
node_lock=tests/integration/jwt/node/package-lock.json
if ! cmp -s "$node_lock" .cache/jwt-node/.lock-installed; then
  echo "setup: installing @nats-io/jwt into .cache/jwt-node"
  mkdir -p .cache/jwt-node
  cp tests/integration/jwt/node/package.json "$node_lock" .cache/jwt-node/
  (cd .cache/jwt-node && npm ci --no-audit --no-fund --silent)
  cp "$node_lock" .cache/jwt-node/.lock-installed
fi
echo "setup: ok"
