# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every public role default is documented in meta/argument_specs.yml and nothing else is (prometheus-community's lint)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ROLES = sorted(r for r in os.listdir(os.path.join(ROOT, "roles"))
               if os.path.exists(os.path.join(ROOT, "roles", r, "defaults", "main.yml")))


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_argument_specs(role):
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as f:
        defaults = set((yaml.safe_load(f) or {}).keys())
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml")) as f:
        spec = set(yaml.safe_load(f)["argument_specs"]["main"]["options"].keys())
    assert sorted(defaults - spec) == [], "defaults missing from argument_specs"
    assert sorted(spec - defaults) == [], "argument_specs options without a default in defaults/main.yml"
