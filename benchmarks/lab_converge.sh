#!/usr/bin/env bash
# Benchmark (not a test): on a fresh lab, time the first converge of site.yml until every node is
# healthy, then a no-op re-run (which must report changed=0), and the lab's total memory.
# Goals on a 2-core machine: first converge <= 55 s, no-op <= 20 s.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
inv=inventories/lab

scripts/lab/down.sh >/dev/null 2>&1 || true
scripts/lab/up.sh >/dev/null
rm -rf "${HOME}/.cache/natsops/nats-server"   # the controller cache starts empty too
rm -rf "${HOME}/.natsops/pki/lab" "${HOME}/.natsops/secrets/lab"   # and the PKI is generated from scratch

t0=$(date +%s.%N)
ansible-playbook -i "$inv" playbooks/site.yml >/tmp/natsops-bench-first.log 2>&1
t1=$(date +%s.%N)
ansible-playbook -i "$inv" playbooks/health.yml >/tmp/natsops-bench-health.log 2>&1
t2=$(date +%s.%N)
ansible-playbook -i "$inv" playbooks/site.yml >/tmp/natsops-bench-noop.log 2>&1
t3=$(date +%s.%N)

# Certificate rotation: every certificate re-issued (renewal window longer than their life) and applied by
# a reload; the nats-server PIDs must not change.
pids() { for c in $(docker ps --format '{{.Names}}' | grep '^natsops-lab-' | sort); do
  docker exec "$c" systemctl show -p MainPID --value nats-server; done | tr '\n' ' '; }
p0=$(pids)
t4=$(date +%s.%N)
ansible-playbook -i "$inv" playbooks/site.yml -e nats_pki_renew_days=4000 >/tmp/natsops-bench-rotate.log 2>&1
t5=$(date +%s.%N)
p1=$(pids)
reloads=$(grep -c 'will reload: certificates' /tmp/natsops-bench-rotate.log || true)

changed=$(awk '/ changed=/{for(i=1;i<=NF;i++) if ($i ~ /^changed=/) {split($i,a,"="); s+=a[2]}} END{print s+0}' /tmp/natsops-bench-noop.log)
# systemd in the containers moves services out of the containers' own cgroups (cgroupns=host), so
# docker stats undercounts: sum the resident memory of every process inside each container instead.
mem=$(for c in $(docker ps --format '{{.Names}}' | grep '^natsops-lab-'); do
  docker exec "$c" sh -c 'ps -eo rss='; done | awk '{s+=$1} END{printf "%.0f MiB", s/1024}')
nats_rss=$(for c in $(docker ps --format '{{.Names}}' | grep '^natsops-lab-'); do
  docker exec "$c" sh -c 'ps -o rss= -C nats-server'; done | awk '{s+=$1} END{printf "%.0f MiB", s/1024}')

printf '\n%-44s %10s %8s\n' "measure" "value" "goal"
printf '%-44s %9.1fs %8s\n' "first converge of site.yml (until healthy)" "$(echo "$t1 - $t0" | bc)" "<= 55s"
printf '%-44s %9.1fs %8s\n' "health.yml" "$(echo "$t2 - $t1" | bc)" "-"
printf '%-44s %9.1fs %8s\n' "no-op re-run of site.yml" "$(echo "$t3 - $t2" | bc)" "<= 20s"
printf '%-44s %10s %8s\n' "changed tasks in the no-op re-run" "$changed" "0"
printf '%-44s %9.1fs %8s\n' "rotate every certificate (re-issue + reload)" "$(echo "$t5 - $t4" | bc)" "-"
printf '%-44s %10s %8s\n' "nodes reloaded / PIDs unchanged" "$reloads / $([ "$p0" = "$p1" ] && echo yes || echo no)" "9 / yes"
printf '%-44s %10s\n' "lab memory (RSS of all processes, 9 nodes)" "$mem"
printf '%-44s %10s\n' "nats-server RSS, sum of 9 nodes" "$nats_rss"
[ "$changed" -eq 0 ] && [ "$p0" = "$p1" ] && [ "$reloads" -eq 9 ]
