# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every metric the dashboard and the alert rules query is one something emits: names from the committed
captures of the lab (fixtures/: `nats server check ... --format prometheus`, natsops-nats-collect run on a lab
node, Debian's node-exporter 1.5.0 and blackbox-exporter 0.23.0), natsops-expected.prom, the rules' own
recording rules and the series Prometheus makes itself. Every dashboard query also parses (promtool)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import glob
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.natsops.jetstream.tests.unit.monitoring.monitoring_render import HERE, ROLE, lab_inventory, render

FIXTURES = os.path.join(HERE, "fixtures")
DASHBOARD = os.path.join(ROLE, "files", "grafana", "natsops-supercluster.json")
PROMETHEUS_OWN = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped",
                  "scrape_samples_post_metric_relabeling", "scrape_series_added"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right",
            "inf", "nan"}


def _names_in_exposition(text):
    return {re.split(r"[{\s]", line, 1)[0] for line in text.splitlines() if line.strip() and not line.startswith("#")}


def emitted():
    names = set(PROMETHEUS_OWN)
    for path in glob.glob(os.path.join(FIXTURES, "*.prom")):
        with open(path) as f:
            names |= _names_in_exposition(f.read())
    with open(os.path.join(FIXTURES, "node-exporter-1.5.0-names.txt")) as f:
        names |= _names_in_exposition(f.read())
    groups, _hostvars = lab_inventory()
    names |= _names_in_exposition(render("natsops-expected.prom.j2", groups=groups, inventory_hostname="c1-n1",
                                         nats_monitoring_cluster_groups=["c1", "c2", "c3"]))
    rules = yaml.safe_load(render("natsops-rules.yml.j2"))
    names |= {r["record"] for g in rules["groups"] for r in g["rules"] if "record" in r}
    return names


def metric_names(expr):
    """(plain metric names, __name__ regexes) an expression selects. Good enough for the queries here."""
    regexes = re.findall(r'__name__\s*=~\s*"([^"]*)"', expr)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for m in re.finditer(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", text):
        word, call = m.group(1), m.group(2)
        if call or word in KEYWORDS or re.match(r"^\d", word):
            continue
        names.add(word)
    return names, regexes


def dashboard_queries():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            out.append((panel["title"], target["expr"]))
    for var in dash["templating"]["list"]:
        m = re.match(r"label_values\((.*),\s*\w+\)$", var.get("query", "") if isinstance(var.get("query"), str) else "")
        if m:
            out.append(("variable " + var["name"], m.group(1)))
    return dash, out


def unknown(expr, names):
    plain, regexes = metric_names(expr)
    missing = sorted(plain - names)
    missing += ["__name__=~" + rx for rx in regexes if not any(re.fullmatch(rx, n) for n in names)]
    return missing


def test_the_checker_finds_a_metric_nothing_emits():
    names = emitted()
    assert unknown('rate(gnatsd_varz_in_msgs{server=~"$server"}[5m])', names) == []
    assert unknown('sum by (server) (gnatsd_varz_leafnodes{server="x"})', names) == ["gnatsd_varz_leafnodes"]
    assert unknown('{__name__=~"nats_server_check_nope_.+"}', names) == ['__name__=~nats_server_check_nope_.+']
    assert metric_names('a / on (server) group_left () b > 0.8 and c offset 5m')[0] == {"a", "b", "c"}


def test_every_dashboard_query_names_emitted_metrics():
    names = emitted()
    _dash, queries = dashboard_queries()
    bad = [(title, expr, unknown(expr, names)) for title, expr in queries if unknown(expr, names)]
    assert bad == []


def test_every_rule_names_emitted_metrics():
    names = emitted()
    rules = yaml.safe_load(render("natsops-rules.yml.j2"))
    bad = [(r.get("alert") or r.get("record"), unknown(r["expr"], names))
           for g in rules["groups"] for r in g["rules"] if unknown(r["expr"], names)]
    assert bad == []


def test_dashboard_has_the_five_panel_groups():
    dash, _queries = dashboard_queries()
    rows = [p["title"] for p in dash["panels"] if p["type"] == "row"]
    assert rows == ["Cluster health", "Resource use", "Streams and consumers", "Connections", "Errors"]
    assert len({p["id"] for p in dash["panels"]}) == len(dash["panels"])


def test_every_dashboard_query_parses(tmp_path, promtool):
    _dash, queries = dashboard_queries()
    rules = []
    for i, (_panel, expr) in enumerate(queries):
        expr = expr.replace("$__rate_interval", "5m").replace("$cluster", ".*").replace("$server", ".*")
        rules.append({"record": "dashboard:query%d" % i, "expr": expr})
    (tmp_path / "dash.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    res = promtool("check", "rules", str(tmp_path / "dash.yml"))
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(FIXTURES, "lab-*-collector.prom"))))
def test_collector_output_passes_promtool_lint(path, promtool):  # pylint: disable=unused-argument
    with open(path) as f:
        res = subprocess.run([shutil.which("promtool"), "check", "metrics"], stdin=f, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
