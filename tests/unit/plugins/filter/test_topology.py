# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory -> supercluster topology: the logic behind the server role's preflight and config."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.natsops.jetstream.plugins.filter.topology import compute_topology


def inventory(sizes, **hostvars_extra):
    """Build (hostvars, groups, cluster_groups) for clusters c1..cN of the given sizes."""
    groups = {"all": [], "nats": []}
    hostvars = {}
    cluster_groups = []
    for i, size in enumerate(sizes, start=1):
        group = "c%d" % i
        cluster_groups.append(group)
        groups[group] = []
        for n in range(1, size + 1):
            host = "%s-n%d" % (group, n)
            groups[group].append(host)
            groups["nats"].append(host)
            groups["all"].append(host)
            hostvars[host] = {"ansible_host": "10.0.%d.%d" % (i, n)}
            hostvars[host].update(hostvars_extra.get(host, {}))
    return hostvars, groups, cluster_groups


DEFAULTS = {"nats_server_group": "nats"}


@pytest.mark.parametrize("clusters", [2, 3, 4])
def test_every_node_routes_to_its_peers_and_gateways_list_every_cluster(clusters):
    hv, groups, cgs = inventory([3] * clusters)
    topo = compute_topology(hv, groups, cgs, DEFAULTS)
    assert topo["errors"] == []
    assert topo["gateways_enabled"] is True
    assert [g["name"] for g in topo["gateways"]] == cgs
    assert topo["size"] == 3 * clusters
    for g in topo["gateways"]:
        assert len(g["urls"]) == 3
        assert all(u.startswith("nats://10.0.") and u.endswith(":7222") for u in g["urls"])
    node = topo["hosts"]["c2-n1"]
    assert node["cluster"] == "c2"
    assert node["routes"] == ["nats-route://10.0.2.2:6222", "nats-route://10.0.2.3:6222"]
    assert node["cluster_block"] is True


def test_five_node_cluster_routes_to_four_peers():
    hv, groups, cgs = inventory([5, 3])
    topo = compute_topology(hv, groups, cgs, DEFAULTS)
    assert topo["errors"] == []
    assert len(topo["hosts"]["c1-n3"]["routes"]) == 4
    assert "nats-route://10.0.1.3:6222" not in topo["hosts"]["c1-n3"]["routes"]


def test_growing_a_cluster_past_its_gateway_seeds_leaves_every_gateway_block_unchanged():
    before = compute_topology(*inventory([3, 3, 3]), defaults=DEFAULTS)
    after = compute_topology(*inventory([5, 3, 3]), defaults=DEFAULTS)
    assert after["errors"] == []
    assert after["gateways"] == before["gateways"]
    assert after["hosts"]["c1-n1"]["routes"] != before["hosts"]["c1-n1"]["routes"]
    fewer = compute_topology(*inventory([5, 3]), defaults=dict(DEFAULTS, nats_server_gateway_seeds=2))
    assert [len(g["urls"]) for g in fewer["gateways"]] == [2, 2]
    assert fewer["gateways"][0]["urls"] == ["nats://10.0.1.1:7222", "nats://10.0.1.2:7222"]


def test_retired_hosts_are_left_out_and_the_cluster_size_rules_apply_without_them():
    hv, groups, cgs = inventory([5, 3, 3])
    topo = compute_topology(hv, groups, cgs, dict(DEFAULTS, nats_server_retired_hosts=["c1-n5", "c1-n4"]))
    assert topo["errors"] == []
    assert "c1-n5" not in topo["hosts"] and topo["size"] == 9
    assert topo["hosts"]["c1-n1"]["routes"] == ["nats-route://10.0.1.2:6222", "nats-route://10.0.1.3:6222"]
    even = compute_topology(hv, groups, cgs, dict(DEFAULTS, nats_server_retired_hosts=["c1-n5"]))
    assert any("c1" in e and "4" in e for e in even["errors"]), even["errors"]


def test_retiring_every_node_of_a_cluster_removes_the_cluster_and_its_gateway():
    hv, groups, cgs = inventory([3, 3, 3, 3])
    topo = compute_topology(hv, groups, cgs, dict(DEFAULTS, nats_server_retired_hosts=["c4-n1", "c4-n2", "c4-n3"]))
    assert topo["errors"] == []
    assert [g["name"] for g in topo["gateways"]] == ["c1", "c2", "c3"] and topo["size"] == 9


def test_single_node_needs_the_small_cluster_switch_and_gets_no_cluster_block():
    hv, groups, cgs = inventory([1])
    topo = compute_topology(hv, groups, cgs, DEFAULTS)
    assert any("has 1 node(s)" in e and "nats_server_allow_small_clusters" in e for e in topo["errors"])
    topo = compute_topology(hv, groups, cgs, dict(DEFAULTS, nats_server_allow_small_clusters=True))
    assert topo["errors"] == []
    assert topo["gateways_enabled"] is False
    assert topo["hosts"]["c1-n1"]["cluster_block"] is False
    assert topo["hosts"]["c1-n1"]["routes"] == []


