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
# The supercluster scenario deploys from the built artifact, not the source tree: build the tarball and
# install it into a fresh collections path that molecule.yml's provisioner uses (NATSOPS_COLLECTIONS_PATH).
# Dependencies (community.crypto, community.general) come from the pinned ansible package.
export NATSOPS_COLLECTIONS_PATH="$ANSIBLE_COLLECTIONS_PATH"
if [ "$scenario" = supercluster ]; then
  artifact="$ROOT/.cache/molecule-artifact"
  rm -rf "$artifact" && mkdir -p "$artifact"
  (unset ANSIBLE_CONFIG; cd "$artifact" \
    && ansible-galaxy collection build --output-path "$artifact" "$ROOT" >/dev/null \
    && ansible-galaxy collection install --force --offline --no-deps -p "$artifact/collections" \
         "$artifact"/natsops-jetstream-*.tar.gz >/dev/null)
  export NATSOPS_COLLECTIONS_PATH="$artifact/collections"
  echo "molecule: natsops.jetstream from $(ls "$artifact"/natsops-jetstream-*.tar.gz)"
fi
export PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
exec molecule "$command" -s "$scenario" "${@:3}"
