#!/usr/bin/env bash
# Build the natsops.jetstream execution environment image on the project's Debian 12 base, offline:
#   1. build the collection tarball and let `ansible-builder create` write its context (kept for reference:
#      builder's own Containerfile expects an RPM base with dnf/microdnf, so it is not used for the build);
#   2. build a wheelhouse on the host (pip wheel: ansible-core, ansible-runner, meta/ee-requirements.txt);
#   3. docker build our Containerfile: pip runs from its own wheel with --no-index, the collection and its
#      dependencies (community.crypto, community.general; community.docker for the lab's docker connection)
#      are installed from tarballs/copies, and the docker CLI is added for community.docker.docker.
# Usage: scripts/ee.sh [image]       build (default natsops/jetstream-ee:<collection version>)
#        scripts/ee.sh lab [image]   build, then run site.yml, health.yml, a resources apply and a backup
#                                    INSIDE the image against the lab (ansible-runner, docker process isolation)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
unset ANSIBLE_CONFIG
BASE="${NATSOPS_LAB_IMAGE:-natsops/debian12-systemd:1}"
VERSION="$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')"
mode=build
if [ "${1:-}" = lab ]; then mode=lab; shift; fi
IMAGE="${1:-natsops/jetstream-ee:$VERSION}"
WORK="$ROOT/.cache/ee"
CTX="$WORK/context"
mkdir -p "$WORK/wheels"
rm -rf "$CTX" "$WORK/builder" && mkdir -p "$CTX/collections" "$CTX/bin"

start=$(date +%s)
ansible-galaxy collection build --force --output-path "$CTX/collections" . >/dev/null
TARBALL="$(ls "$CTX"/collections/natsops-jetstream-*.tar.gz)"

# The context ansible-builder would use (schema check of the definition; not built, see above).
cat >"$WORK/execution-environment.yml" <<EOF
version: 3
images:
  base_image:
    name: $BASE
dependencies:
  ansible_core:
    package_pip: ansible-core
  ansible_runner:
    package_pip: ansible-runner
  galaxy:
    collections:
      - name: collections/$(basename "$TARBALL")
        type: file
  python_interpreter:
    python_path: /usr/bin/python3
additional_build_files:
  - src: $TARBALL
    dest: collections
options:
  package_manager_path: /usr/bin/apt-get
EOF
ansible-builder create -f "$WORK/execution-environment.yml" -c "$WORK/builder" >/dev/null

# Wheelhouse from the host (same CPython minor as the base image: 3.11). Pins follow requirements.txt.
core="$(grep -E '^ansible-core==' requirements.txt)"
runner="$(grep -E '^ansible-runner==' requirements.txt)"
cp meta/ee-requirements.txt "$CTX/ee-requirements.txt"
pip wheel -q --wheel-dir "$WORK/wheels" pip "$core" "$runner" -r meta/ee-requirements.txt
cp -r "$WORK/wheels" "$CTX/wheels"

# Collection dependencies, from the collections the pinned ansible package ships (no Galaxy access here).
# ansible_collections is a namespace package: with PYTHONPATH=.cache/collections (the documented environment) its
# first path is the repository's symlink tree, so pick the entry that actually holds community.crypto.
site="$(python -c 'import ansible_collections, os; print(next(os.path.dirname(p) for p in ansible_collections.__path__ if os.path.isdir(os.path.join(p, "community", "crypto"))))')"
for c in community/crypto community/general community/docker; do
  mkdir -p "$CTX/collections/deps/ansible_collections/$c"
  cp -r "$site/ansible_collections/$c/." "$CTX/collections/deps/ansible_collections/$c/"
done
cp "$(command -v docker)" "$CTX/bin/docker"

cat >"$CTX/Containerfile" <<EOF
FROM $BASE
COPY wheels /tmp/wheels
COPY ee-requirements.txt /tmp/ee-requirements.txt
RUN python3 /tmp/wheels/\$(cd /tmp/wheels && ls pip-*.whl)/pip install --no-index --find-links /tmp/wheels \\
      --break-system-packages --no-cache-dir --root-user-action=ignore \\
      pip "$core" "$runner" -r /tmp/ee-requirements.txt \\
 && rm -rf /tmp/wheels
COPY collections/deps/ansible_collections /usr/share/ansible/collections/ansible_collections
COPY collections/$(basename "$TARBALL") /tmp/
RUN ansible-galaxy collection install --offline --no-deps -p /usr/share/ansible/collections \\
      /tmp/$(basename "$TARBALL") && rm /tmp/$(basename "$TARBALL") \\
 && ansible-galaxy collection list natsops.jetstream
COPY bin/docker /usr/local/bin/docker
RUN mkdir -p /runner/project /runner/inventory /runner/env /runner/artifacts && chmod -R g+rwX /runner
ENV HOME=/runner ANSIBLE_COLLECTIONS_PATH=/usr/share/ansible/collections
WORKDIR /runner
LABEL org.opencontainers.image.title="natsops.jetstream execution environment" \\
      org.opencontainers.image.version="$VERSION"
