# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.natsops.jetstream.plugins.filter.monitoring import KNOWN, PREFIX, monitoring_thresholds

DEFAULTS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "monitoring", "defaults", "main.yml")


def defaults():
    with open(DEFAULTS) as f:
        return {k: v for k, v in yaml.safe_load(f).items() if k.startswith(PREFIX)}


def test_the_role_defaults_pass_and_are_exactly_the_known_thresholds():
    d = defaults()
    assert sorted(d) == sorted(PREFIX + k for k in KNOWN)
    assert monitoring_thresholds(d) == d


def test_specification_values():
    d = defaults()
    assert d[PREFIX + "memory_percent"] == 80 and d[PREFIX + "storage_percent"] == 85
    assert d[PREFIX + "slow_consumers"] == 5 and d[PREFIX + "slow_consumers_window"] == "5m"
    assert d[PREFIX + "lag"] == 1000 and d[PREFIX + "lag_for"] == "1m"


def test_strings_of_numbers_are_read():
    d = defaults()
    d[PREFIX + "lag"] = "2000"
    assert monitoring_thresholds(d)[PREFIX + "lag"] == 2000


def test_unknown_variable_is_refused_by_name():
    d = defaults()
    d["nats_monitoring_alert_memroy_percent"] = 70
    with pytest.raises(AnsibleFilterError, match=r"nats_monitoring_alert_memroy_percent: unknown threshold variable \(value 70\)"):
        monitoring_thresholds(d)


@pytest.mark.parametrize("name,value,allowed", [
    ("memory_percent", 180, "a whole number from 1 to 100"),
    ("storage_percent", "85%", "a whole number from 1 to 100"),
    ("storage_percent", 0, "a whole number from 1 to 100"),
    ("lag", -1, "a whole number from 0"),
    ("lag", True, "a whole number from 0"),
    ("slow_consumers", 5.5, "a whole number from 0"),
    ("lag_for", "1 minute", "a Prometheus duration"),
    ("slow_consumers_window", 300, "a Prometheus duration"),
    ("meta_size_for", "10", "a Prometheus duration"),
])
def test_malformed_value_is_refused_naming_variable_value_and_allowed(name, value, allowed):
    d = defaults()
    d[PREFIX + name] = value
    with pytest.raises(AnsibleFilterError) as err:
        monitoring_thresholds(d)
    msg = str(err.value)
    assert PREFIX + name in msg and repr(value) in msg and allowed in msg


def test_null_is_refused():
    d = defaults()
    d[PREFIX + "lag"] = None
    with pytest.raises(AnsibleFilterError, match="nats_monitoring_alert_lag: None is not a whole number"):
        monitoring_thresholds(d)


def test_every_error_is_reported_at_once():
    d = defaults()
    d[PREFIX + "lag"] = "x"
    d[PREFIX + "down_for"] = "x"
    with pytest.raises(AnsibleFilterError) as err:
        monitoring_thresholds(d)
    assert str(err.value).count("\n  - ") == 2
