#!/usr/bin/env bash
# The NATS CLI in the local release mirror, laid out like natscli's official GitHub release (its goreleaser
# config: zip archives wrapped in a directory, README.md and LICENSE beside the binary, a SHA256SUMS file):
#   <mirror>/natscli/v<ver>/nats-<ver>-linux-<arch>.zip   holding nats-<ver>-linux-<arch>/{nats,README.md,LICENSE}
#   <mirror>/natscli/v<ver>/SHA256SUMS
# The binary is the one scripts/tools.sh builds from the natscli Go module (run here when missing); README.md and
# LICENSE come from that module's source. Zip and checksum are written with Python (no zip/unzip needed).
# Called by scripts/lab/mirror.sh; served with it on 127.0.0.1:<port>/natscli/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE="${1:-$ROOT/.cache/lab/mirror}"
NATSCLI_VERSION=0.5.0
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY=python3
case "$(uname -m)" in
  x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) echo "unsupported arch $(uname -m)" >&2; exit 1 ;;
esac

dir="$BASE/natscli/v$NATSCLI_VERSION"
name="nats-$NATSCLI_VERSION-linux-$arch"
[ -s "$dir/SHA256SUMS" ] && grep -q " $name.zip\$" "$dir/SHA256SUMS" && [ -s "$dir/$name.zip" ] && exit 0

"$ROOT/scripts/tools.sh"
src="$ROOT/.cache/go/pkg/mod/github.com/nats-io/natscli@v$NATSCLI_VERSION"
mkdir -p "$dir"
"$PY" - "$ROOT/.cache/tools/bin/nats" "$src" "$dir" "$name" <<'PY'
import hashlib, os, sys, time, zipfile
binary, src, dest, name = sys.argv[1:]
members = [(binary, "nats", 0o755)]
for doc in ("README.md", "LICENSE"):
    if os.path.exists(os.path.join(src, doc)):
        members.append((os.path.join(src, doc), doc, 0o644))
path = os.path.join(dest, name + ".zip")
tmp = path + ".tmp"
stamp = time.gmtime(os.path.getmtime(binary))[:6]
with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
    for local, arcname, mode in members:
        info = zipfile.ZipInfo("%s/%s" % (name, arcname), date_time=stamp)
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(local, "rb") as f:
            z.writestr(info, f.read())
os.rename(tmp, path)
digest = hashlib.sha256()
with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
with open(os.path.join(dest, "SHA256SUMS"), "w") as f:
    f.write("%s  %s.zip\n" % (digest.hexdigest(), name))
PY
echo "lab: mirrored natscli $NATSCLI_VERSION ($arch)"
