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
from natsproc import DEFAULT_BINARY, ROOT, free_ports  # noqa: E402

NODE_DIR = os.path.join(os.path.dirname(__file__), "node")
NODE_CACHE = os.path.join(ROOT, ".cache", "jwt-node")


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


class FullResolverCluster(object):
    """A 3-node JetStream cluster (routes on loopback) in operator mode with the NATS-based ``full`` resolver, each
    node its own resolver directory, ``allow_delete`` on (unless told), and the system account preloaded. Accounts
    arrive only by a push ($SYS.REQ.CLAIMS.UPDATE). ``size=1`` is a standalone server; ``clusters`` ({name: size},
    several) a supercluster joined by gateways instead."""

    def __init__(self, operator_jwt_path, system_account, system_jwt_path, size=3, binary=DEFAULT_BINARY,
                 name="jwtc", allow_delete=True, clusters=None):
        self.workdir = tempfile.mkdtemp(prefix="natsops-jwt-full-")
        self.binary = binary
        self.nodes = []
        clusters = clusters or {name: size}
        self.cluster_names = list(clusters)
        for cname, csize in clusters.items():
            for i in range(1, csize + 1):
                client, cluster, http, gateway = free_ports(4)
                ndir = os.path.join(self.workdir, "%s-n%d" % (cname, i))
                os.makedirs(ndir)
                self.nodes.append(dict(name="%s-n%d" % (cname, i), cluster=cname, port=client, cluster_port=cluster,
                                       http_port=http, gateway_port=gateway, dir=ndir,
                                       resolver_dir=os.path.join(ndir, "jwt"), conf=os.path.join(ndir, "nats.conf"),
                                       proc=None, log=None))
        with open(system_jwt_path) as f:
            sys_jwt = f.read().strip()
        gateways = [{"name": c, "urls": ["nats://127.0.0.1:%d" % n["gateway_port"] for n in self.nodes
                                         if n["cluster"] == c]} for c in clusters]
        for node in self.nodes:
            peers = [n for n in self.nodes if n["cluster"] == node["cluster"] and n is not node]
            routes = ["nats-route://127.0.0.1:%d" % n["cluster_port"] for n in peers]
            lines = [
                "server_name: %s" % node["name"],
                "listen: 127.0.0.1:%d" % node["port"],
                "http: 127.0.0.1:%d" % node["http_port"],
                "operator: %s" % json.dumps(operator_jwt_path),
                "system_account: %s" % system_account,
                "resolver: { type: full, dir: %s, allow_delete: %s, interval: \"2m\", timeout: \"1.9s\" }"
                % (json.dumps(node["resolver_dir"]), "true" if allow_delete else "false"),
                "resolver_preload: { %s: %s }" % (system_account, json.dumps(sys_jwt)),
                "jetstream { store_dir: %s, max_memory_store: 256MB, max_file_store: 1GB }"
                % json.dumps(os.path.join(node["dir"], "store")),
            ]
            if len(self.nodes) > 1:
                lines.append("cluster { name: %s, listen: 127.0.0.1:%d, routes: %s }"
                             % (node["cluster"], node["cluster_port"], json.dumps(routes)))
            if len(clusters) > 1:
                lines.append("gateway { name: %s, listen: 127.0.0.1:%d, gateways: %s }"
                             % (node["cluster"], node["gateway_port"], json.dumps(gateways)))
            with open(node["conf"], "w") as f:
                f.write("\n".join(lines) + "\n")

    def url(self, node):
        return "nats://127.0.0.1:%d" % node["port"]

    @property
    def urls(self):
        return [self.url(n) for n in self.nodes]

    def monitor(self, node, path):
        with urllib.request.urlopen("http://127.0.0.1:%d/%s" % (node["http_port"], path), timeout=2) as r:
            return json.loads(r.read().decode())

    def start(self, timeout=60):
        for node in self.nodes:
            node["log"] = open(os.path.join(node["dir"], "server.log"), "wb")
            node["proc"] = subprocess.Popen([self.binary, "-c", node["conf"]], stdout=node["log"],
                                            stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            ok = 0
            for node in self.nodes:
                if node["proc"].poll() is not None:
                    break
                try:
                    ok += self.monitor(node, "healthz").get("status") == "ok"
                except Exception:  # noqa: BLE001 - not up yet
                    pass
            if ok == len(self.nodes) and self._gateways_up():
                return self
            time.sleep(0.3)
        logs = "\n".join(self.log_text(n)[-1500:] for n in self.nodes)
        self.stop()
        raise RuntimeError("the full-resolver cluster did not become healthy:\n%s" % logs)

    def _gateways_up(self):
        """Every node has an outbound gateway to every other cluster (always true for one cluster)."""
        if len(self.cluster_names) < 2:
            return True
        try:
            return all(len(self.monitor(n, "gatewayz").get("outbound_gateways") or {}) == len(self.cluster_names) - 1
                       for n in self.nodes)
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def pids(self):
        return dict((n["name"], n["proc"].pid) for n in self.nodes if n["proc"].poll() is None)

    def started(self):
        """Each node's start time as /varz reports it (a restart changes it)."""
        return dict((n["name"], self.monitor(n, "varz")["start"]) for n in self.nodes)

    def resolver_jwt(self, node, account):
        """The JWT a node's resolver directory holds for ``account`` (None when it holds none)."""
        path = os.path.join(node["resolver_dir"], account + ".jwt")
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return f.read().strip()

    def log_text(self, node):
        path = os.path.join(node["dir"], "server.log")
        return open(path, errors="replace").read() if os.path.exists(path) else ""

    def stop(self):
        for node in self.nodes:
            if node["proc"] and node["proc"].poll() is None:
                node["proc"].kill()
                node["proc"].wait(10)
            if node["log"]:
                node["log"].close()
        shutil.rmtree(self.workdir, ignore_errors=True)
