# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the monitoring tests: render the role's templates with its defaults, read the lab inventory.

Imported by its collection path, so the tests run both from the repository (pytest) and from ansible-test's
collection copy (`ansible-test units`)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import jinja2
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
