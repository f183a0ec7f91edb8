"""Reading what a side_effect step recorded (steps/observe.py) from the verify tests that follow it."""
import json
import os

import pytest

from scenario import ALL, container_ids, pids

EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")
# The record each step writes (tests/<record>/ asserts on it) and the step's playbook in steps/.
STEPS = {"rejected": "rejected", "password": "password", "mtls_again": "mtls", "rotated": "rotate",
         "upgraded": "upgrade"}


def record(step):
    """before.json and watch.json of a step, and the Ansible output of the step (the log from where it stood
    before the step). Fails, naming the step to run, when the step has not run to its end on these containers:
    a missing or earlier record must never pass for this run's."""
    path = os.path.join(EPHEMERAL, "steps", step)
    run_first = "run the step first: scripts/molecule-step.sh supercluster steps/%s.yml" % STEPS[step]
    if not os.path.exists(os.path.join(path, "watch.json")):
        pytest.fail("%s (no complete record in %s)" % (run_first, path))
    with open(os.path.join(path, "before.json")) as f:
        before = json.load(f)
    if before.get("containers") != container_ids():
        pytest.fail("%s (the record in %s was made on other containers)" % (run_first, path))
    with open(os.path.join(path, "watch.json")) as f:
        watch = json.load(f)
    output = ""
    if before["log"] and os.path.exists(before["log"]):
        with open(before["log"], errors="replace") as f:
            f.seek(before["log_offset"])
            output = f.read()
    return before, watch, output


def run_record(step):
    """The playbook run a step made with `observe.py run` (exit code, output, arguments); fails like record()."""
    path = os.path.join(EPHEMERAL, "steps", step, "run.json")
    if not os.path.exists(path):
        pytest.fail("run the step first: scripts/molecule-step.sh supercluster steps/%s.yml (no %s)" % (STEPS[step], path))
    with open(path) as f:
        return json.load(f)


def assert_restarted_only(step_record, nodes, reason):
    """The step restarted exactly `nodes` (the role announced each with `needs a restart: <reason>`) and no other
    node; /healthz failed twice in a row only on those nodes, while they restarted."""
    before, watch, output = step_record
    assert output.count("needs a restart: " + reason) == len(nodes), output[-4000:]
    now = pids()
    assert sorted(n for n in ALL if now[n] != before["pids"][n]) == sorted(nodes)
    assert not [b for b in watch["bad"] if b[0] not in nodes], watch["bad"][:5]
