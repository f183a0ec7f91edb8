"""After steps/rejected.yml (a setting nats-server -t accepts but a reload refuses, sent to c3-n3 alone, then
site.yml as the inventory says): the first run failed naming the node and the refused field, the canary put its
previous file back and applied it, the node kept running throughout, no node restarted, and the next run found
nothing to change. Runs once, from c1-n1; changes nothing."""
import re
import subprocess

import pytest

from scenario import once, pids
from step_record import record, run_record


@pytest.fixture(scope="module")
def rejected():
    return record("rejected")


def test_the_refused_reload_failed_the_run_naming_the_node_and_the_field(host):
    once(host)
    run = run_record("rejected")
    assert run["rc"] != 0, run["output"][-3000:]
    assert "did not apply the new configuration" in run["output"], run["output"][-3000:]
    assert "config reload not supported for MaxClosedClients" in run["output"]
    assert "c3-n3" in run["output"]


def test_no_node_restarted_and_health_held(host, rejected):
    once(host)
    before, watch = rejected[:2]
    assert pids() == before["pids"]
    assert watch["stopped_by"] == "step"
    assert watch["polls"] >= 3 and not watch["bad"], watch["bad"][:5]


def test_the_canary_put_its_file_back_and_the_next_run_changed_nothing(host, rejected):
    once(host)
    run = run_record("rejected")
    assert "Its previous configuration is back in place and running; no other node was touched" in run["output"]
    conf = subprocess.check_output(["docker", "exec", "c3-n3", "cat", "/etc/nats-server/nats-server.conf"], text=True)
    assert "max_closed_clients" not in conf
    # The step's second run (site.yml as the inventory says) is the last recap in the step's output.
    recap = re.findall(r"\bc3-n3\s+: ok=\d+\s+changed=(\d+)", rejected[2])
    assert recap and recap[-1] == "0", recap