CMD ["/bin/bash"]
EOF
docker build -q -f "$CTX/Containerfile" -t "$IMAGE" "$CTX" >/dev/null
end=$(date +%s)
size="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
echo "ee: built $IMAGE from $BASE in $((end - start)) s, $((size / 1000000)) MB"
docker run --rm "$IMAGE" sh -c 'ansible --version | head -1; ansible-runner --version; python3 -c "import nats, nkeys, cryptography, passlib, bcrypt; print(\"python deps ok\")"; ansible-galaxy collection list 2>/dev/null | grep -E "natsops|community\.(crypto|general|docker)"'

[ "$mode" = lab ] || exit 0

# AWX-like jobs in the image: ansible-runner (host) starts each job in a container of the image, with the
# private data directory mounted at /runner; the container joins the lab's network (NATS by container name)
# and gets the docker socket (community.docker.docker connection). The PKI and the generated secrets live on
# a persistent path mounted into the job (/persistent), the backups too, as docs/awx.md describes for AWX.
NETWORK="${NATSOPS_LAB_NETWORK:-natsops-lab}"
PKI="${NATSOPS_LAB_PKI:-$HOME/.natsops/pki/lab}"
SECRETS="${NATSOPS_LAB_SECRETS:-$HOME/.natsops/secrets/lab}"
PDD="$WORK/pdd"
rm -rf "$PDD" && mkdir -p "$PDD/project" "$PDD/inventory" "$PDD/env" "$WORK/backups"
cp -r inventories/lab/. "$PDD/inventory/"
for pb in site health resources backup; do
  printf -- '---\n- name: natsops.jetstream.%s\n  ansible.builtin.import_playbook: natsops.jetstream.%s\n' "$pb" "$pb" \
    >"$PDD/project/$pb.yml"
done
printf '[defaults]\nforks = 12\nhost_key_checking = False\ninterpreter_python = auto_silent\n[connection]\npipelining = True\n' \
  >"$PDD/project/ansible.cfg"
python - "$PDD" "$IMAGE" "$NETWORK" "$PKI" "$SECRETS" "$WORK/backups" <<'PY'
import json, subprocess, sys, time
import ansible_runner

pdd, image, network, pki, secrets, backups = sys.argv[1:]
nodes = ["natsops-lab-c%d-n%d" % (c, n) for c in (1, 2, 3) for n in (1, 2, 3)]
servers = ",".join("tls://%s:4222" % n for n in nodes)
client = "/persistent/pki/clients/admin"
common = {"nats_pki_dir": "/persistent/pki", "nats_server_secrets_dir": "/persistent/secrets"}
jobs = [
    ("site", "site.yml", {}),
    ("health", "health.yml", {"nats_health_report_file": "/persistent/backups/ee-health.json"}),
    ("resources", "resources.yml", {"jetstream_tls": True, "jetstream_client_dir": client, "jetstream_servers": servers,
                                    "jetstream_streams": [{"name": "EE_ORDERS", "subjects": ["ee.orders.>"],
                                                           "replicas": 3}]}),
    ("backup", "backup.yml", {"nats_backup_dir": "/persistent/backups", "nats_backup_streams": ["EE_ORDERS"],
                              "nats_backup_servers": servers, "nats_backup_tls_ca": client + "/ca.crt",
                              "nats_backup_tls_cert": client + "/tls.crt", "nats_backup_tls_key": client + "/tls.key"}),
    ("cleanup", "resources.yml", {"jetstream_tls": True, "jetstream_client_dir": client, "jetstream_servers": servers,
                                  "jetstream_streams": [{"name": "EE_ORDERS", "state": "absent"}]}),
]
failed = False
for ident, playbook, extra in jobs:
    with open(pdd + "/env/extravars", "w") as f:
        json.dump(dict(common, **extra), f)
    start = time.monotonic()
    r = ansible_runner.run(
        private_data_dir=pdd, playbook=playbook, ident=ident, quiet=True,
        process_isolation=True, process_isolation_executable="docker", container_image=image,
        container_options=["--network=" + network, "--env=ANSIBLE_CONFIG=/runner/project/ansible.cfg"],
        container_volume_mounts=["/var/run/docker.sock:/var/run/docker.sock", pki + ":/persistent/pki",
                                 secrets + ":/persistent/secrets", backups + ":/persistent/backups"])
    took = time.monotonic() - start
    changed = {h: n for h, n in (r.stats or {}).get("changed", {}).items() if n}
    print("ee job %-10s %-10s rc=%s %5.1f s changed=%s" % (ident, r.status, r.rc, took, changed))
    if r.status != "successful":
        failed = True
        print(r.stdout.read()[-3000:])
        break
sys.exit(1 if failed else 0)
PY
