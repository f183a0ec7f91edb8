"""Reading what a side_effect step recorded (steps/observe.py) from the verify tests that follow it."""
import json
import os

import pytest

from scenario import container_ids

EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")


def record(step):
    """before.json and watch.json of a step, and the Ansible output of the step (the log from where it stood
    before the step). Fails, naming the step to run, when the step has not run to its end on these containers:
    a missing or earlier record must never pass for this run's."""
    path = os.path.join(EPHEMERAL, "steps", step)
    run_first = "run the step first: scripts/molecule-step.sh supercluster steps/%s.yml" % (
        {"rotated": "rotate", "upgraded": "upgrade"}[step])
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
