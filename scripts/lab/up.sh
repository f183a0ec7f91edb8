#!/usr/bin/env bash
# Create the lab: Docker engine, base image, release mirror, and one systemd container per node.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
scripts/setup.sh >/dev/null
scripts/lab/docker.sh
scripts/lab/image.sh
scripts/lab/mirror.sh
.venv/bin/ansible-playbook -i "${NATSOPS_LAB_INVENTORY:-inventories/lab}" playbooks/lab_up.yml
