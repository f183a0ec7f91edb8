"""After steps/upgrade.yml (a rolling upgrade 2.14.6 -> 2.15.1 while a client published to R3 streams in c1 and
c2): every node runs 2.15.1 and was restarted exactly once, the restarts came one after the other, every
acknowledged message is in its stream, and site.yml in check mode finds nothing left to change. Runs once, from
c1-n1; changes nothing."""
import asyncio
import json
import re
from datetime import datetime

import nats
import pytest

from scenario import ALL, once, node_monitor, run_site, tls_context, urls
from step_record import record

RESTART = re.compile(r"(?:TASK|RUNNING HANDLER) \[natsops\.jetstream\.server : Restart \| "
                     r"Restart through lame-duck mode (\S+)\]")


@pytest.fixture(scope="module")
def upgraded():
    return record("upgraded")


def _ts(text):
    """RFC 3339 with nanoseconds -> epoch seconds."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    base = datetime.fromisoformat(m.group(1) + (m.group(3).replace("Z", "+00:00")))
    return base.timestamp() + float("0." + (m.group(2) or "0"))


def test_every_node_runs_the_new_version_restarted_once_one_after_the_other(host, upgraded):
    once(host)
    before, dummy, output = upgraded
    assert set(before["version"].values()) == {"2.14.6"}
    restarted = RESTART.findall(output)
    assert sorted(restarted) == sorted(ALL), restarted
    after = {n: node_monitor(n) for n in ALL}
    assert {v["version"] for v in after.values()} == {"2.15.1"}
    assert all(after[n]["start"] != before["start"][n] for n in ALL)
    # One at a time: each node came up only after the previous one was back and healthy (a restart through
    # lame-duck mode plus the /healthz wait takes seconds), so consecutive start times are well apart.
    starts = sorted(_ts(after[n]["start"]) for n in ALL)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 1.0, gaps


def test_every_acknowledged_message_is_in_its_stream(host, upgraded):
    once(host)
    watch = upgraded[1]
    assert watch["stopped_by"] == "step"
    assert watch["failures"] == 0, "publishes that failed for 20 s: %d" % watch["failures"]
    assert all(watch["acked"].values()), watch["acked"].keys()

    async def check():
        nc = await nats.connect(urls(ALL), tls=tls_context())
        try:
            for stream, seqs in watch["acked"].items():
                info = json.loads((await nc.request("$JS.API.STREAM.INFO." + stream, b"", timeout=10)).data)
                assert info["state"]["messages"] == len(set(seqs)) == info["state"]["last_seq"], (stream, info["state"])
        finally:
            await nc.close()
    asyncio.run(check())
    print("upgrade: %d messages acknowledged, %d retries, 0 lost"
          % (sum(len(s) for s in watch["acked"].values()), watch["retries"]))


def test_nothing_left_to_change(host):
    once(host)
    check = run_site("--check", "-e", "nats_server_version=2.15.1")
    assert check.returncode == 0, check.stdout[-3000:]
    assert re.search(r"changed=[1-9]", check.stdout) is None, check.stdout[-3000:]
