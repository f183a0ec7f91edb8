"""Backups and restores for real, in a loopback 3 x 3 supercluster: a message-by-message round trip with
headers, deleted messages, a KV bucket and consumer ack state; a restore into another cluster; an interrupted
backup; a corrupted backup; and reading from a mirror in c2 after c1 went down."""
import asyncio
import base64
import hashlib
import json
import os
import signal
import subprocess
import time

import nats
import pytest

from jsutil import api, stream_info
from natsproc import ROOT, Supercluster, ansible_env


@pytest.fixture(scope="module")
def sc():
    cluster = Supercluster({"c1": 3, "c2": 3, "c3": 3}).start(timeout=90)
    yield cluster
    cluster.stop()


def run_playbook(name, extra):
    env = ansible_env(ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,",
                           os.path.join(ROOT, "playbooks", name), "-e", json.dumps(extra)],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    return proc


def wait_current(url, name, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = stream_info(url, name)
        cl = (info or {}).get("cluster") or {}
        if info and cl.get("leader") and all(r.get("current") for r in cl.get("replicas", [])) \
                and len(cl.get("replicas", [])) == info["config"]["num_replicas"] - 1:
            return info
        time.sleep(0.3)
    raise AssertionError("stream %s not current: %s" % (name, stream_info(url, name)))


async def _ready(js, subjects, attempts=60):
    """Publish once per stream until it answers: interest in a new stream takes a moment to cross gateways."""
    for subject in subjects:
        for attempt in range(attempts):
            try:
                await js.publish(subject, b"ready", timeout=2)
                break
            except Exception:  # noqa: BLE001 - bounded retry
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.25)


async def _fill(url):
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for name, cluster in (("ORDERS", "c1"), ("EVENTS", "c2")):
            await nc.request("$JS.API.STREAM.CREATE." + name, json.dumps({
                "name": name, "subjects": [name.lower() + ".>"], "num_replicas": 3,
                "placement": {"cluster": cluster}}).encode(), timeout=10)
        await _ready(js, ["orders.ready", "events.ready"])
        for i in range(3000):
            await js.publish("orders.%d" % (i % 7), os.urandom(64) + str(i).encode(),
                             headers={"Order-Id": str(i), "Nats-Msg-Id": "o-%d" % i})
            if i < 1500:
                await js.publish("events.x", b"event %d" % i, headers={"Kind": "e"})
        for seq in (5, 6, 7, 100, 3000):
            await nc.request("$JS.API.STREAM.MSG.DELETE.ORDERS", json.dumps({"seq": seq}).encode(), timeout=5)
        await nc.request("$JS.API.STREAM.CREATE.KV_profiles", json.dumps({
            "name": "KV_profiles", "subjects": ["$KV.profiles.>"], "max_msgs_per_subject": 3, "discard": "new",
            "deny_delete": True, "allow_rollup_hdrs": True, "allow_direct": True, "num_replicas": 3,
            "placement": {"cluster": "c1"}}).encode(), timeout=10)
        kv = await js.key_value("profiles")
        for i in range(50):
            await kv.put("user%d" % i, b"profile %d" % i)
        await nc.request("$JS.API.CONSUMER.CREATE.ORDERS.billing", json.dumps({
            "stream_name": "ORDERS", "config": {"durable_name": "billing", "ack_policy": "explicit",
                                                "max_ack_pending": 5000}}).encode(), timeout=10)
        sub = await js.pull_subscribe_bind("billing", stream="ORDERS")
        msgs = await sub.fetch(200, timeout=5)
        for m in msgs[:120]:
            await m.ack_sync()
    finally:
        await nc.close()


def snapshot_messages(url, name):
    """Every message of a stream: seq -> (subject, headers, sha256(data))."""
    async def run():
        nc = await nats.connect(url)
        out = {}
        try:
            info = json.loads((await nc.request("$JS.API.STREAM.INFO." + name, b"", timeout=5)).data)
            st = info["state"]
            for seq in range(st["first_seq"], st["last_seq"] + 1):
                r = json.loads((await nc.request("$JS.API.STREAM.MSG.GET." + name,
                                                 json.dumps({"seq": seq}).encode(), timeout=5)).data)
                if "error" in r:
                    continue
                m = r["message"]
                out[seq] = (m["subject"], m.get("hdrs"), hashlib.sha256(base64.b64decode(m.get("data", ""))).hexdigest())
        finally:
            await nc.close()
        return out
    return asyncio.run(run())


def consumer_floor(url, stream, name):
    info = api(url, "$JS.API.CONSUMER.INFO.%s.%s" % (stream, name))
    return info["ack_floor"]["stream_seq"], info["delivered"]["stream_seq"], info["num_ack_pending"]


