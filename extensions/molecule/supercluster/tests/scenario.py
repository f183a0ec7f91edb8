"""What the scenario's tests share: the nodes, running a playbook as an operator would, TLS clients, monitoring
reads, and a publisher that keeps writing while the supercluster changes. Not a test module (pytest collects
only test_*.py)."""
import asyncio
import glob
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import nats
import nats.js.errors
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

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


class MonitorReadError(subprocess.CalledProcessError):
    """A failed read of a monitoring endpoint; its message ends with what the read printed (e.g. HTTP Error 503)."""

    def __str__(self):
        return "%s: %s" % (super().__str__(), (self.stderr or "").strip().splitlines()[-1:])


def node_monitor(node, path="varz"):
    """Read a monitoring endpoint of a node from inside its container (no testinfra host needed). A failed read
    raises CalledProcessError with the traceback in its stderr (a poll that expects 503 for a while prints nothing)."""
    try:
        return json.loads(subprocess.check_output(
            ["docker", "exec", node, "python3", "-c",
             "import ssl,urllib.request;c=ssl.create_default_context(cafile='/etc/nats-server/tls/ca.crt');"
             "print(urllib.request.urlopen('https://127.0.0.1:8222/%s', timeout=5, context=c).read().decode())" % path],
            text=True, stderr=subprocess.PIPE))
    except subprocess.CalledProcessError as exc:
        raise MonitorReadError(exc.returncode, exc.cmd, exc.output, exc.stderr) from None


def urls(nodes):
    return ["tls://%s:4222" % container_ip(n) for n in nodes]


def name_of(host):
    return host.check_output("hostname")


def once(host):
    """Supercluster-wide tests run once, from c1-n1 (testinfra runs every test on every node)."""
    if name_of(host) != "c1-n1":
        pytest.skip("supercluster-wide test runs once, from c1-n1")


def cluster_of(node):
    return node.split("-")[0]


def container_ip(container):
    """The container's address on the scenario's network."""
    return subprocess.check_output(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container],
        text=True).strip()


def container_ids():
    """Docker's ID of each node's container: a record made on other containers (an earlier create) is not this
    scenario's."""
    return dict(zip(ALL, subprocess.check_output(["docker", "inspect", "-f", "{{.Id}}"] + ALL, text=True).split()))


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


PORTS = {"client": 4222, "route": 6222, "gateway": 7222, "monitor": 8222}


def served_serial(ip, port, identity=None):
    """Serial of the certificate a listener serves, read from a real TLS handshake."""
    ctx = tls_context(identity)
    s = socket.create_connection((ip, port), timeout=3)
    if port == PORTS["client"]:
        s.recv(4096)  # the client port sends INFO before the TLS upgrade; the others start with TLS
    with ctx.wrap_socket(s) as t:
        return x509.load_der_x509_certificate(t.getpeercert(binary_form=True)).serial_number


def pids():
    return {n: subprocess.check_output(["docker", "exec", n, "systemctl", "show", "-p", "MainPID", "--value",
                                        "nats-server"], text=True).strip() for n in ALL}


