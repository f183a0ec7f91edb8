#!/usr/bin/env bash
# The whole test suite. `scripts/test.sh` runs every stage; `scripts/test.sh unit lint` runs some.
# Every stage runs even when an earlier one failed; the exit code is non-zero if any failed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup.sh || exit 1
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections"
export PYTHONPATH="$ROOT/.cache/collections${PYTHONPATH:+:$PYTHONPATH}"
# setup.sh builds the NATS CLI and the suite installs promtool: their tests fail rather than skip when missing.
export NATSOPS_REQUIRE_CLI=1 NATSOPS_REQUIRE_PROMTOOL=1

REPO_TREE_UNIT_TESTS=(tests/unit/test_ee.py tests/unit/test_packaging.py tests/unit/test_setup_commands.py)
ALL_STAGES=(unit integration molecule-default molecule-supercluster lint sanity changelog docs)
stages=("$@")
[ "${#stages[@]}" -eq 0 ] && stages=("${ALL_STAGES[@]}")

run_stage() {
  case "$1" in
    # One unit stage: ansible-test units runs tests/unit in the collection as it ships; the few tests that need
    # the repository around it (packaging, EE, setup) skip there and run here once.
    unit)        scripts/sanity.sh units && python -m pytest -q -p no:cacheprovider "${REPO_TREE_UNIT_TESTS[@]}" ;;
    # Two workers, one test file each at a time (module fixtures stay together): each test starts its own
    # nats-server processes on free loopback ports. 7.5 min instead of about 11 on 2 cores.
    integration) python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile -rfE tests/integration ;;
    molecule-*)  scripts/molecule.sh "${1#molecule-}" ;;
    lint)        ansible-lint --offline ;;
    sanity)      scripts/sanity.sh sanity ;;
    changelog)   antsibull-changelog lint ;;
    docs)        scripts/docs.sh ;;
    *) echo "unknown stage $1 (known: ${ALL_STAGES[*]})" >&2; return 2 ;;
  esac
}

# Each stage's output also goes to .cache/test-logs/<stage>.log. CI shows only the end of the output, so the
# summary repeats what failed in a failed stage: pytest's FAILED/ERROR and E lines and Ansible's fatal lines, then
# the stage's last lines.
LOGS="$ROOT/.cache/test-logs"
mkdir -p "$LOGS"
passed=0; failed=0; report=(); failures=()
for stage in "${stages[@]}"; do
  echo "=== stage: $stage ==="
  start=$SECONDS
  run_stage "$stage" 2>&1 | tee "$LOGS/$stage.log"
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then
    passed=$((passed + 1)); report+=("PASS  $stage  $((SECONDS - start))s")
  else
    failed=$((failed + 1)); report+=("FAIL  $stage  $((SECONDS - start))s"); failures+=("$stage")
  fi
done
for stage in "${failures[@]}"; do
  echo "=== what failed in $stage (whole output: .cache/test-logs/$stage.log) ==="
  grep -E '^(FAILED|ERROR) [^ ]+[.]py|^E  +[A-Za-z]*(Error|Exception|assert)|^fatal: [[]' "$LOGS/$stage.log" | cut -c1-400 | tail -n 40
  echo "--- the last lines of $stage ---"
  tail -n 25 "$LOGS/$stage.log" | cut -c1-400
done
echo "=== summary ==="
printf '%s\n' "${report[@]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
