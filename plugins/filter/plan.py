# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: nats_plan
short_description: Decide what a run does to one node of the supercluster
version_added: 0.2.0
description:
  - The server role's one place for the decision it takes on every node after its preflight probe, from what the
    node runs and what the play deploys. It is in sync (nothing to do), or it is written and then reloaded,
    restarted or started.
  - A running node restarts when a setting nats-server cannot reload changed (a key of O(restart_keys) differs
    from the state the node was last started with), when a JetStream limit decreased, or when its systemd unit
    changed. Otherwise a changed configuration or certificate is a reload. A node that is not running is started
    with its new files, and neither reloads nor restarts.
  - The first running node that reloads or restarts may be the canary (O(skip_restarts) leaves restarts out).
    A running node that restarts into another release keeps its stable links until its own restart.
options:
  _input:
    description: The state the node was last started with (the role's state file; empty for a new node).
    type: dict
    required: true
  desired:
    description: The state this play starts the node with (the same keys).
    type: dict
    required: true
  restart_keys:
    description: The keys of the state nats-server cannot change by a reload.
    type: list
    elements: str
    required: true
  checks:
    description:
      - What the preflight probe found in sync, each true or false. C(config), C(unit) and C(tls) are the
        contents of the config, the systemd unit and the certificate files; every key counts for O(_input)'s
        C(in_sync).
    type: dict
    required: true
  active:
    description: Whether nats-server was running on the node when the probe read it.
    type: bool
    required: true
  skip_restarts:
    description: The role's C(nats_server_skip_restarts).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Plan
  ansible.builtin.set_fact:
    plan: "{{ applied | natsops.jetstream.nats_plan(desired, ['version', 'listen'], checks, true) }}"
"""

RETURN = r"""
_value:
  description:
    - C(in_sync), C(restart_reasons), C(reload_reasons), C(restart_required), C(reload_required),
      C(canary_eligible) and C(defer_links) (keep the stable links on the running release until the node's own
      restart).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

# JetStream limits a reload may raise; lowering one below what is stored is refused in preflight, and any
# decrease restarts (nats-server does not shrink reservations on reload).
_LIMITS = ("max_memory_store", "max_file_store")


def _flag(value):
    return boolean(value, strict=False)


def _int(value):
    """As Jinja's int filter: 0 for what is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _text(value):
    return "" if value is None else str(value)


def nats_plan(applied, desired, restart_keys, checks, active, skip_restarts=False):
    if not isinstance(applied, dict) or not isinstance(desired, dict) or not isinstance(checks, dict):
        raise AnsibleFilterError("nats_plan: the applied state, the desired state and the checks must be dicts")
    missing = [k for k in restart_keys if k not in desired]
    if missing:
        raise AnsibleFilterError("nats_plan: the desired state has no %s" % ", ".join(missing))
    active = _flag(active)
    restart = [k for k in restart_keys if _text(applied.get(k, "")) != _text(desired[k])]
    restart += ["%s decreased" % k for k in _LIMITS
                if k in desired and _int(applied.get(k, 0)) > _int(desired[k])]
    if not _flag(checks.get("unit", True)):
        restart.append("systemd unit")
    reload_ = (["configuration"] if not _flag(checks.get("config", True)) else []) \
        + (["certificates"] if not _flag(checks.get("tls", True)) else [])
    skip = _flag(skip_restarts)
    return {
        "in_sync": all(_flag(v) for v in checks.values()),
        "restart_reasons": restart,
        "reload_reasons": reload_,
        "restart_required": active and bool(restart),
        "reload_required": active and not restart and bool(reload_),
        "canary_eligible": active and ((not skip) if restart else bool(reload_)),
        "defer_links": active and not skip and "version" in restart,
    }


class FilterModule(object):
    def filters(self):
        return {"nats_plan": nats_plan}
