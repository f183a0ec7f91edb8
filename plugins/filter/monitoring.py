# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: monitoring_thresholds
short_description: Check the alert thresholds of the monitoring role
version_added: 0.1.0
description:
  - Checks every C(nats_monitoring_alert_*) variable the P(natsops.jetstream.monitoring#role) role renders into
    its Prometheus rules, before any host is contacted.
  - Refuses a variable of that prefix the role does not know (a misspelt threshold would otherwise be ignored and
    the default used silently) and a malformed value, naming the variable, the value and what is allowed.
  - Percentages are whole numbers from 1 to 100, counts whole numbers from 0, windows and C(for) durations
    Prometheus durations such as V(30s), V(5m) or V(1h30m).
options:
  _input:
    description: The variables, name to value (for example built with the C(ansible.builtin.varnames) lookup).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Check the thresholds
  ansible.builtin.set_fact:
    __thresholds: >-
      {{ dict(q('ansible.builtin.varnames', '^nats_monitoring_alert_')
              | zip(q('ansible.builtin.vars', *q('ansible.builtin.varnames', '^nats_monitoring_alert_'))))
         | natsops.jetstream.monitoring_thresholds }}
"""

RETURN = r"""
_value:
  description: The same variables, numbers as integers.
  type: dict
"""

import re

from ansible.errors import AnsibleFilterError

PREFIX = "nats_monitoring_alert_"
PERCENT = 'percent'
COUNT = 'count'
DURATION = 'duration'
KNOWN = {
    "memory_percent": PERCENT, "storage_percent": PERCENT,
    "slow_consumers": COUNT, "lag": COUNT, "meta_leader_changes": COUNT, "collector_stale_seconds": COUNT,
    "slow_consumers_window": DURATION, "lag_for": DURATION, "meta_leader_changes_window": DURATION,
    "consumer_stalled_window": DURATION, "down_for": DURATION, "healthz_for": DURATION, "routes_for": DURATION,
    "gateways_for": DURATION, "no_meta_leader_for": DURATION, "meta_size_for": DURATION,
    "check_critical_for": DURATION,
}
ALLOWED = {
    PERCENT: "a whole number from 1 to 100",
    COUNT: "a whole number from 0",
    DURATION: "a Prometheus duration such as 30s, 5m or 1h30m (units ms, s, m, h, d, w, y)",
}
_DURATION = re.compile(r"^(?:[0-9]+(?:ms|s|m|h|d|w|y))+$")


def _int(value):
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if not re.match(r"^[0-9]+$", text):
        raise ValueError
    return int(text)


def check(values):
    """Return (normalised values, errors)."""
    out, errors = {}, []
    for name in sorted(values):
        value = values[name]
        if not name.startswith(PREFIX):
            continue
        kind = KNOWN.get(name[len(PREFIX):])
        if kind is None:
            errors.append("%s: unknown threshold variable (value %r); known: %s"
                          % (name, value, ", ".join(PREFIX + k for k in sorted(KNOWN))))
            continue
        try:
            if kind == DURATION:
                if not isinstance(value, str) or not _DURATION.match(value.strip()):
                    raise ValueError
                out[name] = value.strip()
            else:
                number = _int(value)
                if (kind == PERCENT and not 1 <= number <= 100) or number < 0:
                    raise ValueError
                out[name] = number
        except ValueError:
            errors.append("%s: %r is not %s" % (name, value, ALLOWED[kind]))
    missing = sorted(PREFIX + k for k in KNOWN if PREFIX + k not in values)
    for name in missing:
        errors.append("%s: not set (the role's defaults define it; was it set to null?)" % name)
    return out, errors


def monitoring_thresholds(values):
    if not isinstance(values, dict):
        raise AnsibleFilterError("monitoring_thresholds expects a dict of variable name to value, got %s"
                                 % type(values).__name__)
    out, errors = check(values)
    if errors:
        raise AnsibleFilterError("monitoring thresholds refused:\n  - " + "\n  - ".join(errors))
    return out


class FilterModule(object):
    def filters(self):
        return {"monitoring_thresholds": monitoring_thresholds}
