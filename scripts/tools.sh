#!/usr/bin/env bash
# Builds the NATS CLI (natscli, binary `nats`) that tests/integration/cli runs against, into
# .cache/tools/bin/nats. Self-contained: GOPATH, module cache and build cache live under .cache/go.
# Idempotent: a stamp file records what was built; a second run returns at once.
#
# Go: natscli v0.5.0 needs Go >= 1.26 (its go.mod). A `go` of that version on PATH (or /usr/local/go) is used;
# otherwise (Debian 12's golang-go is 1.19) the official toolchain is fetched as the Go module
# golang.org/toolchain from the Go module proxy -- the same thing `GOTOOLCHAIN=auto` does -- with Python,
# checked against the SHA-256 pinned below, and unpacked under .cache/go/toolchain.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

NATSCLI_VERSION=0.5.0
GO_MIN=1.26.0
GO_TOOLCHAIN=1.26.0
case "$(uname -m)" in
  x86_64) arch=amd64; tc_sha256=38461905b98c59173672814302e222ab43b652274bc0c95817b08b71ab66b705 ;;
  aarch64) arch=arm64; tc_sha256=4c3f961bc257ff52e7a425166f9f75015f645dff071d01a81823455ffe646609 ;;
  *) echo "tools: unsupported arch $(uname -m)" >&2; exit 1 ;;
esac

TOOLS="$ROOT/.cache/tools"
GOBASE="$ROOT/.cache/go"
stamp="$TOOLS/natscli.stamp"
want="natscli v$NATSCLI_VERSION linux/$arch"
if [ -x "$TOOLS/bin/nats" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY=python3

# version_ok <go binary>: true when it reports go$GO_MIN or newer.
version_ok() {
  local v
  v="$("$1" env GOVERSION 2>/dev/null)" || return 1
  "$PY" - "$v" "$GO_MIN" <<'PY'
import re, sys
def parse(s):
    m = re.match(r"(?:go)?(\d+)\.(\d+)(?:\.(\d+))?", s)
    return tuple(int(x or 0) for x in m.groups()) if m else (0,)
sys.exit(0 if parse(sys.argv[1]) >= parse(sys.argv[2]) else 1)
PY
}

GO=""
for cand in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$GOBASE/toolchain/go$GO_TOOLCHAIN/bin/go"; do
  if [ -n "$cand" ] && [ -x "$cand" ] && GOTOOLCHAIN=local version_ok "$cand"; then GO="$cand"; break; fi
done

if [ -z "$GO" ]; then
  echo "tools: no Go >= $GO_MIN found; fetching go$GO_TOOLCHAIN from the Go module proxy"
  "$PY" - "${GOPROXY:-https://proxy.golang.org}" "$GO_TOOLCHAIN" "$arch" "$tc_sha256" "$GOBASE/toolchain" <<'PY'
import hashlib, os, shutil, sys, tempfile, urllib.request, zipfile
proxies, ver, arch, want, dest = sys.argv[1:]
proxy = next((p for p in proxies.replace("|", ",").split(",") if p.startswith(("http://", "https://"))), None)
if not proxy:
    sys.exit("tools: GOPROXY=%s has no http(s) proxy to fetch the Go toolchain from" % proxies)
mod = "v0.0.1-go%s.linux-%s" % (ver, arch)
url = "%s/golang.org/toolchain/@v/%s.zip" % (proxy.rstrip("/"), mod)
os.makedirs(dest, exist_ok=True)
tmp = tempfile.mkdtemp(dir=dest)
try:
    zpath = os.path.join(tmp, "toolchain.zip")
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as resp, open(zpath, "wb") as out:
        for block in iter(lambda: resp.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    if digest.hexdigest() != want:
        sys.exit("tools: %s has sha256 %s, expected %s" % (url, digest.hexdigest(), want))
    prefix = "golang.org/toolchain@%s/" % mod
    root = os.path.join(tmp, "go")
    with zipfile.ZipFile(zpath) as z:
        for info in z.infolist():
            if not info.filename.startswith(prefix) or info.is_dir():
                continue
            rel = info.filename[len(prefix):]
            if rel.startswith("/") or ".." in rel.split("/"):
                sys.exit("tools: unsafe path %s in %s" % (info.filename, url))
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with z.open(info) as src, open(path, "wb") as out:
                shutil.copyfileobj(src, out)
            mode = (info.external_attr >> 16) & 0o777
            if rel.startswith(("bin/", "pkg/tool/")):
                mode |= 0o755
            os.chmod(path, mode or 0o644)
    final = os.path.join(dest, "go" + ver)
    shutil.rmtree(final, ignore_errors=True)
    os.rename(root, final)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
PY
  GO="$GOBASE/toolchain/go$GO_TOOLCHAIN/bin/go"
fi

echo "tools: building natscli v$NATSCLI_VERSION with $("$GO" env GOVERSION) ($GO)"
mkdir -p "$TOOLS/bin"
start=$(date +%s)
env -u GOROOT -u GOFLAGS -u GOENV \
  GOTOOLCHAIN=local GOENV=off GOPATH="$GOBASE" GOMODCACHE="$GOBASE/pkg/mod" GOCACHE="$GOBASE/cache" \
  GOBIN="$TOOLS/bin" CGO_ENABLED=0 GOFLAGS="-mod=mod -trimpath" \
  "$GO" install "github.com/nats-io/natscli/nats@v$NATSCLI_VERSION"
"$TOOLS/bin/nats" --version | grep -qx "v$NATSCLI_VERSION" || {
  echo "tools: $TOOLS/bin/nats does not report v$NATSCLI_VERSION" >&2; exit 1; }
echo "$want" >"$stamp"
echo "tools: natscli v$NATSCLI_VERSION built in $(( $(date +%s) - start ))s -> $TOOLS/bin/nats"
