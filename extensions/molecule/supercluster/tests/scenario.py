"""What the scenario's tests share: the nodes, running a playbook as an operator would, TLS clients, monitoring
reads, and a publisher that keeps writing while the supercluster changes. Not a test module (pytest collects
only test_*.py)."""
import asyncio
import json
import os
import ssl
import subprocess
import threading
import time

import nats

CLUSTERS = {"c1": ["c1-n1", "c1-n2", "c1-n3"], "c2": ["c2-n1", "c2-n2", "c2-n3"], "c3": ["c3-n1", "c3-n2", "c3-n3"]}
ALL = [n for nodes in CLUSTERS.values() for n in nodes]


ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY",
                      os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..")))


def run_playbook(name, *extra, timeout=900):
    """Run playbooks/<name> against the scenario's inventory, as an operator would; .seconds is how long it took."""
    inventory = os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_PIPELINING="1", ANSIBLE_FORKS="12",
               # Molecule's generated ansible.cfg sends failures to stderr; an operator sees them in stdout.
               ANSIBLE_DISPLAY_FAILED_STDERR="0")
    started = time.time()
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", inventory,
                           os.path.join(ROOT, "playbooks", name)] + list(extra),
                          capture_output=True, text=True, env=env, timeout=timeout, check=False)
    proc.seconds = time.time() - started
    return proc


def run_site(*extra):
    """Run playbooks/site.yml against the scenario's inventory."""
    return run_playbook("site.yml", *extra)


# The scenario deploys with TLS on every listener and mTLS users; site.yml's pki role writes here.
PKI = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "pki")
SECRETS = os.path.join(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", ""), "secrets")


def monitor(host, path):
    """Read a monitoring endpoint (HTTPS, verified against the deployed CA) from the node itself."""
    out = host.check_output(
        "python3 -c \"import ssl,urllib.request,sys;c=ssl.create_default_context(cafile='/etc/nats-server/tls/ca.crt');"
        "sys.stdout.write(urllib.request.urlopen('https://127.0.0.1:8222/%s', timeout=5, context=c).read().decode())\"" % path)
    return json.loads(out)


def tls_context(identity="admin", pki=PKI):
    """Client TLS: the CA verifies the servers (by chain; nodes are reached by IP), the identity's certificate
    authenticates the user (verify_and_map)."""
    ctx = ssl.create_default_context(cafile=os.path.join(PKI, "ca.crt"))
    ctx.check_hostname = False
    if identity:
        d = os.path.join(pki, "clients", identity)
        ctx.load_cert_chain(os.path.join(d, "tls.crt"), os.path.join(d, "tls.key"))
    return ctx


def node_monitor(node, path="varz"):
    """Read a monitoring endpoint of a node from inside its container (no testinfra host needed)."""
    return json.loads(subprocess.check_output(
        ["docker", "exec", node, "python3", "-c",
         "import ssl,urllib.request;c=ssl.create_default_context(cafile='/etc/nats-server/tls/ca.crt');"
         "print(urllib.request.urlopen('https://127.0.0.1:8222/%s', timeout=5, context=c).read().decode())" % path],
        text=True))


def urls(nodes):
    return ["tls://%s:4222" % container_ip(n) for n in nodes]


def name_of(host):
    return host.check_output("hostname")


def cluster_of(node):
    return node.split("-")[0]


def container_ip(container):
    """The container's address on the scenario's network."""
    return subprocess.check_output(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container],
        text=True).strip()


# Kept for the tests that call it by its old name.
_ip = container_ip


class Publisher(threading.Thread):
    """Publishes to R3 streams with bounded retries (20 s per message) and records every acknowledged sequence,
    so a test can prove that nothing acknowledged was lost."""
    def __init__(self, servers, streams):
        super().__init__(daemon=True)
        self.servers, self.streams = servers, streams
        self.acked = {s: [] for s in streams}
        self.ack_times = []
        self.failures, self.retries = 0, 0
        self.stop = threading.Event()

    def run(self):
        asyncio.run(self._run())

    async def _run(self):
        nc = await nats.connect(self.servers, tls=tls_context(), max_reconnect_attempts=-1, reconnect_time_wait=0.2,
                                connect_timeout=2)
        js = nc.jetstream()
        i = 0
        try:
            while not self.stop.is_set():
                for stream in self.streams:
                    deadline = time.time() + 20
                    while True:
                        try:
                            ack = await js.publish("%s.m" % stream.lower(), b"%d" % i, timeout=2,
                                                   headers={"Nats-Msg-Id": "%s-%d" % (stream, i)})
                            self.acked[stream].append(ack.seq)
                            self.ack_times.append(time.time())
                            break
                        except Exception:  # noqa: BLE001 - bounded retry while a node restarts
                            self.retries += 1
                            if time.time() > deadline:
                                self.failures += 1
                                break
                            await asyncio.sleep(0.2)
                i += 1
                await asyncio.sleep(0.02)
        finally:
            await nc.close()
