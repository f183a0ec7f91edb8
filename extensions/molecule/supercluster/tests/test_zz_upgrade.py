"""Rolling upgrade 2.14.6 -> 2.15.1 under load (runs after test_supercluster.py, once, from c1-n1).

While site.yml upgrades the nine nodes, a client keeps publishing to R3 streams in c1 and c2 with bounded
retries. Afterwards every node runs 2.15.1 and was restarted exactly once, the restarts happened one after
the other, every acknowledged message is in its stream, and a second run changes nothing."""
import asyncio
import json
import re
import time

import nats
import pytest

from scenario import ALL, Publisher, name_of, node_monitor, run_site, tls_context, urls



def _ts(text):
    """RFC 3339 with nanoseconds -> epoch seconds."""
    from datetime import datetime
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    base = datetime.fromisoformat(m.group(1) + (m.group(3).replace("Z", "+00:00")))
    return base.timestamp() + float("0." + (m.group(2) or "0"))


def site(version):
    return run_site("-e", "nats_server_version=%s" % version)


def test_rolling_upgrade_keeps_every_acknowledged_message(host):
    if name_of(host) != "c1-n1":
        pytest.skip("runs once, from c1-n1")
    before = dict((n, node_monitor(n)) for n in ALL)
    assert {v["version"] for v in before.values()} == {"2.14.6"}

    servers = urls(ALL)

    async def setup():
        nc = await nats.connect(servers, tls=tls_context())
        try:
            for name, cluster in (("UPG1", "c1"), ("UPG2", "c2")):
                r = json.loads((await nc.request("$JS.API.STREAM.CREATE." + name, json.dumps({
                    "name": name, "subjects": [name.lower() + ".>"], "num_replicas": 3,
                    "placement": {"cluster": cluster}}).encode(), timeout=10)).data)
                assert "error" not in r, r
        finally:
            await nc.close()
    asyncio.run(setup())

    pub = Publisher(servers, ["UPG1", "UPG2"])
    pub.start()
    time.sleep(2)
    started = time.time()
    proc = site("2.15.1")
    took = time.time() - started
    time.sleep(2)
    pub.stop.set()
    pub.join(60)
    assert proc.returncode == 0, proc.stdout[-4000:]

    order = re.findall(r"(?:TASK|RUNNING HANDLER) \[natsops\.jetstream\.server : Restart \| Restart through lame-duck mode (\S+)\]",
                       proc.stdout)
    assert sorted(order) == sorted(ALL) and len(order) == 9, order
    after = dict((n, node_monitor(n)) for n in ALL)
    assert {v["version"] for v in after.values()} == {"2.15.1"}
    assert all(after[n]["start"] != before[n]["start"] for n in ALL)
    # One at a time: each node came up only after the previous one was back and healthy (a restart through
    # lame-duck mode plus the /healthz wait takes seconds), so consecutive start times are well apart.
    starts = sorted(_ts(after[n]["start"]) for n in ALL)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 1.0, gaps

    assert pub.failures == 0, "publishes that failed for 20 s: %d" % pub.failures
    async def check():
        nc = await nats.connect(servers, tls=tls_context())
        try:
            for stream, seqs in pub.acked.items():
                info = json.loads((await nc.request("$JS.API.STREAM.INFO." + stream, b"", timeout=10)).data)
                assert info["state"]["messages"] == len(set(seqs)) == info["state"]["last_seq"], (stream, info["state"])
                await nc.request("$JS.API.STREAM.DELETE." + stream, b"", timeout=10)
        finally:
            await nc.close()
    asyncio.run(check())
    print("upgrade of 9 nodes took %.0f s; %d messages published, %d retries, 0 lost"
          % (took, sum(len(s) for s in pub.acked.values()), pub.retries))

    again = site("2.15.1")
    assert again.returncode == 0 and re.search(r"changed=[1-9]", again.stdout) is None, again.stdout[-3000:]
