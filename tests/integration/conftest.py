import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from natsproc import ROOT, Supercluster, ansible_env  # noqa: E402


@pytest.fixture(scope="module")
def single():
    sc = Supercluster({"s": 1}).start()
    yield sc
    sc.stop()


@pytest.fixture(scope="module")
def supercluster():
    sc = Supercluster({"c1": 3, "c2": 3}).start(timeout=60)
    yield sc
    sc.stop()


class Play(object):
    """Runs tasks through a real ansible-playbook and returns each task's result."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path

    def __call__(self, servers, tasks, check=False, diff=True, expect_fail=False):
        play = [{"hosts": "localhost", "gather_facts": False, "connection": "local",
                 "module_defaults": {"group/natsops.jetstream.jetstream": {"servers": servers, "connect_timeout": 2}},
                 "tasks": tasks}]
        path = self.tmp_path / "play.yml"
        path.write_text(json.dumps(play))
        cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", str(path)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_NOCOLOR="1")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180, check=False)
        out = json.loads(proc.stdout[proc.stdout.index("{"):])
        results = [t["hosts"]["localhost"] for t in out["plays"][0]["tasks"]]
        if not expect_fail:
            assert proc.returncode == 0, json.dumps(results, indent=1)[-3000:]
        return results


@pytest.fixture
def play(tmp_path):
    return Play(tmp_path)
