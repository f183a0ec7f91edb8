"""cluster_health against real nats-server processes, and two failure drills (bounded in time, stopping by
themselves): a whole cluster down while the others keep writing and reading their R3 streams; a store filling up,
flagged before publishes are rejected."""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import nats
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from natsproc import Supercluster  # noqa: E402

SYS = {"user": "sys", "password": "sys"}


@pytest.fixture(scope="module")
def sc():
    cluster = Supercluster({"c1": 3, "c2": 3, "c3": 3}, accounts=True).start(timeout=90)
    yield cluster
    cluster.stop()


def expected(cluster):
    return dict((c, [n.name for n in nodes]) for c, nodes in cluster.clusters.items())


def health(play, cluster, servers=None, **args):
    task = {"natsops.jetstream.cluster_health": dict(dict(SYS, expected=expected(cluster)), **args),
            "register": "h"}
    return play(servers or cluster.urls("c1"), [task])[0]


def wait_healthy(play, cluster, timeout=60):
    deadline = time.time() + timeout
    while True:
        r = health(play, cluster)
        if r["healthy"] or time.time() > deadline:
            return r
        time.sleep(2)


def js_call(servers, fn):
    async def go():
        nc = await nats.connect(servers, user="app", password="app", connect_timeout=2, max_reconnect_attempts=5)
        try:
            return await fn(nc, nc.jetstream(timeout=5))
        finally:
            await nc.close()
    return asyncio.run(go())


class Writer(threading.Thread):
    """Publishes to one stream through one cluster's nodes, with bounded retries; records every ack."""

    def __init__(self, servers, subject):
        super().__init__(daemon=True)
        self.servers, self.subject = servers, subject
        self.acked, self.failed, self.stop = [], 0, threading.Event()

    def run(self):
        async def go():
            nc = await nats.connect(self.servers, user="app", password="app", max_reconnect_attempts=-1,
                                    reconnect_time_wait=0.2)
            js = nc.jetstream()
            i = 0
            while not self.stop.is_set():
                try:
                    ack = await js.publish(self.subject, b"%d" % i, timeout=2, headers={"Nats-Msg-Id": str(i)})
                    self.acked.append(ack.seq)
                    i += 1
                except Exception:  # noqa: BLE001 - counted, retried with the same id
                    self.failed += 1
                    await asyncio.sleep(0.2)
                await asyncio.sleep(0.01)
            await nc.close()
        asyncio.run(go())


def test_healthy_supercluster_has_no_problem(play, sc):
    r = health(play, sc)
    assert r["healthy"] and r["problems"] == [], r["problems"]
    assert len(r["nodes"]) == 9 and r["meta"]["cluster_size"] == 9
    assert all(len(n["routes"]) == 2 and len(n["gateways_out"]) == 2 for n in r["nodes"])


def test_one_node_down_is_named_with_its_peers_missing_routes_only(play, sc):
    node = sc.clusters["c2"][1]
    node.stop()
    try:
        r = health(play, sc)
        assert r["problems"] == ["%s (cluster c2) is down: it does not answer" % node.name,
                                 "c2-n1, c2-n3: no route to %s (down)" % node.name], r["problems"]
    finally:
        node.start()
    assert wait_healthy(play, sc)["healthy"]


def meta_leader_outside(cluster, name, tries=10):
    """Step the JetStream meta leader down (as the system account) until a node outside cluster `name` leads."""
    inside = set(n.name for n in cluster.clusters[name])

    def leader():
        return cluster.clusters["c1"][0].monitor("jsz").get("meta_cluster", {}).get("leader")

    async def step_down():
        nc = await nats.connect(cluster.urls("c1"), connect_timeout=2, **SYS)
        try:
            await nc.request("$JS.API.META.LEADER.STEPDOWN", b"", timeout=5)
        finally:
            await nc.close()
    for dummy in range(tries):
        now = leader()
        if now and now not in inside:
            return now
        if now:
            asyncio.run(step_down())
        time.sleep(2)
    raise AssertionError("the meta leader stayed in %s after %d step-downs (now %s)" % (name, tries, leader()))


def test_a_cluster_behind_a_stopped_gateway_is_named_unreachable_not_down(play, sc):
    """c3 keeps running, but the other clusters can no longer reach its gateway port (a firewall rule rejects
    connections to c3's gateway listeners on loopback): their outbound gateways to c3 drop, the system account's
    requests no longer reach c3, while c3's own outbound gateways still land on c1 and c2."""
    if os.geteuid() != 0 or not shutil.which("iptables"):
        pytest.fail("this drill needs root and iptables (scripts/setup.sh installs iptables)")
    rules = [["OUTPUT", "-o", "lo", "-p", "tcp", "--dport", str(n.gateway_port), "-j", "REJECT",
              "--reject-with", "tcp-reset"] for n in sc.clusters["c3"]]
    others = sc.clusters["c1"] + sc.clusters["c2"]
    # With the JetStream meta leader in c3, c1 and c2 would first lose contact with it and report that on /healthz
    # until they elect one of their own: a state of its own, not the one this drill is about.
    meta_leader_outside(sc, "c3")
    try:
        for rule in rules:
            subprocess.run(["iptables", "-I"] + rule, check=True, timeout=10)
        deadline = time.time() + 30
        while any("c3" in (n.monitor("gatewayz").get("outbound_gateways") or {}) for n in others):
            assert time.time() < deadline, "the outbound gateways to c3 did not drop within 30 s"
            time.sleep(0.5)
        deadline = time.time() + 60
        while not all(sc.healthy(n) for n in others):
            assert time.time() < deadline, "c1 and c2 did not all answer /healthz ok within 60 s of the cut"
            time.sleep(0.5)
        r = health(play, sc)
        print("stopped gateway:", r["problems"])
        assert r["down_clusters"] == [] and r["unreachable_clusters"] == ["c3"], r["problems"]
        assert r["problems"][0].startswith("cluster c3 does not answer through the gateways but is up"), r["problems"]
        assert r["problems"][1] == ("no outbound gateway to cluster c3 from 6 node(s) of the other clusters: its "
                                    "gateway listeners are unreachable from them"), r["problems"]
        # Nothing else is blamed: no node of c1 or c2 is down or short of routes or gateways to each other.
        assert not [p for p in r["problems"][2:] if "down" in p or "route" in p or "gateway" in p], r["problems"]
        assert sorted(n["status"] for n in r["nodes"] if n["cluster"] == "c3") == ["unreachable"] * 3
    finally:
        for rule in rules:
            subprocess.run(["iptables", "-D"] + rule, check=False, timeout=10)
    assert wait_healthy(play, sc, timeout=90)["healthy"]


