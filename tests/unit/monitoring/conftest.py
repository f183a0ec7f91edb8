# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The promtool fixture of the monitoring tests.

promtool comes from Debian's `prometheus` package (scripts/setup.sh installs it). Without it the tests are
skipped, unless NATSOPS_REQUIRE_PROMTOOL=1 (scripts/test.sh sets it): then they fail."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import shutil
import subprocess

import pytest


@pytest.fixture(scope="session")
def promtool():
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool is not installed (Debian package prometheus; scripts/setup.sh installs it)"
        if os.environ.get("NATSOPS_REQUIRE_PROMTOOL") == "1":
            pytest.fail("NATSOPS_REQUIRE_PROMTOOL=1 but " + reason, pytrace=False)
        pytest.skip(reason)

    def run(*args, cwd=None):
        return subprocess.run([path] + list(args), cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    return run
