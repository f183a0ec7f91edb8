"""After steps/upgrade.yml (a rolling upgrade 2.14.6 -> 2.15.1 while a client published to R3 streams in c1 and
c2): every node runs 2.15.1 and was restarted exactly once, the restarts came one after the other, every
acknowledged message is in its stream, and site.yml in check mode finds nothing left to change. Runs once, from
c1-n1; changes nothing."""
import re
from datetime import datetime

import pytest

from scenario import ALL, assert_nothing_lost, node_monitor, once, run_site
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
    print("upgrade: " + assert_nothing_lost(upgraded[1]))


def test_nothing_left_to_change(host):
    once(host)
    check = run_site("--check", "-e", "nats_server_version=2.15.1")
    assert check.returncode == 0, check.stdout[-3000:]
    assert re.search(r"changed=[1-9]", check.stdout) is None, check.stdout[-3000:]
