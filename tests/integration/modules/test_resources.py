"""consumer, kv_bucket, object_store, info and apply against real nats-server processes."""
import asyncio
import os
import sys

import nats
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from jsutil import api, merged, stream_info

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from natsproc import Supercluster, binary_for  # noqa: E402


def task(module, **opts):
    return {"natsops.jetstream.%s" % module: opts, "register": "r"}


def test_consumer_lifecycle(single, play):
    url = single.urls()[0]
    play([url], [task("stream", name="C_ORDERS", subjects=["corders.>"])])
    spec = dict(stream="C_ORDERS", name="billing", filter_subject="corders.created", ack_wait="10s", max_deliver=5,
                max_ack_pending=100)
    r = play([url], [task("consumer", **spec)], check=True)[0]
    assert r["changed"] and r["operation"] == "created"
    assert "error" in api(url, "$JS.API.CONSUMER.INFO.C_ORDERS.billing")
    r = play([url], [task("consumer", **spec)])[0]
    assert r["operation"] == "created"
    cfg = api(url, "$JS.API.CONSUMER.INFO.C_ORDERS.billing")["config"]
    assert cfg["ack_policy"] == "explicit" and cfg["ack_wait"] == 10 * 10 ** 9 and cfg["max_deliver"] == 5
    assert play([url], [task("consumer", **spec)])[0]["changed"] is False

    r = play([url], [task("consumer", **merged(spec, max_deliver=7, backoff=["1s", "5s"], ack_wait="1s"))])[0]
    assert r["operation"] == "updated" and r["changes"] == ["ack_wait", "backoff", "max_deliver"]
    cfg = api(url, "$JS.API.CONSUMER.INFO.C_ORDERS.billing")["config"]
    assert cfg["max_deliver"] == 7 and cfg["filter_subject"] == "corders.created"

    # the consumer now has a backoff: ack_wait is backoff[0] (a different ack_wait is refused, see test_transitions)
    spec = merged(spec, ack_wait="1s")
    r = play([url], [task("consumer", **merged(spec, deliver_policy="new"))], expect_fail=True)[0]
    assert "deliver_policy: 'all' -> 'new'" in r["msg"] and "recreate: true" in r["msg"]
    r = play([url], [task("consumer", stream="C_ORDERS", name="billing", deliver_subject="push.here")],
             expect_fail=True)[0]
    assert "cannot switch between pull and push" in r["msg"]
    r = play([url], [task("consumer", stream="C_ORDERS", name="billing", ack_wait="10s", backoff=["2s"])],
             expect_fail=True)[0]
    assert "ack_wait: 10s differs from the first backoff delay 2s" in r["msg"]

    r = play([url], [task("consumer", **merged(spec, deliver_policy="new", recreate=True))])[0]
    assert r["operation"] == "recreated"
    assert api(url, "$JS.API.CONSUMER.INFO.C_ORDERS.billing")["config"]["deliver_policy"] == "new"

    r = play([url], [task("consumer", stream="NOPE", name="x")], expect_fail=True)[0]
    assert "stream: NOPE does not exist" in r["msg"]
    r = play([url], [task("consumer", stream="C_ORDERS", name="billing", state="absent")])[0]
    assert r["changed"] and "error" in api(url, "$JS.API.CONSUMER.INFO.C_ORDERS.billing")


def test_kv_bucket_is_canonical_and_interoperates(single, play):
    url = single.urls()[0]
    r = play([url], [task("kv_bucket", bucket="carts", history=5, ttl="1h", max_value_size="1KiB")])[0]
    assert r["changed"] and r["stream"] == "KV_carts"
    assert play([url], [task("kv_bucket", bucket="carts", history=5, ttl="1h", max_value_size="1KiB")])[0]["changed"] is False
    cfg = stream_info(url, "KV_carts")["config"]
    expected = {"subjects": ["$KV.carts.>"], "max_msgs_per_subject": 5, "max_age": 3600 * 10 ** 9,
                "max_msg_size": 1024, "discard": "new", "deny_delete": True, "allow_rollup_hdrs": True,
                "allow_direct": True, "duplicate_window": 120 * 10 ** 9, "storage": "file", "num_replicas": 1}
    assert dict((k, cfg.get(k)) for k in expected) == expected

    async def use():
        nc = await nats.connect(url)
        try:
            kv = await nc.jetstream().key_value("carts")
            await kv.put("alice", b"3 apples")
            await kv.put("alice", b"4 apples")
            entry = await kv.get("alice")
            assert entry.value == b"4 apples"
            assert len(await kv.history("alice")) == 2
        finally:
            await nc.close()
    asyncio.run(use())

    r = play([url], [task("kv_bucket", bucket="carts", history=10)])[0]
    assert r["changed"] and r["changes"] == ["max_msgs_per_subject"]
    r = play([url], [task("kv_bucket", bucket="carts", history=65)], expect_fail=True)[0]
    assert "history: 65 is not allowed" in r["msg"]
    r = play([url], [task("kv_bucket", bucket="carts", storage="memory")], expect_fail=True)[0]
    assert "storage" in r["msg"] and "recreate" in r["msg"]


