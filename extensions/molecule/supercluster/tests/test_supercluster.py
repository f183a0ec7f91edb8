"""Verify the nine-node supercluster for real: systemd, monitoring endpoints, placement, cross-cluster reads."""
import asyncio
import base64
import json
import os
import ssl
import subprocess
import time

import nats
import pytest

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
    return ["tls://%s:4222" % _ip(n) for n in nodes]


def name_of(host):
    return host.check_output("hostname")


def cluster_of(node):
    return node.split("-")[0]


def test_service_runs_as_nats_with_hardening(host):
    svc = host.service("nats-server")
    assert svc.is_running and svc.is_enabled
    assert host.user("nats").shell == "/usr/sbin/nologin"
    pid = host.check_output("systemctl show -p MainPID --value nats-server")
    assert host.check_output("ps -o user= -p %s" % pid) == "nats"
    unit = host.file("/etc/systemd/system/nats-server.service").content_string
    for line in ("NoNewPrivileges=true", "ProtectSystem=strict", "ReadWritePaths=/var/lib/nats",
                 "KillSignal=SIGUSR2", "ExecReload=/bin/kill -s HUP $MAINPID"):
        assert line in unit


def test_install_layout_and_modes(host):
    assert host.file("/opt/nats-server/current").linked_to == "/opt/nats-server/2.14.6"
    assert host.file("/usr/local/bin/nats-server").linked_to == "/opt/nats-server/2.14.6/nats-server"
    conf = host.file("/etc/nats-server/nats-server.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "nats", 0o640)
    store = host.file("/var/lib/nats")
    assert (store.user, store.group, store.mode) == ("nats", "nats", 0o750)
    assert "2.14.6" in host.check_output("/usr/local/bin/nats-server --version")


def test_healthz(host):
    assert monitor(host, "healthz") == {"status": "ok"}


def test_routes_to_both_other_members_of_the_cluster(host):
    me = name_of(host)
    peers = set(CLUSTERS[cluster_of(me)]) - {me}
    routez = monitor(host, "routez")
    assert {r["remote_name"] for r in routez["routes"]} == peers


def test_outbound_gateways_to_both_other_clusters(host):
    me = name_of(host)
    gw = monitor(host, "gatewayz")
    assert gw["name"] == cluster_of(me)
    assert set(gw["outbound_gateways"]) == set(CLUSTERS) - {cluster_of(me)}
    for conn in gw["outbound_gateways"].values():
        assert conn["configured"] is True and conn["connection"]


def test_jetstream_meta_group_of_nine_with_one_leader(host):
    meta = monitor(host, "jsz")["meta_cluster"]
    assert meta["cluster_size"] == 9
    assert meta["leader"] in ALL
    varz = monitor(host, "varz")
    assert varz["jetstream"]["meta"]["leader"] == meta["leader"]


def _ip(container):
    return subprocess.check_output(
        ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container],
        text=True).strip()


async def _connect(node, identity="admin"):
    return await nats.connect(urls([node]), tls=tls_context(identity), connect_timeout=3, max_reconnect_attempts=1,
                              reconnect_time_wait=0.5)


async def _placement_and_cross_cluster_read(tags):
    nc1 = await _connect("c1-n1")
    nc3 = await _connect("c3-n1")
    try:
        js1 = nc1.jetstream()
        body = {"name": "MOLECULE_PLACED", "subjects": ["molecule.placed.>"], "num_replicas": 3,
                "storage": "file", "placement": {"cluster": "c2"}}
        resp = json.loads((await nc1.request("$JS.API.STREAM.CREATE.MOLECULE_PLACED",
                                             json.dumps(body).encode(), timeout=10)).data)
        assert "error" not in resp, resp
        info = None
        for _ in range(50):  # replicas become current within a few seconds
            info = json.loads((await nc1.request("$JS.API.STREAM.INFO.MOLECULE_PLACED", b"", timeout=5)).data)
            cl = info.get("cluster", {})
            if cl.get("leader") and len(cl.get("replicas", [])) == 2 and all(r.get("current") for r in cl["replicas"]):
                break
            await asyncio.sleep(0.2)
        cl = info["cluster"]
        peers = {cl["leader"]} | {r["name"] for r in cl["replicas"]}
        assert cl["name"] == "c2"
        assert peers == set(CLUSTERS["c2"])
        assert sorted(tags[p] for p in peers) == ["az:1", "az:2", "az:3"]

        ack = None
        for _ in range(20):  # interest can take a moment to cross the gateways
            try:
                ack = await js1.publish("molecule.placed.hello", b"through c1", timeout=3)
                break
            except Exception:  # noqa: BLE001 - bounded retry; the assert below fails the test
                await asyncio.sleep(0.25)
        assert ack is not None and ack.stream == "MOLECULE_PLACED"

        msg = json.loads((await nc3.request("$JS.API.STREAM.MSG.GET.MOLECULE_PLACED",
                                            json.dumps({"seq": ack.seq}).encode(), timeout=5)).data)
        assert "error" not in msg, msg
        assert base64.b64decode(msg["message"]["data"]) == b"through c1"
        assert msg["message"]["subject"] == "molecule.placed.hello"
    finally:
        try:
            await nc1.request("$JS.API.STREAM.DELETE.MOLECULE_PLACED", b"", timeout=5)
        finally:
            await nc1.close()
            await nc3.close()


def test_r3_stream_placed_in_c2_one_replica_per_az_and_read_back_through_c3(host):
    if name_of(host) != "c1-n1":
        pytest.skip("supercluster-wide check runs once, from c1-n1")
    tags = {}
    for node in ALL:
        tags[node] = [t for t in node_monitor(node).get("tags", []) if t.startswith("az:")][0]
    deadline = time.time() + 60
    asyncio.run(asyncio.wait_for(_placement_and_cross_cluster_read(tags), deadline - time.time()))
