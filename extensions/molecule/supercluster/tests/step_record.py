"""Reading what a side_effect step recorded (steps/observe.py) from the verify tests that follow it."""
import json
import os

import pytest

EPHEMERAL = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "")


def record(step):
    """before.json and watch.json of a step, and the Ansible output of the step (the log from where it stood
    before the step). Skips with the command to run when the step has not run on these containers."""
    path = os.path.join(EPHEMERAL, "steps", step)
    if not os.path.exists(os.path.join(path, "watch.json")):
        pytest.skip("run the step first: scripts/molecule.sh supercluster side-effect steps/%s.yml "
                    "(its record is missing from %s)" % ({"rotated": "rotate", "upgraded": "upgrade"}[step], path))
    with open(os.path.join(path, "before.json")) as f:
        before = json.load(f)
    with open(os.path.join(path, "watch.json")) as f:
        watch = json.load(f)
    output = ""
    if before["log"] and os.path.exists(before["log"]):
        with open(before["log"], errors="replace") as f:
            f.seek(before["log_offset"])
            output = f.read()
    return before, watch, output