def test_round_trip_message_by_message_and_into_another_cluster(sc, tmp_path):
    url = sc.urls("c1")[0]
    asyncio.run(_fill(url))
    for name in ("ORDERS", "EVENTS", "KV_profiles"):
        wait_current(url, name)
    before = dict((n, snapshot_messages(url, n)) for n in ("ORDERS", "EVENTS", "KV_profiles"))
    assert len(before["ORDERS"]) == 2996 and 5 not in before["ORDERS"]
    floor = consumer_floor(url, "ORDERS", "billing")
    assert floor[0] >= 120 and floor[2] == 80  # 120 acked (deleted messages are skipped), 80 pending

    proc = run_playbook("backup.yml", {"nats_backup_dir": str(tmp_path), "nats_backup_servers": sc.urls("c1")})
    assert proc.returncode == 0, proc.stdout[-3000:]
    runs = os.listdir(str(tmp_path))
    assert len(runs) == 1
    run = os.path.join(str(tmp_path), runs[0])
    assert sorted(os.listdir(run)) == ["EVENTS", "KV_profiles", "ORDERS"]
    manifest = json.load(open(os.path.join(run, "ORDERS", "manifest.json")))
    assert manifest["messages"] == 2996 and manifest["last_seq"] == 3001 and len(manifest["sha256"]) == 64
    # The archive is named as natscli v0.5.0 names it for a 2.15 server, and the manifest records the name.
    assert sorted(os.listdir(os.path.join(run, "ORDERS"))) == ["backup.json", "manifest.json", "stream.arc.s2"]
    assert manifest["data_file"] == "stream.arc.s2"

    for name in ("ORDERS", "EVENTS", "KV_profiles"):
        api(url, "$JS.API.STREAM.DELETE." + name)
    assert stream_info(url, "ORDERS") is None

    proc = run_playbook("restore.yml", {"nats_restore_run": run, "nats_restore_servers": sc.urls("c1")})
    assert proc.returncode == 0, proc.stdout[-3000:]
    for name in ("ORDERS", "EVENTS", "KV_profiles"):
        info = wait_current(url, name)
        assert snapshot_messages(url, name) == before[name], name
    assert stream_info(url, "ORDERS")["cluster"]["name"] == "c1"
    assert stream_info(url, "EVENTS")["cluster"]["name"] == "c2"
    # The ack floor survives; unacknowledged messages are redelivered after a restore.
    assert consumer_floor(url, "ORDERS", "billing")[0] == floor[0]

    async def kv_read():
        nc = await nats.connect(url)
        try:
            kv = await nc.jetstream().key_value("profiles")
            return (await kv.get("user42")).value
        finally:
            await nc.close()
    assert asyncio.run(kv_read()) == b"profile 42"

    # The same backup into cluster c3, replacing the stream.
    proc = run_playbook("restore.yml", {"nats_restore_run": run, "nats_restore_servers": sc.urls("c3"),
                                        "nats_restore_streams": ["ORDERS"], "nats_restore_replace": True,
                                        "nats_restore_placement": {"cluster": "c3"}})
    assert proc.returncode == 0, proc.stdout[-3000:]
    info = wait_current(url, "ORDERS")
    assert info["cluster"]["name"] == "c3"
    assert {info["cluster"]["leader"]} | {r["name"] for r in info["cluster"]["replicas"]} == {"c3-n1", "c3-n2", "c3-n3"}
    assert snapshot_messages(url, "ORDERS") == before["ORDERS"]
    assert consumer_floor(url, "ORDERS", "billing")[0] == floor[0]

    # Refuses to overwrite without replace, and says what would be lost.
    proc = run_playbook("restore.yml", {"nats_restore_run": run, "nats_restore_servers": sc.urls("c1"),
                                        "nats_restore_streams": ["ORDERS"]})
    assert proc.returncode != 0 and "already exists with 2996 messages; set replace: true" in proc.stdout


def _task(module, opts, servers):
    return [{"hosts": "localhost", "gather_facts": False, "connection": "local",
             "tasks": [{"natsops.jetstream.%s" % module: dict(opts, servers=servers)}]}]


