#!/usr/bin/env bash
# The physical limit the converge benchmark is measured against: what it takes, with no Ansible at all, to put
# the very files site.yml produced (binary, config, TLS files, unit) into fresh systemd containers, start
# nats-server everywhere at once and wait until every node's /healthz answers 200.
#   benchmarks/raw_deploy.sh capture <dir>   # from the converged lab: one archive per node (not timed)
#   benchmarks/raw_deploy.sh deploy <dir>    # into fresh lab containers (timed by the caller)
set -euo pipefail
what="${1:?capture|deploy}"
dir="${2:?directory}"
inv="${NATSOPS_LAB_INVENTORY:-inventories/lab}"
nodes() { docker ps --format '{{.Names}}' | grep '^natsops-lab-c[0-9]*-n[0-9]*$' | sort; }

case "$what" in
  capture)
    mkdir -p "$dir"
    for c in $(nodes); do
      docker exec "$c" sh -c 'tar czf - /etc/nats-server /etc/systemd/system/nats-server.service \
        "$(readlink -f /opt/nats-server/current)"' >"$dir/$c.tgz" 2>/dev/null
    done
    ;;
  deploy)
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    pids=()
    for c in $(nodes); do
      [ -s "$dir/$c.tgz" ] || { echo "raw_deploy: no capture for $c in $dir ($inv)" >&2; exit 1; }
      { docker cp "$dir/$c.tgz" "$c:/root/raw.tgz" && docker exec -i "$c" sh -s <"$here/raw_node/start"; } &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    pids=()
    for c in $(nodes); do
      docker exec -i "$c" python3 - <"$here/raw_node/healthz.py" &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    ;;
  *) echo "usage: $0 capture|deploy <dir>" >&2; exit 2 ;;
esac
