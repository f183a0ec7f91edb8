"""Backup and restore throughput for a stream of at least 500 MB (file storage, R1) on a loopback
nats-server, next to a plain tar of the same server's store directory. Not a test: prints figures."""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time

import nats

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from natsproc import Supercluster, ansible_env  # noqa: E402

SIZE_MB = int(os.environ.get("BENCH_MB", "512"))
PAYLOAD = 64 * 1024


async def fill(url):
    nc = await nats.connect(url)
    try:
        await nc.request("$JS.API.STREAM.CREATE.BENCH", json.dumps({"name": "BENCH", "subjects": ["bench.>"],
                                                                    "max_bytes": -1}).encode(), timeout=10)
        js = nc.jetstream()
        # random payloads: incompressible, the worst case for the S2-compressed snapshot
        count = SIZE_MB * 1024 * 1024 // PAYLOAD
        pending = []
        for i in range(count):
            pending.append(js.publish("bench.%d" % (i % 16), os.urandom(PAYLOAD)))
            if len(pending) >= 64:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await nc.close()


def drop_caches():
    """Empty the page cache (root only) so reads come from the disk; False when not allowed."""
    try:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except (IOError, OSError):
        return False


def ansible(module, args):
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    t0 = time.time()
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible"), "localhost", "-m", module, "-a",
                           json.dumps(args)], env=env, capture_output=True, text=True, check=False)
    elapsed = time.time() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-2000:])
    return elapsed, json.loads(proc.stdout[proc.stdout.index("{"):])


def main():
    sc = Supercluster({"bench": 1}).start()
    work = os.path.join(ROOT, ".cache", "bench-backup")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    try:
        url = sc.urls()[0]
        t0 = time.time()
        asyncio.run(fill(url))
        fill_s = time.time() - t0
        store = os.path.join(sc.nodes[0].dir, "store")
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(store) for f in fs)

        def tar():
            target = os.path.join(work, "store.tar")
            t0 = time.time()
            subprocess.run(["tar", "-cf", target, "-C", store, "."], check=True)
            subprocess.run(["sync"], check=True)
            os.unlink(target)
            return time.time() - t0

        def backup(name):
            t0 = time.time()
            dummy, res = ansible("natsops.jetstream.stream_backup",
                                 dict({"stream": "BENCH", "dest": os.path.join(work, name), "servers": [url]},
                                      **json.loads(os.environ.get("BENCH_BACKUP_ARGS", "{}"))))
            subprocess.run(["sync"], check=True)
            return time.time() - t0, res["plays"][0]["tasks"][0]["hosts"]["localhost"]

        # Warm: the store is in the page cache for both. Cold (the physical reference): caches dropped first.
        tar_s = tar()
        backup_s, result = backup("BENCH_warm")
        shutil.rmtree(os.path.join(work, "BENCH_warm"))
        cold = drop_caches()
        tar_cold = tar() if cold else None
        drop_caches()
        backup_cold, cold_result = backup("BENCH") if cold else backup("BENCH")
        data = result["manifest"]["bytes"]
        snap_s = result["manifest"]["duration_s"]

        restore_s, res = ansible("natsops.jetstream.stream_restore",
                                 {"src": os.path.join(work, "BENCH"), "servers": [url], "replace": True})
        rr = res["plays"][0]["tasks"][0]["hosts"]["localhost"]

        mb = size / 1e6
        print("\nstream: %d MB in the store (%d messages of %d KiB, incompressible), filled in %.1f s"
              % (mb, result["messages"], PAYLOAD // 1024, fill_s))
        print("%-46s %8s %9s" % ("measure", "seconds", "MB/s"))
        print("%-50s %8s %9s" % ("", "", ""))
        print("%-50s %8.1f %9.1f" % ("warm: tar of the store directory", tar_s, mb / tar_s))
        print("%-50s %8.1f %9.1f" % ("warm: stream_backup, snapshot transfer", snap_s, mb / snap_s))
        print("%-50s %8.1f %9.1f" % ("warm: stream_backup, whole ansible run", backup_s, mb / backup_s))
        if cold:
            print("%-50s %8.1f %9.1f" % ("cold: tar of the store directory (physical ref.)", tar_cold, mb / tar_cold))
            print("%-50s %8.1f %9.1f" % ("cold: stream_backup, snapshot transfer",
                                          cold_result["manifest"]["duration_s"], mb / cold_result["manifest"]["duration_s"]))
            print("%-50s %8.1f %9.1f" % ("cold: stream_backup, whole ansible run", backup_cold, mb / backup_cold))
            print("cold backup/tar rate: %.0f %% (whole ansible run), %.0f %% (snapshot transfer)"
                  % (100 * tar_cold / backup_cold, 100 * tar_cold / cold_result["manifest"]["duration_s"]))
        print("%-46s %8.1f %9.1f" % ("stream_restore, whole ansible run", restore_s, mb / restore_s))
        print("snapshot data: %d MB; warm backup/tar rate: %.0f %% (snapshot transfer), %.0f %% (whole run)"
              % (data / 1e6, 100 * tar_s / snap_s, 100 * tar_s / backup_s))
        print("restored state matches: %s messages" % rr["state"]["messages"])
    finally:
        sc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