def test_interrupted_backup_leaves_nothing_that_looks_complete(sc, tmp_path):
    url = sc.urls("c1")[0]

    async def big():
        nc = await nats.connect(url)
        try:
            await nc.request("$JS.API.STREAM.CREATE.BIG", json.dumps({"name": "BIG", "subjects": ["big"],
                                                                      "num_replicas": 1}).encode(), timeout=10)
            js = nc.jetstream()
            payload = os.urandom(60000)
            await _ready(js, ["big"])
            for dummy in range(1200):
                await js.publish("big", payload)
        finally:
            await nc.close()
    asyncio.run(big())
    play = tmp_path / "p.yml"
    dest = str(tmp_path / "BIG")
    play.write_text(json.dumps(_task("stream_backup", {"stream": "BIG", "dest": dest, "chunk_size": "4KiB"},
                                     sc.urls("c1"))))
    env = ansible_env()
    proc = subprocess.Popen([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", str(play)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    partial = os.path.join(dest + ".partial", "stream.arc.s2")
    # Kill it as soon as it has written its first bytes: the 72 MB take ~80 ms to arrive on a fast machine, so a
    # coarser poll (or waiting for a larger part) sometimes let the backup finish first.
    deadline = time.time() + 60
    while time.time() < deadline and not (os.path.exists(partial) and os.path.getsize(partial) > 0):
        time.sleep(0.002)
    assert os.path.exists(partial), "the backup never started writing"
    os.killpg(proc.pid, signal.SIGKILL)   # the module, its connection and all
    assert not os.path.exists(dest), "the backup finished before it could be interrupted"
    proc.wait(10)
    assert not os.path.exists(dest)
    assert not os.path.exists(os.path.join(dest + ".partial", "manifest.json"))

    r = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible"), "localhost", "-m", "natsops.jetstream.stream_restore",
                        "-a", json.dumps({"src": dest + ".partial", "servers": sc.urls("c1")})],
                       env=env, capture_output=True, text=True, check=False, timeout=120)
    assert r.returncode != 0 and "is not a complete backup" in r.stdout
    api(url, "$JS.API.STREAM.DELETE.BIG")


def test_corrupted_backup_is_refused_and_creates_nothing(sc, tmp_path):
    url = sc.urls("c1")[0]
    api(url, "$JS.API.STREAM.CREATE.SMALL", {"name": "SMALL", "subjects": ["small"], "num_replicas": 3,
                                             "placement": {"cluster": "c2"}})
    asyncio.run(_publish(url, "small", 300))
    env = ansible_env()
    ansible = os.path.join(ROOT, ".venv", "bin", "ansible")
    dest = str(tmp_path / "SMALL")
    r = subprocess.run([ansible, "localhost", "-m", "natsops.jetstream.stream_backup", "-a",
                        json.dumps({"stream": "SMALL", "dest": dest, "servers": sc.urls("c1")})],
                       env=env, capture_output=True, text=True, check=False, timeout=120)
    assert r.returncode == 0, r.stdout
    api(url, "$JS.API.STREAM.DELETE.SMALL")
    data = os.path.join(dest, "stream.arc.s2")
    with open(data, "r+b") as f:
        f.seek(os.path.getsize(data) // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    r = subprocess.run([ansible, "localhost", "-m", "natsops.jetstream.stream_restore", "-a",
                        json.dumps({"src": dest, "servers": sc.urls("c1")})],
                       env=env, capture_output=True, text=True, check=False, timeout=120)
    assert r.returncode != 0 and "checksum mismatch" in r.stdout and "was not restored" in r.stdout
    assert stream_info(url, "SMALL") is None


async def _ready_first(js, subject, attempts=60):
    for attempt in range(attempts):
        try:
            await js.publish(subject, b"payload 0", timeout=2)
            return
        except Exception:  # noqa: BLE001 - bounded retry
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.25)


async def _publish(url, subject, count):
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        await _ready_first(js, subject)
        for i in range(1, count):
            await js.publish(subject, b"payload %d" % i)
    finally:
        await nc.close()


def test_mirror_in_c2_serves_the_data_when_c1_is_down(sc, tmp_path):
    """Runs last: it stops cluster c1."""
    c1, c2 = sc.urls("c1"), sc.urls("c2")
    env = ansible_env()
    ansible = os.path.join(ROOT, ".venv", "bin", "ansible")
    for opts in ({"name": "PAYMENTS", "subjects": ["payments.>"], "replicas": 3, "placement": {"cluster": "c1"}},
                 {"name": "PAYMENTS_DR", "mirror": {"name": "PAYMENTS"}, "replicas": 3, "placement": {"cluster": "c2"}}):
        r = subprocess.run([ansible, "localhost", "-m", "natsops.jetstream.stream", "-a", json.dumps(dict(opts, servers=c1))],
                           env=env, capture_output=True, text=True, check=False, timeout=120)
        assert r.returncode == 0, r.stdout
    asyncio.run(_publish(c1[0], "payments.card", 500))
    deadline = time.time() + 30
    while time.time() < deadline and (stream_info(c2[0], "PAYMENTS_DR") or {}).get("state", {}).get("messages") != 500:
        time.sleep(0.2)
    assert stream_info(c2[0], "PAYMENTS_DR")["state"]["messages"] == 500

    for node in sc.clusters["c1"]:
        node.stop()
    time.sleep(1)
    info = None
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            info = stream_info(c2[0], "PAYMENTS_DR")
            if info and info["state"]["messages"] == 500:
                break
        except Exception:  # noqa: BLE001 - the meta group is electing a new leader
            pass
        time.sleep(0.5)
    assert info["state"]["messages"] == 500 and info["cluster"]["name"] == "c2"
    msg = api(c2[0], "$JS.API.STREAM.MSG.GET.PAYMENTS_DR", {"seq": 500})
    assert base64.b64decode(msg["message"]["data"]) == b"payload 499"
    assert msg["message"]["subject"] == "payments.card"
