"""Running tasks through a real ansible-playbook on localhost, for every integration test that drives the
collection's modules (the ``play`` fixture in conftest.py, the JWT tests)."""
import json
import os
import subprocess
import time

from natsproc import ROOT, ansible_env


def run_play(workdir, tasks, servers=None, check=False, diff=True, expect_fail=False, timeout=300):
    """Run ``tasks`` on localhost (connection local) through ansible-playbook with the JSON callback; returns
    (each task's result for localhost, the playbook's stdout). ``servers`` sets the JetStream modules' connection
    through ``module_defaults``. Unless ``expect_fail``, a failed run fails the test with the last results."""
    play = {"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks}
    if servers is not None:
        play["module_defaults"] = {"group/natsops.jetstream.jetstream": {"servers": servers, "connect_timeout": 2}}
    path = os.path.join(str(workdir), "play-%d.yml" % time.monotonic_ns())
    with open(path, "w") as f:
        json.dump([play], f)
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", path]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    out = json.loads(proc.stdout[proc.stdout.index("{"):])
    results = [t["hosts"]["localhost"] for t in out["plays"][0]["tasks"]]
    if not expect_fail:
        assert proc.returncode == 0, json.dumps(results, indent=1)[-4000:]
    return results, proc.stdout
