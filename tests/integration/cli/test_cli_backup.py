# Copyright: natsops.jetstream contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups against the real NATS CLI (natscli v0.5.0): a stream_backup backup restores with `nats stream restore`
and a `nats stream backup` backup restores with stream_restore, message by message (sequence, subject, headers,
data) with the consumers' ack floors. Also: the CLI's completeness rules without a manifest, backups in the layout
of earlier natsops versions, and the stream.tar.s2 naming both tools use with a pre-2.15 server."""
import asyncio
import base64
import json
import os
import shutil

import nats

from jsutil import api, stream_info
from natsproc import Supercluster, binary_for

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
    # Named as natscli v0.5.0 names it for a 2.15 server, and the manifest says so.
    assert sorted(os.listdir(dest)) == ["backup.json", "manifest.json", "stream.arc.s2"]
    assert res["manifest"]["data_file"] == "stream.arc.s2"

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

    assert not os.path.exists(os.path.join(src, "manifest.json"))
    declared = json.load(open(os.path.join(src, "backup.json")))["state"]

    api(url, "$JS.API.STREAM.DELETE.EVENTS")
    # Check mode reads the CLI layout and creates nothing.
    res = play(single.urls(), [{"natsops.jetstream.stream_restore": {"src": src}}], check=True)[0]
    assert res["changed"] and res["layout"] == "natscli" and res["archive"] == "stream.arc.s2", res
    assert res["manifest"] is None and res["backup_state"] == {k: declared[k] for k in
                                                               ("messages", "first_seq", "last_seq", "bytes")}
    assert stream_info(url, "EVENTS") is None

    res = play(single.urls(), [{"natsops.jetstream.stream_restore": {"src": src}}])[0]
    assert res["changed"] and res["layout"] == "natscli" and res["replaced_messages"] == 0
    # Verified against backup.json: messages, first/last sequence and bytes.
    assert {k: res["state"][k] for k in res["backup_state"]} == res["backup_state"]
    check_restored(url, "EVENTS", before, cons, shape)

    # Again over the existing stream: refused without replace, and with it the same content comes back.
    res = play(single.urls(), [{"natsops.jetstream.stream_restore": {"src": src}}], expect_fail=True)[0]
    assert res.get("failed") and "already exists with %d messages" % (COUNT - len(DELETED)) in res["msg"], res
    res = play(single.urls(), [{"natsops.jetstream.stream_restore": {"src": src, "replace": True}}])[0]
    assert res["changed"] and res["replaced_messages"] == COUNT - len(DELETED)
    check_restored(url, "EVENTS", before, cons, shape)

    # stream_backup counts the CLI's backup as complete and keeps it.
    res = play(single.urls(), [{"natsops.jetstream.stream_backup": {"stream": "EVENTS", "dest": src}}])[0]
    assert not res["changed"] and sorted(os.listdir(src)) == ["backup.json", "stream.arc.s2"]


def test_incomplete_or_ambiguous_cli_backups_are_refused(cli, single, play, tmp_path):
    """Without a manifest, the CLI's own completeness rules apply (jsm.go snapshots.go): backup.json is written
    last (an interrupted CLI backup leaves it empty), and a directory holding both archive names is ambiguous."""
    url = single.urls()[0]
    api(url, "$JS.API.STREAM.CREATE.REFUSE", {"name": "REFUSE", "subjects": ["refuse.>"], "storage": "file"})
    cli.run("publish", "refuse.x", "m {{Count}}", "--count", "20", "--jetstream", server=url)
    good = str(tmp_path / "good")
    cli.run("stream", "backup", "REFUSE", good, "--no-progress", server=url)
    api(url, "$JS.API.STREAM.DELETE.REFUSE")

    both, empty_meta, no_archive = (str(tmp_path / n) for n in ("both", "empty_meta", "no_archive"))
    for d in (both, empty_meta, no_archive):
        shutil.copytree(good, d)
    shutil.copy(os.path.join(both, "stream.arc.s2"), os.path.join(both, "stream.tar.s2"))
    open(os.path.join(empty_meta, "backup.json"), "w").close()
    os.remove(os.path.join(no_archive, "stream.arc.s2"))
    tasks = [{"natsops.jetstream.stream_restore": {"src": d}, "ignore_errors": True}
             for d in (both, empty_meta, no_archive)]
    res = play(single.urls(), tasks, expect_fail=True)
    assert all(r.get("failed") for r in res), res
    assert "holds both stream.arc.s2 and stream.tar.s2" in res[0]["msg"], res[0]["msg"]
    assert "not a complete backup" in res[1]["msg"] and "backup.json is empty" in res[1]["msg"], res[1]["msg"]
    assert "holds no archive (stream.arc.s2 or stream.tar.s2)" in res[2]["msg"], res[2]["msg"]
    assert stream_info(url, "REFUSE") is None
    # The CLI refuses the ambiguous directory too.
    assert "holds both" in cli.run("stream", "restore", both, "--no-progress", server=url, check=False).output
    assert stream_info(url, "REFUSE") is None


def test_older_natsops_backup_restores(single, play, tmp_path):
    """A backup written before the archive was named per server version: stream.tar.s2 (whatever the server's
    format) with a manifest naming it. It still verifies and restores, message by message."""
    url = single.urls()[0]
    fill(url, "LEGACY")
    before, cons, shape = check_source(url, "LEGACY")
    dest = str(tmp_path / "legacy")
    play(single.urls(), [{"natsops.jetstream.stream_backup": {"stream": "LEGACY", "dest": dest}}])
    os.rename(os.path.join(dest, "stream.arc.s2"), os.path.join(dest, "stream.tar.s2"))
    manifest_path = os.path.join(dest, "manifest.json")
    manifest = json.load(open(manifest_path))
    manifest["data_file"] = "stream.tar.s2"
    json.dump(manifest, open(manifest_path, "w"), indent=2)

    api(url, "$JS.API.STREAM.DELETE.LEGACY")
    res = play(single.urls(), [{"natsops.jetstream.stream_restore": {"src": dest}}])[0]
    assert res["changed"] and res["layout"] == "natsops" and res["archive"] == "stream.tar.s2"
    check_restored(url, "LEGACY", before, cons, shape)

    # The manifest is still checked: a flipped byte in the renamed archive is refused before anything is created.
    api(url, "$JS.API.STREAM.DELETE.LEGACY")
    data = os.path.join(dest, "stream.tar.s2")
    with open(data, "r+b") as f:
        f.seek(os.path.getsize(data) // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    res = play(single.urls(), [{"natsops.jetstream.stream_restore": {"src": dest}}], expect_fail=True)[0]
    assert res.get("failed") and "checksum mismatch" in res["msg"], res
    assert stream_info(url, "LEGACY") is None


def test_pre_2_15_server_tar_layout_both_ways(cli, play, tmp_path):
    """With a nats-server older than 2.15, natscli v0.5.0 and stream_backup both name the archive stream.tar.s2,
    and stream_restore restores either backup."""
    old = Supercluster({"old": 1}, binary=binary_for("2.10.26")).start()
    try:
        url = old.urls()[0]
        fill(url, "OLDFMT")
        before, cons, shape = check_source(url, "OLDFMT")
        mod, cli_dir = str(tmp_path / "module"), str(tmp_path / "cli")
        res = play(old.urls(), [{"natsops.jetstream.stream_backup": {"stream": "OLDFMT", "dest": mod}}])[0]
        assert res["manifest"]["data_file"] == "stream.tar.s2"
        assert sorted(os.listdir(mod)) == ["backup.json", "manifest.json", "stream.tar.s2"]
        cli.run("stream", "backup", "OLDFMT", cli_dir, "--no-progress", server=url)
        assert sorted(os.listdir(cli_dir)) == ["backup.json", "stream.tar.s2"]
        for src, layout in ((cli_dir, "natscli"), (mod, "natsops")):
            api(url, "$JS.API.STREAM.DELETE.OLDFMT")
            res = play(old.urls(), [{"natsops.jetstream.stream_restore": {"src": src}}])[0]
            assert res["layout"] == layout and res["archive"] == "stream.tar.s2"
            check_restored(url, "OLDFMT", before, cons, shape)
    finally:
        old.stop()
