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
    pids=()
    for c in $(nodes); do
      [ -s "$dir/$c.tgz" ] || { echo "raw_deploy: no capture for $c in $dir ($inv)" >&2; exit 1; }
      docker exec -i "$c" sh -c 'set -e
        getent group nats >/dev/null || groupadd -r nats
        id nats >/dev/null 2>&1 || useradd -r -g nats -s /usr/sbin/nologin -d /var/lib/nats nats
        tar xzf - -C /
        ln -sfn "$(ls -d /opt/nats-server/*/ | head -1)" /opt/nats-server/current
        install -d -o nats -g nats -m 0750 /var/lib/nats
        systemctl daemon-reload
        systemctl start nats-server' <"$dir/$c.tgz" &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    pids=()
    for c in $(nodes); do
      docker exec "$c" python3 -c 'import ssl, time, urllib.request
c = ssl._create_unverified_context()
for _ in range(600):
    try:
        if urllib.request.urlopen("https://127.0.0.1:8222/healthz", timeout=2, context=c).status == 200:
            break
    except Exception:
        pass
    time.sleep(0.1)
else:
    raise SystemExit("not healthy")' &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
    ;;
  *) echo "usage: $0 capture|deploy <dir>" >&2; exit 2 ;;
esac
