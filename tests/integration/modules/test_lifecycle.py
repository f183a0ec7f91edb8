"""The same lifecycle for every resource module, on nats-server 2.15.1 and 2.10.26:
check mode (changed, server untouched) -> apply -> apply again (changed=false) -> mutable change (diff)
-> immutable change refused (server untouched) -> recreate -> absent (check mode first) -> absent again."""
import asyncio
import os
import sys

import nats
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from jsutil import api, stream_info  # noqa: E402
from natsproc import Supercluster, binary_for  # noqa: E402


@pytest.fixture(scope="module", params=["2.15.1", "2.10.26"])
def server(request):
    binary = None if request.param == "2.15.1" else binary_for(request.param)
    sc = (Supercluster({"s": 1}, binary=binary) if binary else Supercluster({"s": 1})).start()
    sc.version = request.param
    yield sc
    sc.stop()


def exists_stream(name):
    return lambda url: stream_info(url, name) is not None


def exists_consumer(stream, name):
    return lambda url: "error" not in api(url, "$JS.API.CONSUMER.INFO.%s.%s" % (stream, name))


CASES = {
    "stream": dict(
        base={"name": "LC_S", "subjects": ["lc.s.>"], "max_age": "1h"},
        mutable={"max_age": "2h"}, diff_key="max_age",
        immutable={"storage": "memory"}, field="storage",
        exists=exists_stream("LC_S"), ident={"name": "LC_S"}),
    "kv_bucket": dict(
        base={"bucket": "lc_kv", "history": 2},
        mutable={"history": 5}, diff_key="max_msgs_per_subject",
        immutable={"storage": "memory"}, field="storage",
        exists=exists_stream("KV_lc_kv"), ident={"bucket": "lc_kv"}),
    "object_store": dict(
        base={"bucket": "lc_obj", "max_bytes": "8MiB"},
        mutable={"max_bytes": "16MiB"}, diff_key="max_bytes",
        immutable={"storage": "memory"}, field="storage",
        exists=exists_stream("OBJ_lc_obj"), ident={"bucket": "lc_obj"}),
    "consumer": dict(
        base={"stream": "LC_C", "name": "lc", "max_deliver": 3},
        mutable={"max_deliver": 4}, diff_key="max_deliver",
        immutable={"deliver_policy": "new"}, field="deliver_policy",
        exists=exists_consumer("LC_C", "lc"), ident={"stream": "LC_C", "name": "lc"}),
}


def t(module, opts):
    return {"natsops.jetstream.%s" % module: opts, "register": "r"}


@pytest.mark.parametrize("module", sorted(CASES))
def test_lifecycle(server, play, module):
    url = server.urls()[0]
    case = CASES[module]
    if module == "consumer":
        play([url], [t("stream", {"name": "LC_C", "subjects": ["lc.c.>"]})])
    base = case["base"]

    r = play([url], [t(module, base)], check=True)[0]
    assert r["changed"] and r["operation"] == "created"
    assert not case["exists"](url)

    assert play([url], [t(module, base)])[0]["operation"] == "created"
    assert case["exists"](url)
    assert play([url], [t(module, base)])[0]["changed"] is False

    r = play([url], [t(module, dict(base, **case["mutable"]))])[0]
    assert r["changed"] and r["operation"] == "updated"
    assert r["diff"]["before"][case["diff_key"]] != r["diff"]["after"][case["diff_key"]]
    assert play([url], [t(module, dict(base, **case["mutable"]))])[0]["changed"] is False

    r = play([url], [t(module, dict(base, **case["immutable"]))], expect_fail=True)[0]
    assert r["failed"] and "%s:" % case["field"] in r["msg"] and "recreate: true" in r["msg"]
    r = play([url], [t(module, dict(base, **case["mutable"]))])[0]
    assert r["changed"] is False, "the refused change must not have touched the server"

    r = play([url], [t(module, dict(base, recreate=True, **case["immutable"]))])[0]
    assert r["operation"] == "recreated"
    assert play([url], [t(module, dict(base, **case["immutable"]))])[0]["changed"] is False

    gone = dict(case["ident"], state="absent")
    assert play([url], [t(module, gone)], check=True)[0]["changed"] is True
    assert case["exists"](url)
    assert play([url], [t(module, gone)])[0]["changed"] is True
    assert not case["exists"](url)
    assert play([url], [t(module, gone)])[0]["changed"] is False
    if module == "consumer":
        api(url, "$JS.API.STREAM.DELETE.LC_C")


def test_kv_bucket_made_by_nats_py_reads_back_without_spurious_changes(server, play):
    url = server.urls()[0]

    async def make():
        nc = await nats.connect(url)
        try:
            await nc.jetstream().create_key_value(bucket="pymade", history=4, ttl=3600)
        finally:
            await nc.close()
    asyncio.run(make())
    r = play([url], [t("kv_bucket", {"bucket": "pymade", "history": 4, "ttl": "1h"})])[0]
    assert r["changed"] is False and r["operation"] == "unchanged"
    r = play([url], [t("kv_bucket", {"bucket": "pymade", "history": 6})])[0]
    assert r["changed"] and r["changes"] == ["max_msgs_per_subject"]

    async def use():
        nc = await nats.connect(url)
        try:
            kv = await nc.jetstream().key_value("pymade")
            await kv.put("k", b"1")
            return (await kv.get("k")).value
        finally:
            await nc.close()
    assert asyncio.run(use()) == b"1"
