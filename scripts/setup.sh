#!/usr/bin/env bash
# Idempotent setup of everything the project needs on a fresh Debian 12 machine:
# OS packages, the Python virtualenv (.venv) with pinned requirements, and the
# collection linked into .cache/collections so playbooks resolve natsops.jetstream.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v ssh >/dev/null 2>&1 || need_apt+=(openssh-client)
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
echo "setup: ok"
