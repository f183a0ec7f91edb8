"""Monitoring of the converged supercluster (playbooks/monitoring.yml in converge): real Prometheus on the `mon`
host, queried through its HTTP API from the controller. Every target is up (9 node exporters, 27 /healthz probes,
Prometheus itself), the expected series rendered from the inventory are there, and every query of the dashboard
evaluates. Runs once, from c1-n1; changes nothing. The alert drill is tests/drills/test_monitoring.py."""
import json
import os


from scenario import ROOT, once, prom, wait

DASHBOARD = os.path.join(ROOT, "roles", "monitoring", "files", "grafana", "natsops-supercluster.json")


def test_every_target_is_up_and_every_dashboard_query_evaluates(host):
    once(host)

    def all_up():
        targets = prom("/api/v1/targets")["activeTargets"]
        return len(targets) == 9 + 3 * 9 + 1 and all(t["health"] == "up" for t in targets)
    wait("9 node exporters, 27 /healthz probes and Prometheus itself up", all_up, 90)
    probes = prom("/api/v1/query", query='probe_success{job=~"natsops_healthz.*"}')["result"]
    assert len(probes) == 27 and all(p["value"][1] == "1" for p in probes), probes
    expected = prom("/api/v1/query", query="natsops_expected_meta_cluster_size")["result"]
    assert sorted(e["metric"]["server"] for e in expected) == sorted(
        "c%d-n%d" % (c, n) for c in (1, 2, 3) for n in (1, 2, 3)) and all(e["value"][1] == "9" for e in expected)
    wait("the collector's series for every node", lambda: len(prom(
        "/api/v1/query", query="gnatsd_varz_jetstream_meta_cluster_size == 9")["result"]) == 9, 60)

    with open(DASHBOARD) as f:
        board = json.load(f)
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", []) if t.get("expr")]
    assert len(exprs) > 20
    empty = []
    for expr in exprs:
        query = expr.replace("$__rate_interval", "1m").replace("$__interval", "1m")
        query = query.replace("$cluster", ".*").replace("$server", ".*")
        if not prom("/api/v1/query", query=query)["result"]:
            empty.append(expr)
    # Some panels are empty on a healthy supercluster with no streams (lag, stalled consumers): at most a third.
    assert len(empty) <= len(exprs) // 3, empty
