"""Verify the nine-node supercluster for real: systemd, monitoring endpoints, placement, cross-cluster reads."""
import asyncio
import base64
import json
import time

import nats

from scenario import ALL, CLUSTERS, cluster_of, monitor, name_of, once, node_monitor, tls_context, urls


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
    once(host)
    tags = {}
    for node in ALL:
        tags[node] = [t for t in node_monitor(node).get("tags", []) if t.startswith("az:")][0]
    deadline = time.time() + 60
    asyncio.run(asyncio.wait_for(_placement_and_cross_cluster_read(tags), deadline - time.time()))
