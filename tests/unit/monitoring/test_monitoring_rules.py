# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's alert and recording rules, rendered with its defaults, pass `promtool check rules`, and every
alert has a `promtool test rules` case in rules_test.yml that shows it quiet, firing, then resolved."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.natsops.jetstream.tests.unit.monitoring.monitoring_render import HERE, render

# The specification's thresholds and the extra conditions of issue 14, with the alert that covers each.
REQUIRED_ALERTS = {
    "NatsJetStreamMemoryHigh", "NatsNodeMemoryHigh", "NatsJetStreamStorageHigh", "NatsSlowConsumers",
    "NatsMetaLeaderChanged", "NatsGatewaysBelowExpected", "NatsConsumerLag", "NatsStreamLag", "NatsServerDown",
    "NatsHealthzFailing", "NatsRoutesBelowExpected", "NatsNoMetaLeader", "NatsMetaGroupSizeUnexpected",
    "NatsJetStreamDisabled", "NatsConsumerStalled",
}


def _rules(text):
    return [r for g in yaml.safe_load(text)["groups"] for r in g["rules"]]


def _write_suite(tmp_path, rules_text):
    (tmp_path / "natsops-rules.yml").write_text(rules_text)
    with open(os.path.join(HERE, "rules_test.yml")) as f:
        suite = yaml.safe_load(f)  # resolves the anchors of x-labels, which promtool's strict parser refuses
    suite.pop("x-labels", None)
    (tmp_path / "rules_test.yml").write_text(yaml.safe_dump(suite, sort_keys=False))
    return suite


def test_rules_check(tmp_path, promtool):
    (tmp_path / "natsops-rules.yml").write_text(render("natsops-rules.yml.j2"))
    res = promtool("check", "rules", str(tmp_path / "natsops-rules.yml"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout


def test_rules_unit_tests(tmp_path, promtool):
    _write_suite(tmp_path, render("natsops-rules.yml.j2"))
    res = promtool("test", "rules", "rules_test.yml", cwd=str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS" in res.stdout


def test_every_alert_is_tested_quiet_firing_and_resolved():
    alerts = {r["alert"] for r in _rules(render("natsops-rules.yml.j2")) if "alert" in r}
    assert REQUIRED_ALERTS <= alerts, sorted(REQUIRED_ALERTS - alerts)
    with open(os.path.join(HERE, "rules_test.yml")) as f:
        suite = yaml.safe_load(f)
    cases = {}
    for test in suite["tests"]:
        for case in test.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], []).append((test["name"], case["eval_time"], bool(case["exp_alerts"])))
    for alert in sorted(alerts):
        assert alert in cases, "no promtool test case for " + alert
        by_test = {}
        for name, when, firing in cases[alert]:
            by_test.setdefault(name, []).append((int(when.rstrip("m")), firing))
        ok = False
        for steps in by_test.values():
            steps.sort()
            flags = [f for _when, f in steps]
            # quiet before it fires, and quiet again after it fired
            if True in flags and not flags[0] and not flags[-1]:
                ok = True
        assert ok, alert + ": needs a quiet, a firing and a resolved evaluation in one test"


def test_every_alert_has_severity_and_summary():
    for rule in _rules(render("natsops-rules.yml.j2")):
        if "alert" in rule:
            assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]


def test_thresholds_come_from_the_role_variables(tmp_path, promtool):
    text = render("natsops-rules.yml.j2", nats_monitoring_alert_memory_percent=90, nats_monitoring_alert_storage_percent=95,
                  nats_monitoring_alert_lag=50, nats_monitoring_alert_lag_for="30s",
                  nats_monitoring_alert_slow_consumers_window="10m", nats_monitoring_alert_slow_consumers=1)
    rules = {r.get("alert") or r.get("record"): r for r in _rules(text)}
    assert "> 0.9" in rules["NatsJetStreamMemoryHigh"]["expr"]
    assert "> 0.95" in rules["NatsJetStreamStorageHigh"]["expr"]
    assert "> 50" in rules["NatsConsumerLag"]["expr"] and rules["NatsConsumerLag"]["for"] == "30s"
    assert "[10m]" in rules["natsops:slow_consumers:increase10m"]["expr"]
    assert rules["NatsSlowConsumers"]["expr"].endswith("> 1")
    (tmp_path / "r.yml").write_text(text)
    res = promtool("check", "rules", str(tmp_path / "r.yml"))
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("alert", sorted(REQUIRED_ALERTS))
def test_alerts_do_not_use_since_start_counters_raw(alert):
    """A since-start counter compared directly never resolves (the community rule set's mistake)."""
    rule = next(r for r in _rules(render("natsops-rules.yml.j2")) if r.get("alert") == alert)
    assert "gnatsd_varz_slow_consumers >" not in rule["expr"]
