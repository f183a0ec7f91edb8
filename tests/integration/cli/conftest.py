# Copyright: natsops.jetstream contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real NATS CLI (natscli, built into .cache/tools/bin/nats by scripts/tools.sh) for the interop tests.

Without the binary the tests are skipped, unless NATSOPS_REQUIRE_CLI=1 (CI): then the fixture fails, so a
missing CLI can never turn the suite green by skipping."""
import os
import shutil
import subprocess
import tempfile

import pytest

from natsproc import ROOT

NATS_CLI = os.environ.get("NATSOPS_NATS_CLI") or os.path.join(ROOT, ".cache", "tools", "bin", "nats")
NATSCLI_VERSION = "v0.5.0"


class Cli(object):
    """Runs `nats` with its own, empty configuration directory: no user context or default server leaks in."""

    def __init__(self, binary, home):
        self.binary = binary
        self.home = home
        self.env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"), NO_COLOR="1")
        for var in ("NATS_URL", "NATS_CONTEXT", "NATS_CA", "NATS_CERT", "NATS_KEY", "NATS_USER", "NATS_PASSWORD",
                    "NATS_CREDS", "NATS_NKEY", "NATS_TOKEN"):
            self.env.pop(var, None)

    @property
    def context_dir(self):
        return os.path.join(self.env["XDG_CONFIG_HOME"], "nats", "context")

    def run(self, *args, server=None, context=None, env=None, check=True, timeout=60):
        cmd = [self.binary]
        if server:
            cmd += ["--server", server]
        if context:
            cmd += ["--context", context]
        cmd += [str(a) for a in args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                              env=dict(self.env, **(env or {})))
        proc.output = proc.stdout + proc.stderr
        if check:
            assert proc.returncode == 0, "%s -> rc %d\n%s" % (" ".join(cmd), proc.returncode, proc.output[-3000:])
        return proc


@pytest.fixture(scope="session")
def cli():
    if not (os.path.isfile(NATS_CLI) and os.access(NATS_CLI, os.X_OK)):
        reason = ("the NATS CLI is not at %s; scripts/setup.sh (scripts/tools.sh) builds it" % NATS_CLI)
        if os.environ.get("NATSOPS_REQUIRE_CLI") == "1":
            pytest.fail("NATSOPS_REQUIRE_CLI=1 but " + reason, pytrace=False)
        pytest.skip(reason)
    home = tempfile.mkdtemp(prefix="natscli-home-")
    c = Cli(NATS_CLI, home)
    version = c.run("--version").output.strip()
    assert version == NATSCLI_VERSION, "expected natscli %s, %s reports %s" % (NATSCLI_VERSION, NATS_CLI, version)
    yield c
    shutil.rmtree(home, ignore_errors=True)
