# Copyright: natsops.jetstream contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups against the real NATS CLI (natscli v0.5.0): a stream_backup backup restores with `nats stream restore`
and a `nats stream backup` backup restores with stream_restore, message by message (sequence, subject, headers,
data) with the consumers' ack floors."""
import asyncio
import base64
import json
import os

import nats
import pytest

from jsutil import api, stream_info

COUNT = 300
DELETED = (10, 200)


def fill(url, name):
    """A file stream with COUNT messages (most with headers, one empty, two deleted) and two durable consumers,
    one of them part-way through with acknowledged and unacknowledged messages."""
    async def run():
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            subj = name.lower()
            resp = await nc.request("$JS.API.STREAM.CREATE." + name, json.dumps({
                "name": name, "subjects": [subj + ".>"], "storage": "file", "num_replicas": 1}).encode(), timeout=5)
            assert "error" not in json.loads(resp.data), resp.data
            for i in range(COUNT):
                headers = None if i % 10 == 3 else {"Order-Id": str(i), "X-Trace": "t-%d" % (i * 7)}
                data = b"" if i == 0 else os.urandom(24) + b" order %d" % i
                await js.publish("%s.%d" % (subj, i % 5), data, headers=headers)
            for seq in DELETED:
                await nc.request("$JS.API.STREAM.MSG.DELETE." + name, json.dumps({"seq": seq}).encode(), timeout=5)
            for durable, extra in (("billing", {"max_ack_pending": 1000}), ("audit", {"filter_subject": subj + ".1"})):
                cfg = dict({"durable_name": durable, "ack_policy": "explicit"}, **extra)
                resp = await nc.request("$JS.API.CONSUMER.CREATE.%s.%s" % (name, durable),
                                        json.dumps({"stream_name": name, "config": cfg}).encode(), timeout=5)
                assert "error" not in json.loads(resp.data), resp.data
            sub = await js.pull_subscribe_bind("billing", stream=name)
            msgs = await sub.fetch(120, timeout=5)
            assert len(msgs) == 120
            for m in msgs[:80]:
                await m.ack_sync()
        finally:
            await nc.close()
    asyncio.run(run())


def messages(url, name):
    """Every stored message: seq -> (subject, raw header block, data)."""
    async def run():
        nc = await nats.connect(url)
        out = {}
        try:
            st = json.loads((await nc.request("$JS.API.STREAM.INFO." + name, b"", timeout=5)).data)["state"]
            for seq in range(st["first_seq"], st["last_seq"] + 1):
                r = json.loads((await nc.request("$JS.API.STREAM.MSG.GET." + name,
                                                 json.dumps({"seq": seq}).encode(), timeout=5)).data)
                if "error" in r:
                    continue
                m = r["message"]
                out[m["seq"]] = (m["subject"], base64.b64decode(m.get("hdrs") or ""), base64.b64decode(m.get("data") or ""))
        finally:
            await nc.close()
        return out
    return asyncio.run(run())


def consumers(url, name):
    """durable -> (filter, ack policy, ack floor stream sequence)."""
    out = {}
    for c in api(url, "$JS.API.CONSUMER.LIST." + name).get("consumers") or []:
        cfg = c["config"]
        out[c["name"]] = (cfg.get("filter_subject"), cfg.get("ack_policy"), c["ack_floor"]["stream_seq"])
    return out


def stream_shape(info):
    cfg = info["config"]
    return {k: cfg.get(k) for k in ("name", "subjects", "storage", "retention", "num_replicas", "discard")}


def check_source(url, name):
    before = messages(url, name)
    assert len(before) == COUNT - len(DELETED) and not set(DELETED) & set(before)
    assert before[1][2] == b"" and b"Order-Id: 5\r\n" in before[6][1] and before[4][1] == b""
    cons = consumers(url, name)
    assert cons["billing"][2] == 81 and cons["audit"][2] == 0  # 80 acked: sequences 1-81 without the deleted 10
    return before, cons, stream_shape(stream_info(url, name))


def check_restored(url, name, before, cons, shape):
    info = stream_info(url, name)
    assert info is not None, "%s was not restored" % name
    assert stream_shape(info) == shape
    assert info["state"]["messages"] == COUNT - len(DELETED)
    assert info["state"]["first_seq"] == 1 and info["state"]["last_seq"] == COUNT
    after = messages(url, name)
    assert sorted(after) == sorted(before)
    for seq in before:
        assert after[seq] == before[seq], "message %d differs after the restore" % seq
    assert consumers(url, name) == cons


def test_module_backup_restores_with_nats_stream_restore(cli, single, play, tmp_path):
    url = single.urls()[0]
    fill(url, "ORDERS")
    before, cons, shape = check_source(url, "ORDERS")

    dest = str(tmp_path / "orders")
    res = play(single.urls(), [{"natsops.jetstream.stream_backup": {"stream": "ORDERS", "dest": dest}}])[0]
    assert res["changed"] and res["manifest"]["messages"] == COUNT - len(DELETED)
    assert {"backup.json", "stream.tar.s2", "manifest.json"} <= set(os.listdir(dest))

    # The CLI reads the backup offline: complete, restorable, with the same content.
    out = cli.run("backup", "validate", dest, "--no-progress").output
    assert out.startswith("OK:") and "%d messages" % (COUNT - len(DELETED)) in out and "2 consumers" in out, out
    report = json.loads(cli.run("backup", "info", dest, "--no-progress", "--json").stdout)
    assert report["config"]["name"] == "ORDERS" and report["declared"]["messages"] == COUNT - len(DELETED)

    api(url, "$JS.API.STREAM.DELETE.ORDERS")
    assert stream_info(url, "ORDERS") is None
    proc = cli.run("stream", "restore", dest, "--no-progress", server=url)
    assert 'Restored stream "ORDERS"' in proc.output, proc.output
    check_restored(url, "ORDERS", before, cons, shape)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=(
    "stream_restore refuses a NATS CLI backup: it requires natsops' own manifest.json (the CLI writes only "
    "backup.json and the archive) and reads only stream.tar.s2, while natscli v0.5.0 names the archive "
    "stream.arc.s2 for a 2.15 server (jsm.go SnapshotDataFile). Reported; remove this mark once fixed."))
def test_nats_stream_backup_restores_with_module(cli, single, play, tmp_path):
    url = single.urls()[0]
    fill(url, "EVENTS")
    before, cons, shape = check_source(url, "EVENTS")

    src = str(tmp_path / "events")
    proc = cli.run("stream", "backup", "EVENTS", src, "--no-progress", server=url)
    assert "backup" in proc.output.lower(), proc.output
    assert os.path.getsize(os.path.join(src, "backup.json")) > 0
    assert os.path.exists(os.path.join(src, "stream.arc.s2"))     # the 2.15 layout natscli v0.5.0 writes
    assert cli.run("backup", "validate", src, "--no-progress").output.startswith("OK:")

    api(url, "$JS.API.STREAM.DELETE.EVENTS")
    res = play(single.urls(), [{"natsops.jetstream.stream_restore": {"src": src}}])[0]
    assert res["changed"]
    check_restored(url, "EVENTS", before, cons, shape)