class HealthWatch(threading.Thread):
    """Polls /healthz of all nine nodes over HTTPS once a second until stopped (at most 600 s). A node counts as
    unhealthy when two polls in a row fail; a single failed poll is kept in `blips` (on this 2-core machine
    nats-server's own readiness probe inside /healthz, which allows 1 ms, now and then misses under CPU load)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop, self.polls, self.bad, self.blips = threading.Event(), 0, [], []
        self.ips = {n: container_ip(n) for n in ALL}

    def _poll(self, ctx, ip):
        try:
            body = json.loads(urllib.request.urlopen("https://%s:8222/healthz" % ip, timeout=3, context=ctx).read())
            return None if body.get("status") == "ok" else body
        except urllib.error.HTTPError as exc:
            return "%s %s" % (exc.code, exc.read()[:200])
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and asserted on
            return str(exc)

    def run(self):
        ctx = tls_context(None)
        last = {n: None for n in ALL}
        deadline = time.time() + 600
        while not self.stop.is_set() and time.time() < deadline:
            for node, ip in self.ips.items():
                failure = self._poll(ctx, ip)
                if failure is not None:
                    (self.bad if last[node] is not None else self.blips).append((node, failure))
                last[node] = failure
            self.polls += 1
            self.stop.wait(1)


def secrets():
    """Everything secret a run handles: route/gateway passwords and the base64 body of every private key."""
    out = []
    for path in glob.glob(os.path.join(SECRETS, "**", "*"), recursive=True):
        if os.path.isfile(path):
            out.append(open(path).read().split()[0])
    for path in glob.glob(os.path.join(PKI, "**", "*.key"), recursive=True):
        pem = open(path, "rb").read()
        # The tail of an EC key's PEM is its public point, which certificate info rightly prints: skip lines
        # that also occur in the public key's PEM.
        public = serialization.load_pem_private_key(pem, None).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        out.extend(line for line in pem.decode().splitlines()[1:-1] if len(line) > 20 and line not in public)
    return out


async def publish_retrying(js, subject, data):
    """Publish with bounded retries: a stream just created in another cluster is reachable once the subject's
    interest has crossed the gateways, which can take a moment."""
    deadline = time.time() + 20
    while True:
        try:
            return await js.publish(subject, data, timeout=5)
        except nats.js.errors.NoStreamResponseError:
            if time.time() > deadline:
                raise
            await asyncio.sleep(0.25)


def assert_nothing_lost(watch):
    """Every message the step's publisher (observe.py watch NAME:CLUSTER) saw acknowledged is in its stream, and
    no publish failed for its whole 20 s; returns a one-line summary."""
    assert watch["stopped_by"] == "step"
    assert watch["failures"] == 0, "publishes that failed for 20 s: %d" % watch["failures"]
    assert all(watch["acked"].values()), watch["acked"].keys()

    async def check():
        nc = await nats.connect(urls(ALL), tls=tls_context())
        try:
            for stream, seqs in watch["acked"].items():
                info = json.loads((await nc.request("$JS.API.STREAM.INFO." + stream, b"", timeout=10)).data)
                assert info["state"]["messages"] == len(set(seqs)) == info["state"]["last_seq"], (stream, info["state"])
        finally:
            await nc.close()
    asyncio.run(asyncio.wait_for(check(), 60))
    return "%d messages acknowledged, %d retries, 0 lost" % (sum(len(s) for s in watch["acked"].values()),
                                                             watch["retries"])


async def exercise_roles():
    violations = []

    async def on_error(e):
        violations.append(str(e))

    async def connect(identity, node="c1-n1"):
        return await nats.connect(urls([node]), tls=tls_context(identity), connect_timeout=3,
                                  max_reconnect_attempts=1, error_cb=on_error)

    admin = await connect("admin")
    js = admin.jetstream()
    # Start clean even when an earlier run stopped half-way.
    await admin.request("$JS.API.STREAM.DELETE.SECURE_ORDERS", b"", timeout=10)
    cfg = {"name": "SECURE_ORDERS", "subjects": ["secure.orders.>"], "num_replicas": 3, "storage": "file",
           "placement": {"cluster": "c2"}}
    reply = json.loads((await admin.request("$JS.API.STREAM.CREATE.SECURE_ORDERS", json.dumps(cfg).encode(),
                                            timeout=10)).data)
    assert "error" not in reply, reply
    for i in range(5):
        await publish_retrying(js, "secure.orders.new", b"order-%d" % i)
    assert (await js.stream_info("SECURE_ORDERS")).state.messages == 5

    reader = await connect("reader", "c3-n1")
    rjs = reader.jetstream()
    sub = await rjs.pull_subscribe("secure.orders.>", durable="reader_pull", stream="SECURE_ORDERS")
    # A just-created R3 consumer answers 503 (no responders) until its leader is elected; give it a few tries.
    for attempt in range(10):
        try:
            msgs = await sub.fetch(5, timeout=10)
            break
        except nats.js.errors.ServiceUnavailableError:
            if attempt == 9:
                raise
            await asyncio.sleep(1)
    assert [m.data for m in msgs] == [b"order-%d" % i for i in range(5)]
    for m in msgs:
        await m.ack()
    assert (await rjs.get_msg("SECURE_ORDERS", 1)).data == b"order-0"
    assert (await rjs.stream_info("SECURE_ORDERS")).state.messages == 5

    # What the reader may not do: publish data, delete or purge the stream, delete a message.
    denied = {"secure.orders.new": None, "$JS.API.STREAM.DELETE.SECURE_ORDERS": b"",
              "$JS.API.STREAM.PURGE.SECURE_ORDERS": b"", "$JS.API.STREAM.MSG.DELETE.SECURE_ORDERS": b'{"seq":1}'}
    for subject, payload in denied.items():
        with pytest.raises(Exception):
            await reader.request(subject, payload or b"x", timeout=2)
    await reader.flush()
    await asyncio.sleep(0.5)
    for subject in denied:
        assert any(('permissions violation for publish to "%s"' % subject).lower() in v.lower() for v in violations), \
            (subject, violations)
    assert (await js.stream_info("SECURE_ORDERS")).state.messages == 5

    # sys sees server data of all nine nodes; the application account cannot reach $SYS.
    sysc = await connect("sys")
    inbox = sysc.new_inbox()
    seen = set()
    sub = await sysc.subscribe(inbox)
    await sysc.publish("$SYS.REQ.SERVER.PING", b"", reply=inbox)
    deadline = time.time() + 5
    while len(seen) < 9 and time.time() < deadline:
        try:
            msg = await sub.next_msg(timeout=1)
            seen.add(json.loads(msg.data)["server"]["name"])
        except asyncio.TimeoutError:
            pass
    assert seen == set(ALL)
    with pytest.raises(Exception):
        await admin.request("$SYS.REQ.SERVER.PING", b"", timeout=2)

    await js.delete_stream("SECURE_ORDERS")
    for c in (admin, reader, sysc):
        await c.close()


# Prometheus on the `mon` host (playbooks/monitoring.yml), read through its HTTP API.
def prom(path, **params):
    url = "http://%s:9090%s" % (container_ip("mon"), path)
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=10) as r:
        body = json.loads(r.read().decode())
    assert body["status"] == "success", body
    return body["data"]


def wait(what, predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(1)
    pytest.fail("%s: not within %d s" % (what, timeout))
