#!/usr/bin/env bash
# ansible-test needs the collection at .../ansible_collections/natsops/jetstream: copy the tracked
# (and new, not ignored) files there and run `ansible-test sanity` (and `units` with --units).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/.venv/bin:$PATH"
# ansible-test bootstraps pip in its per-test virtualenvs with a script it downloads from a host
# outside the reachable registries; give it the offline equivalent.
pipver="$(python - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._internal.host_configs import NativePythonConfig
import sys
cfg = NativePythonConfig(version="%d.%d" % sys.version_info[:2], path=sys.executable)
print(get_venv_packages(cfg)["pip"])
PY
)"
mkdir -p ~/.ansible/test/cache
install -m 0644 "$ROOT/scripts/ansible-test-bootstrap.py" ~/.ansible/test/cache/get_pip_"${pipver//./_}".py
DEST="$ROOT/.cache/ansible-test/ansible_collections/natsops/jetstream"
rm -rf "$DEST"
mkdir -p "$DEST"
# Only what ships in the collection (galaxy.yml build_ignore): no lab scripts, CI or benchmarks.
# (Files deleted in the work tree but not yet committed are left out.)
git ls-files -co --exclude-standard | grep -Ev '^(extensions|scripts|benchmarks|\.ci)/' \
  | while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done \
  | tar -cf - --files-from=- | tar -xf - -C "$DEST"
cd "$DEST"
# ansible-test lists a collection's files through git.
git init -q . && git add -A && git -c user.email=ci@localhost -c user.name=ci commit -qm snapshot
what="${1:-sanity}"
case "$what" in
  sanity)
    ansible-test sanity --color no --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
      --requirements
    ;;
  units)
    ansible-test units --color no --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --requirements
    ;;
  *) echo "usage: $0 [sanity|units]" >&2; exit 2 ;;
esac
