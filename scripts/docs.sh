#!/usr/bin/env bash
# The collection's generated reference, built offline from the collection as installed (.cache/collections links
# natsops/jetstream to this checkout). Output goes to .cache/docs-build/ and is never committed.
#   1. antsibull-docs lint-collection-docs --plugin-docs: every module's and filter's DOCUMENTATION/EXAMPLES/RETURN
#      and every role's meta/argument_specs.yml must pass antsibull-docs' schema and markup checks.
#   2. antsibull-docs collection: one RST page per module, filter and role, and an index: .cache/docs-build/rst/.
#   3. antsibull-changelog lint, and the next release's notes rendered from changelogs/fragments in a temporary
#      copy: .cache/docs-build/CHANGELOG.preview.rst. changelogs/ in the checkout is not touched.
# The steps are independent and run side by side; each one's output is printed after all have finished, in this
# order. The exit code is non-zero if any failed.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ ! -x .venv/bin/antsibull-docs ] || [ ! -e .cache/collections/ansible_collections/natsops/jetstream ]; then
  scripts/setup.sh || exit 1
fi
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.cache/collections"
export PYTHONPATH="$ROOT/.cache/collections${PYTHONPATH:+:$PYTHONPATH}"

OUT="$ROOT/.cache/docs-build"
rm -rf "$OUT"
mkdir -p "$OUT/rst"
chmod 0755 "$OUT" "$OUT/rst"  # antsibull-docs writes only into a directory no one else can write to

LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT
titles=(); pids=()
step() {  # step <title> <command...>: start it in the background, its output into a log of its own
  local n="${#titles[@]}"
  titles+=("$1")
  shift
  "$@" > "$LOGS/$n" 2>&1 &
  pids+=("$!")
}

# The linter reports paths inside its temporary copy of the collection; show them relative to the checkout.
lint() {
  antsibull-docs lint-collection-docs --plugin-docs . 2>&1 | sed -e 's#[^ ]*/ansible_collections/natsops/jetstream/##'
}

build() {
  antsibull-docs collection --use-current --squash-hierarchy --fail-on-error --dest-dir "$OUT/rst" natsops.jetstream \
    || return 1
  # A plugin or role that ansible-doc did not find would be left out without an error: every one needs its page.
  local f name missing=()
  for f in plugins/modules/*.py roles/*/meta/argument_specs.yml; do
    case "$f" in
      plugins/modules/*) name="$(basename "$f" .py)_module.rst" ;;
      roles/*) name="$(basename "$(dirname "$(dirname "$f")")")_role.rst" ;;
    esac
    [ -f "$OUT/rst/$name" ] || missing+=("$name")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "docs: pages missing from the reference: ${missing[*]}" >&2
    return 1
  fi
  echo "docs: $(find "$OUT/rst" -name '*.rst' | wc -l) pages in ${OUT#"$ROOT"/}/rst"
}

changelog_preview() {
  local tmp coll
  tmp="$(mktemp -d)"
  coll="$tmp/ansible_collections/natsops/jetstream"
  mkdir -p "$coll"
  # Copies, not links: with linked directories the release step found no modules or filters to list as new.
  cp -r galaxy.yml meta plugins roles changelogs "$coll/"
  (cd "$coll" && antsibull-changelog release) \
    && cp "$coll/CHANGELOG.rst" "$OUT/CHANGELOG.preview.rst" \
    && echo "docs: release notes preview in ${OUT#"$ROOT"/}/CHANGELOG.preview.rst"
  local rc=$?
  rm -rf "$tmp"
  return "$rc"
}

step "lint module, filter and role documentation" lint
step "build the RST reference" build
step "lint changelog fragments" antsibull-changelog lint
step "render the release notes preview" changelog_preview

failed=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}"
  rc=$?
  echo "--- docs: ${titles[$i]}"
  cat "$LOGS/$i"
  if [ "$rc" -ne 0 ]; then
    echo "docs: FAILED: ${titles[$i]}" >&2
    failed=1
  fi
done
[ "$failed" -eq 0 ]
