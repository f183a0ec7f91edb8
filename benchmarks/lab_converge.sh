#!/usr/bin/env bash
# Benchmark (not a test): on a fresh lab, time the first converge of site.yml until every node is
# healthy (PKI generated from scratch), a no-op re-run (which must report changed=0), a rotation of every
# certificate (by reload, PIDs unchanged), and the lab's memory. Then the physical limit measured in the same
# run (benchmarks/raw_deploy.sh: the same files copied into fresh containers by hand, started, healthy), the
# ratios against it, and a 15-node (5+5+5) first converge and no-op for the cost per node.
# Goals (issue 10): first converge <= 5x the raw deploy, no-op <= 1.5x, rotation <= 3x. The no-op and the rotation
# are also measured with mitogen's strategy (optional; docs/performance.md). Run it on a quiet machine, from a
# clean checkout: other work on the cores or edits to the tree during the run distort or invalidate the figures.
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

changed_in() { awk '/ changed=/{for(i=1;i<=NF;i++) if ($i ~ /^changed=/) {split($i,a,"="); s+=a[2]}} END{print s+0}' "$1"; }
changed=$(changed_in /tmp/natsops-bench-noop.log)

# The same no-op and rotation with mitogen (optional, see docs/performance.md): its strategy plugin; the lab's
# inventory names the Docker connection `docker`, the short name mitogen recognises.
mitogen_dir=$(python -c 'import ansible_mitogen, os; print(os.path.dirname(ansible_mitogen.__file__))')
mitogen() { PYTHONPATH="$(dirname "$mitogen_dir")" ANSIBLE_STRATEGY_PLUGINS="$mitogen_dir/plugins/strategy" \
  ANSIBLE_STRATEGY=mitogen_linear ansible-playbook "$@"; }
m0=$(date +%s.%N)
mitogen -i "$inv" playbooks/site.yml >/tmp/natsops-bench-noop-mitogen.log 2>&1
m1=$(date +%s.%N)
changed_m=$(changed_in /tmp/natsops-bench-noop-mitogen.log)
pm0=$(pids)
m2=$(date +%s.%N)
mitogen -i "$inv" playbooks/site.yml -e nats_pki_renew_days=4000 >/tmp/natsops-bench-rotate-mitogen.log 2>&1
m3=$(date +%s.%N)
pm1=$(pids)
reloads_m=$(grep -c 'will reload: certificates' /tmp/natsops-bench-rotate-mitogen.log || true)
# (The monitoring container runs no nats-server: ps fails there, which must not end the script.)
# systemd in the containers moves services out of the containers' own cgroups (cgroupns=host), so
# docker stats undercounts: sum the resident memory of every process inside each container instead.
mem=$(for c in $(docker ps --format '{{.Names}}' | grep '^natsops-lab-'); do
  docker exec "$c" sh -c 'ps -eo rss='; done | awk '{s+=$1} END{printf "%.0f MiB", s/1024}')
nats_rss=$(for c in $(docker ps --format '{{.Names}}' | grep '^natsops-lab-'); do
  docker exec "$c" sh -c 'ps -o rss= -C nats-server || true'; done | awk '{s+=$1} END{printf "%.0f MiB", s/1024}')

# The physical limit: the same files into fresh containers, no Ansible.
raw_dir=$(mktemp -d)
benchmarks/raw_deploy.sh capture "$raw_dir"
scripts/lab/down.sh >/dev/null 2>&1
scripts/lab/up.sh >/dev/null
t6=$(date +%s.%N)
benchmarks/raw_deploy.sh deploy "$raw_dir"
t7=$(date +%s.%N)
rm -rf "$raw_dir"

# 15 nodes (5 + 5 + 5): first converge and no-op, for the cost per node.
scripts/lab/down.sh >/dev/null 2>&1
export NATSOPS_LAB_INVENTORY=benchmarks/lab15
scripts/lab/up.sh >/dev/null
rm -rf "${HOME}/.natsops/pki/lab" "${HOME}/.natsops/secrets/lab"
t8=$(date +%s.%N)
ansible-playbook -i benchmarks/lab15 playbooks/site.yml >/tmp/natsops-bench-15-first.log 2>&1
t9=$(date +%s.%N)
ansible-playbook -i benchmarks/lab15 playbooks/site.yml >/tmp/natsops-bench-15-noop.log 2>&1
t10=$(date +%s.%N)
changed15=$(changed_in /tmp/natsops-bench-15-noop.log)
mitogen -i benchmarks/lab15 playbooks/site.yml >/tmp/natsops-bench-15-noop-mitogen.log 2>&1
t11=$(date +%s.%N)
changed15m=$(changed_in /tmp/natsops-bench-15-noop-mitogen.log)
scripts/lab/down.sh >/dev/null 2>&1
unset NATSOPS_LAB_INVENTORY

