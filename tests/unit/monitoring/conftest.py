# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers of the monitoring tests: render the role's templates with its defaults, find promtool.

promtool comes from Debian's `prometheus` package (scripts/setup.sh installs it). Without it the tests are
skipped, unless NATSOPS_REQUIRE_PROMTOOL=1 (scripts/test.sh sets it): then they fail."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import shutil
import subprocess

import jinja2
import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "monitoring")
HERE = os.path.dirname(os.path.abspath(__file__))


def role_defaults():
    with open(os.path.join(ROLE, "defaults", "main.yml")) as f:
        return yaml.safe_load(f)


def render(template, **overrides):
    """Render roles/monitoring/templates/<template> the way ansible.builtin.template does (trim_blocks)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, keep_trailing_newline=True)
    env.filters["bool"] = lambda v: v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on")
    values = role_defaults()
    values.update(overrides)
    values.setdefault("ansible_managed", "Managed by natsops.jetstream.monitoring (test render)")
    return env.get_template(template).render(**values)


def lab_inventory():
    """groups and hostvars of inventories/lab (the variables the templates read), without Ansible."""
    with open(os.path.join(ROOT, "inventories", "lab", "hosts.yml")) as f:
        inv = yaml.safe_load(f)
    groups, hostvars = {"all": []}, {}

    def walk(name, node):
        members = []
        for host, hv in ((node or {}).get("hosts") or {}).items():
            hostvars.setdefault(host, {}).update(hv or {})
            members.append(host)
        for child, sub in ((node or {}).get("children") or {}).items():
            members.extend(walk(child, sub))
        groups[name] = members
        return members
    groups["all"] = walk("all", inv["all"])
    return groups, hostvars


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
