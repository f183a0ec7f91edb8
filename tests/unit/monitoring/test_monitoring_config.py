# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Prometheus configuration rendered from the lab inventory passes `promtool check config` and scrapes
what the rules expect: node-exporter on every node and the three /healthz probes, each target labelled
cluster, server and az; natsops-expected.prom says what the inventory says."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import shutil
import subprocess

import yaml

from ansible_collections.natsops.jetstream.tests.unit.monitoring.monitoring_render import lab_inventory, render

CLUSTERS = ["c1", "c2", "c3"]


def _render_config(tmp_path, tls=True):
    groups, hostvars = lab_inventory()
    (tmp_path / "natsops-rules.yml").write_text(render("natsops-rules.yml.j2"))
    text = render("prometheus.yml.j2", groups=groups, hostvars=hostvars, nats_monitoring_cluster_groups=CLUSTERS,
                  nats_monitoring_prometheus_config_dir=str(tmp_path), nats_monitoring_tls=tls,
                  nats_monitoring_monitor_port=8222)
    (tmp_path / "prometheus.yml").write_text(text)
    return yaml.safe_load(text)


def test_promtool_check_config(tmp_path, promtool):
    _render_config(tmp_path)
    res = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS: 22 rules found" in res.stdout + res.stderr


def test_targets_and_labels_come_from_the_inventory(tmp_path):
    cfg = _render_config(tmp_path)
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    node = jobs["natsops_node"]["static_configs"]
    assert len(node) == 9
    first = node[0]
    assert first["targets"] == ["natsops-lab-c1-n1:9100"]
    assert first["labels"] == {"cluster": "c1", "server": "c1-n1", "az": "1"}
    assert sorted(s["labels"]["server"] for s in node) == sorted("c%d-n%d" % (c, n) for c in (1, 2, 3) for n in (1, 2, 3))
    urls = {job: [s["targets"][0] for s in jobs[job]["static_configs"]]
            for job in ("natsops_healthz", "natsops_healthz_js_server_only", "natsops_healthz_js_enabled_only")}
    assert urls["natsops_healthz"][0] == "https://natsops-lab-c1-n1:8222/healthz"
    assert urls["natsops_healthz_js_server_only"][4] == "https://natsops-lab-c2-n2:8222/healthz?js-server-only=true"
    assert urls["natsops_healthz_js_enabled_only"][8] == "https://natsops-lab-c3-n3:8222/healthz?js-enabled-only=true"
    for job in urls:
        assert jobs[job]["params"] == {"module": ["natsops_healthz"]}
        assert jobs[job]["static_configs"][0]["labels"]["server"] == "c1-n1"


def test_plain_http_without_tls(tmp_path):
    cfg = _render_config(tmp_path, tls=False)
    job = next(j for j in cfg["scrape_configs"] if j["job_name"] == "natsops_healthz")
    assert job["static_configs"][0]["targets"] == ["http://natsops-lab-c1-n1:8222/healthz"]


def test_blackbox_module_uses_the_ca():
    cfg = yaml.safe_load(render("blackbox.yml.j2", nats_monitoring_tls=True, nats_monitoring_prometheus_config_dir="/etc/prometheus"))
    http = cfg["modules"]["natsops_healthz"]["http"]
    assert http["tls_config"] == {"ca_file": "/etc/prometheus/natsops-ca.crt"}
    assert http["valid_status_codes"] == [200]
    assert "tls_config" not in yaml.safe_load(render("blackbox.yml.j2", nats_monitoring_tls=False,
                                                     nats_monitoring_prometheus_config_dir="/x"))["modules"]["natsops_healthz"]["http"]


def _expected(host, groups, **extra):
    text = render("natsops-expected.prom.j2", groups=groups, inventory_hostname=host, nats_monitoring_cluster_groups=CLUSTERS,
                  **extra)
    return {line.split()[0]: int(line.split()[1]) for line in text.splitlines() if line and not line.startswith("#")}


def test_expected_series_from_the_inventory():
    groups, _hostvars = lab_inventory()
    assert _expected("c2-n3", groups) == {"natsops_expected_route_peers": 2, "natsops_expected_outbound_gateways": 2,
                                          "natsops_expected_meta_cluster_size": 9}
    groups = dict(groups, c3=groups["c3"] + ["c3-n4", "c3-n5"])
    assert _expected("c3-n1", groups)["natsops_expected_route_peers"] == 4
    assert _expected("c1-n1", groups)["natsops_expected_meta_cluster_size"] == 11


def test_retired_hosts_are_not_expected():
    """After remove_node.yml the host may stay in the inventory, listed in nats_server_retired_hosts: the meta
    group size and its cluster's route count no longer include it (or the size alert would fire for ever)."""
    groups, _hostvars = lab_inventory()
    groups = dict(groups, c3=groups["c3"] + ["c3-n4"])
    assert _expected("c3-n1", groups, nats_server_retired_hosts=["c3-n4"]) == {
        "natsops_expected_route_peers": 2, "natsops_expected_outbound_gateways": 2,
        "natsops_expected_meta_cluster_size": 9}
    # A cluster whose every node is retired is no longer a gateway to expect.
    assert _expected("c1-n1", groups, nats_server_retired_hosts=groups["c3"])["natsops_expected_outbound_gateways"] == 1


def test_expected_series_pass_promtool_lint(promtool):  # pylint: disable=unused-argument
    groups, _hostvars = lab_inventory()
    text = render("natsops-expected.prom.j2", groups=groups, inventory_hostname="c1-n1", nats_monitoring_cluster_groups=CLUSTERS)
    res = subprocess.run([shutil.which("promtool"), "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