def test_single_node_clusters_in_a_supercluster_keep_a_cluster_block_for_gateways():
    hv, groups, cgs = inventory([1, 1])
    topo = compute_topology(hv, groups, cgs, dict(DEFAULTS, nats_server_allow_small_clusters=True))
    assert topo["errors"] == []
    assert topo["hosts"]["c1-n1"]["cluster_block"] is True


@pytest.mark.parametrize("size", [2, 4])
def test_even_jetstream_clusters_are_refused(size):
    hv, groups, cgs = inventory([size, 3])
    errors = compute_topology(hv, groups, cgs, DEFAULTS)["errors"]
    assert errors == ["cluster 'c1' (group 'c1') has %d node(s); a JetStream cluster needs an odd number of nodes, "
                      "at least 3, to keep a Raft quorum. Add or remove nodes, or set "
                      "nats_server_allow_small_clusters: true to accept it." % size]


def test_even_cluster_without_jetstream_is_fine():
    hv, groups, cgs = inventory([2, 2])
    topo = compute_topology(hv, groups, cgs, dict(DEFAULTS, nats_server_jetstream_enabled=False))
    assert topo["errors"] == []


def test_host_in_two_cluster_groups():
    hv, groups, cgs = inventory([3, 3])
    groups["c2"].append("c1-n1")
    errors = compute_topology(hv, groups, cgs, DEFAULTS)["errors"]
    assert any("host 'c1-n1' is in several cluster groups (c1, c2)" in e for e in errors)


def test_host_in_no_cluster_group():
    hv, groups, cgs = inventory([3, 3])
    groups["nats"].append("stray")
    hv["stray"] = {}
    errors = compute_topology(hv, groups, cgs, DEFAULTS)["errors"]
    assert any("host 'stray' is in group 'nats' but in none of the cluster groups" in e for e in errors)


def test_unknown_cluster_group():
    hv, groups, cgs = inventory([3, 3])
    errors = compute_topology(hv, groups, cgs + ["c9"], DEFAULTS)["errors"]
    assert any("names group 'c9', which is not in the inventory" in e for e in errors)


def test_empty_cluster_groups():
    hv, groups, dummy = inventory([3])
    assert "nats_server_cluster_groups must list" in compute_topology(hv, groups, [], DEFAULTS)["errors"][0]


def test_duplicate_cluster_names():
    hv, groups, cgs = inventory([3, 3])
    for h in groups["c2"]:
        hv[h]["nats_server_cluster_name"] = "c1"
    errors = compute_topology(hv, groups, cgs, DEFAULTS)["errors"]
    assert any("cluster name 'c1' is used by groups 'c1' and 'c2'" in e for e in errors)


def test_cluster_name_disagreement_inside_a_group():
    hv, groups, cgs = inventory([3, 3])
    hv["c1-n2"]["nats_server_cluster_name"] = "east"
    errors = compute_topology(hv, groups, cgs, DEFAULTS)["errors"]
    assert any("disagree on nats_server_cluster_name" in e for e in errors)


def test_duplicate_server_names():
    hv, groups, cgs = inventory([3, 3])
    hv["c2-n1"]["nats_server_name"] = "c1-n1"
    errors = compute_topology(hv, groups, cgs, DEFAULTS)["errors"]
    assert any("server name 'c1-n1' is used by hosts 'c1-n1' and 'c2-n1'" in e for e in errors)


def test_gateways_need_two_clusters():
    hv, groups, cgs = inventory([3])
    errors = compute_topology(hv, groups, cgs, dict(DEFAULTS, nats_server_gateways_enabled=True))["errors"]
    assert any("gateways join at least two clusters" in e for e in errors)


@pytest.mark.parametrize("value", [0, 70000, "abc", True])
def test_invalid_port(value):
    hv, groups, cgs = inventory([3])
    hv["c1-n2"]["nats_server_client_port"] = value
    errors = compute_topology(hv, groups, cgs, DEFAULTS)["errors"]
    assert any("host 'c1-n2': nats_server_client_port is '%s'" % value in e for e in errors)


def test_clashing_ports():
    hv, groups, cgs = inventory([3])
    hv["c1-n1"]["nats_server_http_port"] = 4222
    errors = compute_topology(hv, groups, cgs, DEFAULTS)["errors"]
    assert errors == ["host 'c1-n1': nats_server_client_port and nats_server_http_port are both 4222; "
                      "every listener needs its own port."]


def test_domains_must_match():
    hv, groups, cgs = inventory([3, 3])
    hv["c2-n2"]["nats_server_jetstream_domain"] = "hub"
    errors = compute_topology(hv, groups, cgs, DEFAULTS)["errors"]
    assert any("nats_server_jetstream_domain differs between nodes" in e for e in errors)


def test_address_override_and_ports_per_host():
    hv, groups, cgs = inventory([3, 3])
    hv["c1-n2"]["nats_server_address"] = "n2.internal"
    hv["c1-n2"]["nats_server_cluster_port"] = 16222
    topo = compute_topology(hv, groups, cgs, DEFAULTS)
    assert topo["errors"] == []
    assert "nats-route://n2.internal:16222" in topo["hosts"]["c1-n1"]["routes"]
