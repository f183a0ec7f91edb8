"""stream module against a real nats-server: check mode, create, idempotence, diff, update,
immutable refusal, recreate, validation before anything is sent, unreachable server, delete."""
import time

from jsutil import api, merged, publish, stream_info


def stream_task(**opts):
    return {"natsops.jetstream.stream": opts, "register": "r"}


def test_lifecycle(single, play):
    url = single.urls()[0]
    spec = dict(name="ORDERS", subjects=["orders.>"], max_age="1h", max_bytes="64MiB", duplicate_window="30s")

    r = play([url], [stream_task(**spec)], check=True)[0]
    assert r["changed"] and r["operation"] == "created"
    assert stream_info(url, "ORDERS") is None, "check mode must not create"

    r = play([url], [stream_task(**spec)])[0]
    assert r["changed"] and r["operation"] == "created"
    cfg = stream_info(url, "ORDERS")["config"]
    assert cfg["max_age"] == 3600 * 10 ** 9 and cfg["max_bytes"] == 64 * 1024 ** 2 and cfg["duplicate_window"] == 30 * 10 ** 9

    r = play([url], [stream_task(**spec)])[0]
    assert not r["changed"] and r["operation"] == "unchanged" and r["changes"] == []

    r = play([url], [stream_task(**merged(spec, max_age="2h", description="orders"))], check=True)[0]
    assert r["changed"] and r["operation"] == "updated" and r["changes"] == ["description", "max_age"]
    assert r["diff"]["before"]["max_age"] == "1h" and r["diff"]["after"]["max_age"] == "2h"
    assert stream_info(url, "ORDERS")["config"]["max_age"] == 3600 * 10 ** 9, "check mode must not update"

    r = play([url], [stream_task(**merged(spec, max_age="2h", description="orders"))])[0]
    assert r["changed"]
    cfg = stream_info(url, "ORDERS")["config"]
    assert cfg["max_age"] == 7200 * 10 ** 9 and cfg["description"] == "orders"
    # fields not managed kept their values
    assert cfg["max_bytes"] == 64 * 1024 ** 2 and cfg["duplicate_window"] == 30 * 10 ** 9

    r = play([url], [stream_task(name="ORDERS", deny_delete=True)])[0]
    assert r["changed"]
    assert play([url], [stream_task(name="ORDERS", deny_delete=True)])[0]["changed"] is False

    r = play([url], [stream_task(name="ORDERS", deny_delete=False)], expect_fail=True)[0]
    assert r["failed"] and "deny_delete: True -> False" in r["msg"] and "recreate: true" in r["msg"]


def test_immutable_storage_and_recreate(single, play):
    url = single.urls()[0]
    play([url], [stream_task(name="SCRATCH", subjects=["scratch.>"], storage="file")])
    publish(url, "scratch.x", 7)
    before = stream_info(url, "SCRATCH")["created"]

    r = play([url], [stream_task(name="SCRATCH", storage="memory")], expect_fail=True)[0]
    assert r["failed"]
    assert "storage: 'file' -> 'memory' (the storage type of a stream cannot change)" in r["msg"]
    assert stream_info(url, "SCRATCH")["state"]["messages"] == 7

    r = play([url], [stream_task(name="SCRATCH", storage="memory", recreate=True)], check=True)[0]
    assert r["changed"] and r["operation"] == "recreated"
    assert any("7 messages deleted" in w for w in r.get("warnings", []))
    assert stream_info(url, "SCRATCH")["state"]["messages"] == 7

    r = play([url], [stream_task(name="SCRATCH", storage="memory", recreate=True)])[0]
    assert r["operation"] == "recreated"
    info = stream_info(url, "SCRATCH")
    assert info["config"]["storage"] == "memory" and info["state"]["messages"] == 0 and info["created"] != before
    assert info["config"]["subjects"] == ["scratch.>"]


