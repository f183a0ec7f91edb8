#!/usr/bin/env bash
# Run one step of a Molecule scenario's test_sequence on its converged containers, alone, with the environment
# Molecule gives it:
#   scripts/molecule-step.sh supercluster steps/rotate.yml            a side_effect playbook
#   scripts/molecule-step.sh supercluster tests/drills/test_drift.py  one test file or directory (pytest options may follow)
# The containers must exist and be converged (scripts/molecule.sh <scenario> converge).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
scenario="${1:?usage: scripts/molecule-step.sh <scenario> <steps/x.yml | tests/...> [pytest options]}"
target="${2:?usage: scripts/molecule-step.sh <scenario> <steps/x.yml | tests/...> [pytest options]}"
SCENARIO_DIR="$ROOT/extensions/molecule/$scenario"
export PATH="$ROOT/.venv/bin:$PATH"
# Molecule's own name for the scenario's ephemeral directory (molecule.scenario.Scenario.ephemeral_directory).
D="${MOLECULE_EPHEMERAL_DIRECTORY:-$(python -c 'import sys, pathlib, molecule.text as t; print(pathlib.Path.home() / ".ansible" / "tmp" / ("molecule.%s.%s" % (t.checksum(pathlib.Path(sys.argv[1]).name, 4), sys.argv[2])))' "$ROOT" "$scenario")}"
[ -f "$D/inventory/ansible_inventory.yml" ] || { echo "no converged $scenario scenario ($D): run scripts/molecule.sh $scenario converge" >&2; exit 2; }
export MOLECULE_EPHEMERAL_DIRECTORY="$D" MOLECULE_INVENTORY_FILE="$D/inventory/ansible_inventory.yml"
export MOLECULE_PROJECT_DIRECTORY="$ROOT" MOLECULE_SCENARIO_DIRECTORY="$SCENARIO_DIR" MOLECULE_SCENARIO_NAME="$scenario"
export ANSIBLE_CONFIG="$D/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections" ANSIBLE_LOG_PATH="$D/ansible.log"
cd "$SCENARIO_DIR"
case "$target" in
  *.yml) exec ansible-playbook -i "$D/inventory" --diff "$target" ;;
  *) exec python -m pytest -p no:cacheprovider -s -q --tb=short --connection=ansible --ansible-inventory="$D/inventory" \
       --hosts=nats "$target" "${@:3}" ;;
esac