def test_object_store_interoperates(single, play):
    url = single.urls()[0]
    r = play([url], [task("object_store", bucket="files", max_bytes="16MiB")])[0]
    assert r["changed"] and r["stream"] == "OBJ_files"
    assert play([url], [task("object_store", bucket="files", max_bytes="16MiB")])[0]["changed"] is False

    async def use():
        nc = await nats.connect(url)
        try:
            obs = await nc.jetstream().object_store("files")
            await obs.put("report.txt", b"x" * 300000)
            got = await obs.get("report.txt")
            assert got.data == b"x" * 300000
        finally:
            await nc.close()
    asyncio.run(use())


def test_info_pages_through_every_stream(single, play):
    url = single.urls()[0]

    async def many():
        nc = await nats.connect(url)
        try:
            for i in range(270):
                await nc.request("$JS.API.STREAM.CREATE.PAGE_%03d" % i,
                                 ('{"name":"PAGE_%03d","subjects":["page.%03d"],"storage":"memory"}' % (i, i)).encode(),
                                 timeout=5)
        finally:
            await nc.close()
    asyncio.run(many())
    r = play([url], [task("info", gather=["streams", "kv_buckets", "object_stores"])])[0]
    names = [s["config"]["name"] for s in r["streams"]]
    assert len([n for n in names if n.startswith("PAGE_")]) == 270
    assert r["server"]["version"] and r["api_level"] >= 1
    assert any(b["bucket"] == "carts" for b in r["kv_buckets"])
    for i in range(270):
        api(url, "$JS.API.STREAM.DELETE.PAGE_%03d" % i)


def test_apply_orders_reports_and_prunes_only_its_prefix(single, play):
    url = single.urls()[0]
    play([url], [task("stream", name="OTHER_TEAM", subjects=["other.>"])])
    declared = dict(
        streams=[{"name": "SHOP_DR", "mirror": {"name": "SHOP_ORDERS"}},
                 {"name": "SHOP_ORDERS", "subjects": ["shop.orders.>"], "max_age": "1d"},
                 {"name": "SHOP_OLD", "subjects": ["shop.old"]}],
        consumers=[{"stream": "SHOP_ORDERS", "name": "SHOP_billing", "max_deliver": 3},
                   {"stream": "SHOP_ORDERS", "name": "SHOP_audit"}],
        kv_buckets=[{"bucket": "SHOP_carts", "history": 3}],
    )
    r = play([url], [task("apply", **declared)])[0]
    assert r["summary"] == {"created": 6}
    order = [x["name"] for x in r["resources"]]
    assert order.index("SHOP_ORDERS") < order.index("SHOP_DR")
    assert order.index("SHOP_ORDERS/SHOP_billing") > order.index("SHOP_ORDERS")
    assert play([url], [task("apply", **declared)])[0]["summary"] == {"unchanged": 6}

    pruned = merged(declared, streams=declared["streams"][:2], consumers=declared["consumers"][:1], prune=True,
                    prune_prefix="SHOP_")
    r = play([url], [task("apply", **pruned)], check=True)[0]
    gone = sorted(x["name"] for x in r["resources"] if x["action"] == "deleted")
    assert gone == ["SHOP_OLD", "SHOP_ORDERS/SHOP_audit"]
    assert stream_info(url, "SHOP_OLD") is not None
    r = play([url], [task("apply", **pruned)])[0]
    assert r["summary"]["deleted"] == 2
    assert stream_info(url, "SHOP_OLD") is None and stream_info(url, "OTHER_TEAM") is not None
    assert stream_info(url, "KV_SHOP_carts") is not None

    r = play([url], [task("apply", streams=[{"name": "SHOP_X", "colour": "red"}])], expect_fail=True)[0]
    assert "streams[0]: unknown option(s) colour" in r["msg"]
    r = play([url], [task("apply", prune=True, streams=[])], expect_fail=True)[0]
    assert "prune_prefix" in r["msg"]


@pytest.fixture(scope="module")
def old_server():
    sc = Supercluster({"old": 1}, binary=binary_for("2.10.26")).start()
    yield sc
    sc.stop()


def test_fields_a_2_10_server_does_not_know_are_refused_before_sending(old_server, play):
    url = old_server.urls()[0]
    r = play([url], [task("stream", name="OLDV", subjects=["oldv"], allow_msg_ttl=True)], expect_fail=True)[0]
    assert "allow_msg_ttl needs nats-server 2.11.0 or later; the connected server runs 2.10.26" in r["msg"]
    assert stream_info(url, "OLDV") is None
    r = play([url], [task("stream", name="OLDV", subjects=["oldv"], max_age="1h")])[0]
    assert r["operation"] == "created"
    assert play([url], [task("stream", name="OLDV", subjects=["oldv"], max_age="1h")])[0]["changed"] is False
    r = play([url], [task("stream", name="OLDV", max_age="2h")])[0]
    assert r["operation"] == "updated"