def test_bad_input_fails_before_anything_is_sent(single, play):
    url = single.urls()[0]
    play([url], [stream_task(name="TAKEN", subjects=["taken.>"])])
    cases = [
        (dict(name="BAD1", subjects=["bad1"], max_age="10 parsecs"), "max_age: '10 parsecs' is not a duration"),
        (dict(name="BAD2", subjects=["bad2"], max_bytes="-5GiB"), "max_bytes: '-5GiB' is not a size"),
        (dict(name="BAD3", subjects=["bad3"], max_msgs=-7), "max_msgs: -7 is not allowed"),
        (dict(name="BAD4", subjects=["bad4"], replicas=7), "replicas: 7 is not allowed; JetStream supports 1 to 5"),
        (dict(name="BAD5", subjects=["taken.orders"]), "subjects: 'taken.orders' overlaps 'taken.>' of stream TAKEN"),
        (dict(name="BAD6", subjects=["bad6"], retention="forever"), "value of retention must be one of: limits, interest, workqueue"),
        (dict(name="BAD7", subjects=["bad7"], replicas=3), "replicas: 3 needs a clustered JetStream"),
        (dict(name="BAD.8", subjects=["bad8"]), "is not a valid stream name"),
        (dict(name="BAD9", subjects=["bad9"], placement={"zone": "x"}), "placement: unknown key(s) zone"),
        (dict(name="BAD10", subjects=["bad10"], metadata={"_nats.level": "9"}), "keys starting with _nats. belong to the server"),
    ]
    for opts, message in cases:
        r = play([url], [stream_task(**opts)], expect_fail=True)[0]
        assert r["failed"] and message in r["msg"], (opts, r["msg"])
        if "." not in opts["name"]:
            assert stream_info(url, opts["name"]) is None
    r = play([url], [{"natsops.jetstream.stream": {"name": "BAD11", "colour": "red"}}], expect_fail=True)[0]
    assert "Unsupported parameters" in r["msg"] and "colour" in r["msg"]


def test_unreachable_server_fails_fast(play):
    start = time.time()
    r = play(["nats://127.0.0.1:1"], [stream_task(name="X", subjects=["x"])], expect_fail=True)[0]
    elapsed = time.time() - start
    assert r["failed"] and "Cannot connect to NATS at nats://127.0.0.1:1" in r["msg"]
    assert elapsed < 15, elapsed


def test_delete(single, play):
    url = single.urls()[0]
    play([url], [stream_task(name="GONE", subjects=["gone"])])
    r = play([url], [stream_task(name="GONE", state="absent")], check=True)[0]
    assert r["changed"] and stream_info(url, "GONE") is not None
    r = play([url], [stream_task(name="GONE", state="absent")])[0]
    assert r["changed"] and stream_info(url, "GONE") is None
    assert play([url], [stream_task(name="GONE", state="absent")])[0]["changed"] is False


def test_r3_in_cluster_move_between_clusters_and_move_plus_scale_refused(supercluster, play):
    c1 = supercluster.urls("c1")
    spec = dict(name="MOVER", subjects=["mover.>"], replicas=3, placement={"cluster": "c1"})
    r = play(c1, [stream_task(**spec)])[0]
    assert r["operation"] == "created" and r["cluster"]["name"] == "c1"
    publish(c1[0], "mover.a", 50)
    assert play(c1, [stream_task(**spec)])[0]["changed"] is False

    r = play(c1, [stream_task(name="MOVER", replicas=5)], expect_fail=True)[0]
    assert "replicas: 5 is more than the 3 servers of cluster c1" in r["msg"]

    r = play(c1, [stream_task(name="MOVER", replicas=1, placement={"cluster": "c2"})], expect_fail=True)[0]
    assert "placement" in r["msg"] and "replicas" in r["msg"] and "cannot change in one update" in r["msg"]

    r = play(c1, [stream_task(name="MOVER", placement={"cluster": "c2"})])[0]
    assert r["operation"] == "moved"
    for dummy in range(100):
        info = stream_info(c1[0], "MOVER")
        cl = info["cluster"]
        if cl.get("name") == "c2" and len(cl.get("replicas", [])) == 2 and all(x.get("current") for x in cl["replicas"]):
            break
        time.sleep(0.2)
    assert info["cluster"]["name"] == "c2"
    assert {info["cluster"]["leader"]} | {x["name"] for x in info["cluster"]["replicas"]} == {"c2-n1", "c2-n2", "c2-n3"}
    assert info["state"]["messages"] == 50
    api(c1[0], "$JS.API.STREAM.DELETE.MOVER")
