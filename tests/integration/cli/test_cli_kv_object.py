# Copyright: natsops.jetstream contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KV buckets and object stores against the real NATS CLI (natscli v0.5.0): buckets the modules made work with
`nats kv` / `nats object`, and buckets the CLI made read back changed=false from the modules given the same
settings."""
import asyncio
import hashlib
import json
import os

import nats


def stream_config(cli, url, stream):
    return json.loads(cli.run("stream", "info", stream, "--json", server=url).stdout)["config"]


def kv_module_args(bucket):
    return {"bucket": bucket, "description": "profiles by natsops", "history": 5, "storage": "file",
            "max_value_size": 4096, "replicas": 1}


def test_module_kv_bucket_works_with_nats_kv(cli, single, play):
    url = single.urls()[0]
    res = play(single.urls(), [{"natsops.jetstream.kv_bucket": kv_module_args("profiles")}])[0]
    assert res["changed"]

    for i in range(1, 4):
        cli.run("kv", "put", "profiles", "user.1", "v%d" % i, server=url)
    cli.run("kv", "put", "profiles", "user.2", "only", server=url)
    assert cli.run("kv", "get", "profiles", "user.1", "--raw", server=url).stdout == "v3"
    history = [line for line in cli.run("kv", "history", "profiles", "user.1", server=url).stdout.splitlines()
               if "user.1" in line and "PUT" in line]
    assert [line.split("│")[-2].strip() for line in history] == ["v1", "v2", "v3"], history
    keys = cli.run("kv", "ls", "profiles", server=url).stdout.split()
    assert sorted(keys) == ["user.1", "user.2"]
    status = cli.run("kv", "info", "profiles", server=url).stdout
    assert "profiles by natsops" in status and "History Kept: 5" in status, status

    # nats.go-style clients (nats-py here) see what the CLI wrote, and the module still sees no drift.
    async def read():
        nc = await nats.connect(url)
        try:
            kv = await nc.jetstream().key_value("profiles")
            return (await kv.get("user.1")).value, len(await kv.history("user.1"))
        finally:
            await nc.close()
    assert asyncio.run(read()) == (b"v3", 3)
    res = play(single.urls(), [{"natsops.jetstream.kv_bucket": kv_module_args("profiles")}])[0]
    assert not res["changed"], res


def test_module_object_store_works_with_nats_object(cli, single, play, tmp_path):
    url = single.urls()[0]
    args = {"bucket": "artifacts", "description": "build artifacts", "storage": "file", "max_bytes": "64MB",
            "replicas": 1}
    res = play(single.urls(), [{"natsops.jetstream.object_store": args}])[0]
    assert res["changed"]

    blob = os.urandom(700 * 1024)        # several 128 KiB chunks
    src = tmp_path / "release.bin"
    src.write_bytes(blob)
    cli.run("object", "put", "artifacts", str(src), "--name", "release.bin", "--no-progress", "-f", server=url)
    listing = cli.run("object", "ls", "artifacts", server=url).stdout
    assert "release.bin" in listing, listing
    out = tmp_path / "back.bin"
    cli.run("object", "get", "artifacts", "release.bin", "-O", str(out), "--no-progress", "-f", server=url)
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(blob).hexdigest()

    async def read():
        nc = await nats.connect(url)
        try:
            obs = await nc.jetstream().object_store("artifacts")
            await obs.put("from-python.txt", b"written by nats-py")
            return (await obs.get("release.bin")).data
        finally:
            await nc.close()
    assert asyncio.run(read()) == blob
    got = tmp_path / "py.txt"
    cli.run("object", "get", "artifacts", "from-python.txt", "-O", str(got), "--no-progress", "-f", server=url)
    assert got.read_bytes() == b"written by nats-py"
    res = play(single.urls(), [{"natsops.jetstream.object_store": args}])[0]
    assert not res["changed"], res


def test_cli_made_buckets_are_unchanged_for_the_modules(cli, single, play):
    url = single.urls()[0]
    cli.run("kv", "add", "CLIKV", "--description", "made by nats", "--history", "7", "--storage", "file",
            "--ttl", "1h", "--replicas", "1", "--max-value-size", "1024", "--max-bucket-size", "10MB",
            "--compress", "--metadata", "team:ops", server=url)
    cli.run("object", "add", "CLIOBJ", "--description", "objects by nats", "--storage", "file", "--ttl", "2h",
            "--replicas", "1", "--max-bucket-size", "20MB", "--compress", "--metadata", "team:ops", server=url)
    kv_before = stream_config(cli, url, "KV_CLIKV")
    obj_before = stream_config(cli, url, "OBJ_CLIOBJ")
    assert kv_before["max_msgs_per_subject"] == 7 and kv_before["compression"] == "s2"

    tasks = [
        {"natsops.jetstream.kv_bucket": {"bucket": "CLIKV", "description": "made by nats", "history": 7,
                                         "storage": "file", "ttl": "1h", "replicas": 1, "max_value_size": 1024,
                                         "max_bytes": "10MB", "compression": True, "metadata": {"team": "ops"}}},
        {"natsops.jetstream.object_store": {"bucket": "CLIOBJ", "description": "objects by nats", "storage": "file",
                                            "ttl": "2h", "replicas": 1, "max_bytes": "20MB", "compression": True,
                                            "metadata": {"team": "ops"}}},
    ]
    for check in (True, False):
        for res in play(single.urls(), tasks, check=check):
            assert not res["changed"], json.dumps(res, indent=1)[:3000]
    assert stream_config(cli, url, "KV_CLIKV") == kv_before
    assert stream_config(cli, url, "OBJ_CLIOBJ") == obj_before

    # And a bucket the CLI made with its defaults matches the module given only the name.
    cli.run("kv", "add", "PLAIN", server=url)
    cli.run("object", "add", "PLAINOBJ", server=url)
    for res in play(single.urls(), [{"natsops.jetstream.kv_bucket": {"bucket": "PLAIN"}},
                                    {"natsops.jetstream.object_store": {"bucket": "PLAINOBJ"}}]):
        assert not res["changed"], json.dumps(res, indent=1)[:3000]
