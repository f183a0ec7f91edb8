import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from natsproc import Supercluster  # noqa: E402
from plays import run_play  # noqa: E402


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
    """Runs tasks through a real ansible-playbook (plays.run_play) and returns each task's result."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path

    def __call__(self, servers, tasks, check=False, diff=True, expect_fail=False):
        return run_play(self.tmp_path, tasks, servers=servers, check=check, diff=diff, expect_fail=expect_fail,
                        timeout=180)[0]


@pytest.fixture
def play(tmp_path):
    return Play(tmp_path)