raw=$(echo "$t7 - $t6" | bc)
ratio() { echo "scale=1; ($1) / $raw" | bc; }
printf '\n%-44s %10s %8s\n' "measure" "value" "goal"
printf '%-44s %9.1fs %8s\n' "raw deploy of the same files (the limit)" "$raw" "-"
printf '%-44s %9.1fs %8s\n' "first converge of site.yml (until healthy)" "$(echo "$t1 - $t0" | bc)" "-"
printf '%-44s %9.1fx %8s\n' "  ratio to the raw deploy" "$(ratio "$t1 - $t0")" "<= 5x"
printf '%-44s %9.1fs %8s\n' "health.yml" "$(echo "$t2 - $t1" | bc)" "-"
printf '%-44s %9.1fs %8s\n' "no-op re-run of site.yml" "$(echo "$t3 - $t2" | bc)" "-"
printf '%-44s %9.1fx %8s\n' "  ratio to the raw deploy" "$(ratio "$t3 - $t2")" "<= 1.5x"
printf '%-44s %10s %8s\n' "changed tasks in the no-op re-run" "$changed" "0"
printf '%-44s %9.1fs %8s\n' "rotate every certificate (re-issue + reload)" "$(echo "$t5 - $t4" | bc)" "-"
printf '%-44s %9.1fx %8s\n' "  ratio to the raw deploy" "$(ratio "$t5 - $t4")" "<= 3x"
printf '%-44s %10s %8s\n' "nodes reloaded / PIDs unchanged" "$reloads / $([ "$p0" = "$p1" ] && echo yes || echo no)" "9 / yes"
printf '%-44s %9.1fs %8s\n' "no-op re-run, mitogen (changed=$changed_m)" "$(echo "$m1 - $m0" | bc)" "-"
printf '%-44s %9.1fx %8s\n' "  ratio to the raw deploy" "$(ratio "$m1 - $m0")" "<= 1.5x"
printf '%-44s %9.1fs %8s\n' "rotate every certificate, mitogen" "$(echo "$m3 - $m2" | bc)" "-"
printf '%-44s %9.1fx %8s\n' "  ratio to the raw deploy" "$(ratio "$m3 - $m2")" "<= 3x"
printf '%-44s %10s %8s\n' "nodes reloaded / PIDs unchanged, mitogen" "$reloads_m / $([ "$pm0" = "$pm1" ] && echo yes || echo no)" "9 / yes"
printf '%-44s %10s\n' "lab memory (RSS of all processes, 9 nodes)" "$mem"
printf '%-44s %10s\n' "nats-server RSS, sum of 9 nodes" "$nats_rss"
printf '%-44s %9.1fs %8s\n' "15 nodes: first converge" "$(echo "$t9 - $t8" | bc)" "-"
printf '%-44s %9.2fs %8s\n' "  seconds per node (9 nodes: $(echo "scale=2; ($t1 - $t0) / 9" | bc))" "$(echo "scale=2; ($t9 - $t8) / 15" | bc)" "-"
printf '%-44s %9.1fs %8s\n' "15 nodes: no-op (changed=$changed15)" "$(echo "$t10 - $t9" | bc)" "-"
printf '%-44s %9.1fs %8s\n' "15 nodes: no-op, mitogen (changed=$changed15m)" "$(echo "$t11 - $t10" | bc)" "-"
[ "$changed" -eq 0 ] && [ "$changed15" -eq 0 ] && [ "$changed_m" -eq 0 ] && [ "$changed15m" -eq 0 ] \
  && [ "$p0" = "$p1" ] && [ "$reloads" -eq 9 ] && [ "$pm0" = "$pm1" ] && [ "$reloads_m" -eq 9 ]