def test_drill_a_whole_cluster_down_while_the_others_write_and_read(play, sc):
    for name, cluster in (("D1", "c1"), ("D2", "c2")):
        async def create(nc, js, name=name, cluster=cluster):
            await nc.request("$JS.API.STREAM.DELETE." + name, b"", timeout=5)
            r = json.loads((await nc.request("$JS.API.STREAM.CREATE." + name, json.dumps({
                "name": name, "subjects": [name.lower()], "num_replicas": 3,
                "placement": {"cluster": cluster}}).encode(), timeout=10)).data)
            assert "error" not in r, r
        js_call(sc.urls(cluster), create)
    writers = [Writer(sc.urls("c1"), "d1"), Writer(sc.urls("c2"), "d2")]
    for w in writers:
        w.start()
    time.sleep(1)
    for n in sc.clusters["c3"]:
        n.stop()
    down_at = [len(w.acked) for w in writers]
    try:
        time.sleep(4)
        r = health(play, sc)
        assert r["problems"] == ["cluster c3 is down: none of c3-n1, c3-n2, c3-n3 answers",
                                 "no gateway to cluster c3 (down) from 6 node(s) of the other clusters"], r["problems"]
        # Both other clusters kept writing and can read their own streams while c3 is down.
        during = [len(w.acked) - before for w, before in zip(writers, down_at)]
        assert all(d > 20 for d in during), during

        async def count(nc, js):
            return (await js.stream_info("D1")).state.messages
        assert js_call(sc.urls("c1"), count) >= down_at[0]
    finally:
        for n in sc.clusters["c3"]:
            n.start()
    assert wait_healthy(play, sc, timeout=90)["healthy"]
    time.sleep(1)
    for w in writers:
        w.stop.set()
        w.join(30)
    for name, w, cluster in (("D1", writers[0], "c1"), ("D2", writers[1], "c2")):
        async def check(nc, js, name=name):
            info = await js.stream_info(name)
            await nc.request("$JS.API.STREAM.DELETE." + name, b"", timeout=5)
            return info.state.messages, info.state.last_seq
        messages, last = js_call(sc.urls(cluster), check)
        assert messages == len(set(w.acked)) == last, (name, messages, len(w.acked), last)
    acked = sum(len(w.acked) for w in writers)
    retried = sum(w.failed for w in writers)
    print("cluster c3 down: c1 and c2 kept writing (%s acknowledged while it was down), %d acknowledged in all, "
          "%d failed attempts retried, 0 lost" % (during, acked, retried))


def test_drill_a_filling_store_is_flagged_before_publishes_are_rejected(play):
    single = Supercluster({"s": 1}, accounts=True, max_file_store="2MB").start()
    try:
        exp = {"s": ["s-n1"]}

        async def fill(nc, js):
            await js.add_stream(name="FILL", subjects=["fill"])
            await js.add_consumer("FILL", durable_name="SLOW")
            payload = b"x" * 1024
            flagged = None
            sent = 0
            while sent < 4000:
                try:
                    await js.publish("fill", payload, timeout=2)
                except Exception as exc:  # noqa: BLE001 - the store is full
                    return flagged, sent, str(exc)
                sent += 1
                if flagged is None and sent % 50 == 0:
                    jsz = single.nodes[0].monitor("jsz")
                    pct = 100.0 * jsz["storage"] / jsz["config"]["max_storage"]
                    if pct > 85:
                        flagged = (sent, pct, health_single())
            return flagged, sent, None

        def health_single():
            task = {"natsops.jetstream.cluster_health": dict(SYS, expected=exp)}
            return play(single.urls(), [task])[0]

        flagged, sent, error = js_call(single.urls(), fill)
        assert flagged is not None, "storage never passed 85%% (%d sent)" % sent
        at, pct, report = flagged
        assert any(p.startswith("s-n1: JetStream storage") and "threshold 85" in p for p in report["problems"]), report
        # ... and the consumer that read nothing is flagged for its pending messages.
        assert any("consumer 'SLOW' of stream 'FILL'" in p and "pending" in p for p in report["problems"]), report
        assert error is not None, "publishes were never rejected (%d sent)" % sent
        assert sent > at
        print("storage flagged at %.1f%% after %d messages; publishes rejected after %d (%s)" % (pct, at, sent, error))
    finally:
        single.stop()
