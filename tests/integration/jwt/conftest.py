"""Decentralized auth on loopback: keys, operator, account and user JWTs and .creds files made by the collection's
modules through a real ansible-playbook, a real nats-server in operator mode with the memory resolver preloaded with
the account JWTs, and the NATS maintainers' JavaScript libraries (@nats-io/jwt, @nats-io/nkeys) as an independent
decoder. Every process is killed when its fixture ends."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from natsproc import DEFAULT_BINARY, ROOT, ansible_env, free_ports  # noqa: E402

NODE_DIR = os.path.join(os.path.dirname(__file__), "node")
NODE_CACHE = os.path.join(ROOT, ".cache", "jwt-node")


def run_play(workdir, tasks, check=False, diff=True, expect_fail=False):
    """Run tasks on localhost (connection local) through ansible-playbook; returns (results, stdout)."""
    play = [{"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks}]
    path = os.path.join(workdir, "play-%d.yml" % time.monotonic_ns())
    with open(path, "w") as f:
        json.dump(play, f)
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", path]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    results = [t["hosts"]["localhost"] for t in out["plays"][0]["tasks"]]
    if not expect_fail:
        assert proc.returncode == 0, json.dumps(results, indent=1)[-4000:]
    return results, proc.stdout


def nats_cli():
    for dirpath, dummy, files in os.walk(os.path.join(ROOT, ".cache")):
        if "nats" in files and os.access(os.path.join(dirpath, "nats"), os.X_OK) and dirpath.endswith("bin"):
            return os.path.join(dirpath, "nats")
    return shutil.which("nats")


def node_checker():
    """Install @nats-io/jwt and @nats-io/nkeys from the lockfile into .cache/jwt-node (npm ci, once per lockfile)
    and return a function that runs verify.js; skip when node or npm are missing."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are needed for the @nats-io/jwt checks")
    lock = open(os.path.join(NODE_DIR, "package-lock.json")).read()
    stamp = os.path.join(NODE_CACHE, ".lock-installed")
    if not os.path.exists(stamp) or open(stamp).read() != lock:
        os.makedirs(NODE_CACHE, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(os.path.join(NODE_DIR, name), os.path.join(NODE_CACHE, name))
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=NODE_CACHE, check=True,
                       capture_output=True, timeout=300)
        with open(stamp, "w") as f:
            f.write(lock)

    def check(jwts=None, creds=None):
        proc = subprocess.run(["node", os.path.join(NODE_DIR, "verify.js")], input=json.dumps(
            {"jwts": jwts or {}, "creds": creds or {}}), capture_output=True, text=True, timeout=60, check=True,
            env=dict(os.environ, NODE_PATH=os.path.join(NODE_CACHE, "node_modules")))
        return json.loads(proc.stdout)
    return check


class OperatorServer(object):
    """A standalone JetStream nats-server in operator mode with the memory resolver preloaded with account JWTs."""

    def __init__(self, operator_jwt_path, system_account, accounts, binary=DEFAULT_BINARY):
        self.workdir = tempfile.mkdtemp(prefix="natsops-jwt-")
        self.port, self.http_port = free_ports(2)
        preload = ", ".join("%s: %s" % (pub, json.dumps(open(path).read().strip())) for pub, path in accounts.items())
        self.conf = os.path.join(self.workdir, "nats.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "server_name: jwt-s1",
                "listen: 127.0.0.1:%d" % self.port,
                "http: 127.0.0.1:%d" % self.http_port,
                "operator: %s" % json.dumps(operator_jwt_path),
                "system_account: %s" % system_account,
                "resolver: MEMORY",
                "resolver_preload: { %s }" % preload,
                "jetstream { store_dir: %s, max_memory_store: 256MB, max_file_store: 1GB }"
                % json.dumps(os.path.join(self.workdir, "store")),
            ]) + "\n")
        self.binary = binary
        self.proc = None

    @property
    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    def start(self, timeout=30):
        self.log = open(os.path.join(self.workdir, "server.log"), "wb")
        self.proc = subprocess.Popen([self.binary, "-c", self.conf], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.http_port, timeout=2) as r:
                    if json.loads(r.read().decode()).get("status") == "ok":
                        return self
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("nats-server in operator mode did not start: %s" % self.log_text()[-3000:])

    def log_text(self):
        path = os.path.join(self.workdir, "server.log")
        return open(path, errors="replace").read() if os.path.exists(path) else ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if getattr(self, "log", None):
            self.log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
