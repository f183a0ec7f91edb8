# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: nats_topology
short_description: Compute a NATS supercluster topology from the inventory
version_added: 0.1.0
description:
  - Reads the cluster groups of a supercluster from the inventory and returns every cluster with
    its members, each member's route and gateway URLs, and a list of every error found (hosts in no
    or several cluster groups, duplicate cluster or server names, even or small JetStream clusters,
    gateways with a single cluster, invalid or clashing ports, differing JetStream domains).
  - Used by the P(natsops.jetstream.server#role) role for both its preflight checks and its config.
options:
  _input:
    description: The C(hostvars) magic variable.
    type: dict
    required: true
  groups:
    description: The C(groups) magic variable.
    type: dict
    required: true
  cluster_groups:
    description: Names of the inventory groups that are clusters of the supercluster.
    type: list
    elements: str
    required: true
  defaults:
    description:
      - Values used for a host that does not set the variable itself (the role's defaults are not
        visible through C(hostvars)). Keys are variable names such as C(nats_server_cluster_port).
      - C(nats_server_gateway_seeds) limits each gateway entry to a cluster's first nodes;
        C(nats_server_retired_hosts) lists hosts the topology leaves out (a node being removed).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Compute the topology
  ansible.builtin.set_fact:
    topology: "{{ hostvars | natsops.jetstream.nats_topology(groups, ['c1', 'c2', 'c3'], {}) }}"
"""

RETURN = r"""
_value:
  description: C({errors, clusters, hosts, gateways}).
  type: dict
"""

import re

from ansible.errors import AnsibleFilterError

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_SERVER_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_PORT_VARS = (
    "nats_server_client_port",
    "nats_server_cluster_port",
    "nats_server_gateway_port",
    "nats_server_http_port",
)
DEFAULTS = {
    "nats_server_client_port": 4222,
    "nats_server_cluster_port": 6222,
    "nats_server_gateway_port": 7222,
    "nats_server_http_port": 8222,
    "nats_server_jetstream_enabled": True,
    "nats_server_jetstream_domain": "",
    "nats_server_gateways_enabled": None,
    "nats_server_allow_small_clusters": False,
    "nats_server_route_scheme": "nats-route",
    "nats_server_gateway_scheme": "nats",
    "nats_server_gateway_seeds": 3,
    "nats_server_retired_hosts": [],
}


def _get(hv, host, key, defaults):
    vars_ = hv[host]
    if key in vars_ and vars_[key] is not None:
        return vars_[key]
    if key in defaults and defaults[key] is not None:
        return defaults[key]
    return DEFAULTS.get(key)


def _as_port(value):
    try:
        if isinstance(value, bool):
            raise ValueError
        port = int(value)
    except (TypeError, ValueError):
        return None
    if 1 <= port <= 65535:
        return port
    return None


def _bool(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on", "y")


def _claim_name(name, owner, pattern, seen, errors, invalid, taken):
    """A cluster or server name: refused (``invalid``) unless ``pattern`` matches it, and (``taken(other)``) when
    another group or host already has it; then it is ``owner``'s."""
    if not pattern.match(name):
        errors.append(invalid)
    if name in seen:
        errors.append(taken(seen[name]))
    seen[name] = owner


def compute_topology(hostvars, groups, cluster_groups, defaults=None):
    """Return the supercluster topology and every inventory error found."""
    defaults = dict(defaults or {})
    errors = []
    # Hosts leaving the supercluster (playbooks/remove_node.yml): the topology is computed without them.
    retired = set(defaults.get("nats_server_retired_hosts") or [])
    if retired:
        # A cluster whose every node is retired leaves the supercluster with them.
        if isinstance(cluster_groups, (list, tuple)):
            cluster_groups = [g for g in cluster_groups
                              if not (groups.get(g) and set(groups[g]) <= retired)]
        groups = dict((g, [h for h in members if h not in retired]) for g, members in groups.items())
    if not isinstance(cluster_groups, (list, tuple)) or not cluster_groups:
        return {
            "errors": ["nats_server_cluster_groups must list the inventory groups that form the "
                       "clusters of the supercluster (e.g. [c1, c2, c3]); it is empty or not a list."],
            "clusters": [], "hosts": {}, "gateways": [],
        }

    membership = {}
    for group in cluster_groups:
        if group not in groups:
            errors.append("nats_server_cluster_groups names group '%s', which is not in the inventory. "
                          "Add the group or remove it from the list." % group)
            continue
        if not groups[group]:
            errors.append("cluster group '%s' has no hosts. Add hosts to it or remove it from "
                          "nats_server_cluster_groups." % group)
        for host in groups[group]:
            membership.setdefault(host, []).append(group)

    for host, member_of in sorted(membership.items()):
        if len(member_of) > 1:
            errors.append("host '%s' is in several cluster groups (%s); every host must be in exactly one "
                          "of nats_server_cluster_groups." % (host, ", ".join(member_of)))

    super_group = defaults.get("nats_server_group")
    if super_group and super_group in groups:
        for host in groups[super_group]:
            if host not in membership:
                errors.append("host '%s' is in group '%s' but in none of the cluster groups %s; put it in "
                              "exactly one of them." % (host, super_group, list(cluster_groups)))

    clusters = []
    cluster_names = {}
    server_names = {}
    domains = {}
    hosts = {}
    js_enabled_any = False
    for group in cluster_groups:
        if group not in groups:
            continue
        members = [h for h in groups[group] if len(membership.get(h, [])) == 1]
        names = set()
        for host in members:
            names.add(str(_get(hostvars, host, "nats_server_cluster_name", defaults) or group))
        if len(names) > 1:
            errors.append("hosts of cluster group '%s' disagree on nats_server_cluster_name (%s); set it "
                          "once in the group's variables." % (group, ", ".join(sorted(names))))
        cname = sorted(names)[0] if names else group
        _claim_name(cname, group, _NAME_RE, cluster_names, errors,
                    "cluster name '%s' (group '%s', nats_server_cluster_name) may only contain letters, digits, "
                    "'-' and '_'." % (cname, group),
                    lambda other: "cluster name '%s' is used by groups '%s' and '%s'; cluster names must be unique "
                                  "(set nats_server_cluster_name)." % (cname, other, group))

        nodes = []
        for host in members:
            sname = str(_get(hostvars, host, "nats_server_name", defaults) or host)
            _claim_name(sname, host, _SERVER_NAME_RE, server_names, errors,
                        "host '%s': nats_server_name '%s' may only contain letters, digits, '.', '-' and '_'."
                        % (host, sname),
                        lambda other: "server name '%s' is used by hosts '%s' and '%s'; server names must be unique "
                                      "across the supercluster (set nats_server_name)." % (sname, other, host))
            ports = {}
            for var in _PORT_VARS:
                raw = _get(hostvars, host, var, defaults)
                port = _as_port(raw)
                if port is None:
                    errors.append("host '%s': %s is '%s'; it must be an integer from 1 to 65535." % (host, var, raw))
                ports[var] = port
            seen = {}
            for var, port in ports.items():
                if port is None:
                    continue
                if port in seen:
                    errors.append("host '%s': %s and %s are both %s; every listener needs its own port."
                                  % (host, seen[port], var, port))
                seen[port] = var
            js = _bool(_get(hostvars, host, "nats_server_jetstream_enabled", defaults))
            js_enabled_any = js_enabled_any or js
            if js:
                domains.setdefault(str(_get(hostvars, host, "nats_server_jetstream_domain", defaults) or ""), []).append(host)
            address = _get(hostvars, host, "nats_server_address", defaults)
            if not address:
                address = hostvars[host].get("ansible_host") or host
            nodes.append({
                "host": host,
                "server_name": sname,
                "address": str(address),
                "client_port": ports["nats_server_client_port"],
                "cluster_port": ports["nats_server_cluster_port"],
                "gateway_port": ports["nats_server_gateway_port"],
                "http_port": ports["nats_server_http_port"],
                "jetstream": js,
            })
        clusters.append({"name": cname, "group": group, "nodes": nodes})

    allow_small = _bool(defaults.get("nats_server_allow_small_clusters", False))
    for cluster in clusters:
        size = len(cluster["nodes"])
        if not size or allow_small:
            continue
        if any(n["jetstream"] for n in cluster["nodes"]) and (size < 3 or size % 2 == 0):
            errors.append("cluster '%s' (group '%s') has %d node(s); a JetStream cluster needs an odd number of "
                          "nodes, at least 3, to keep a Raft quorum. Add or remove nodes, or set "
                          "nats_server_allow_small_clusters: true to accept it." % (cluster["name"], cluster["group"], size))

    gateways_enabled = defaults.get("nats_server_gateways_enabled")
    if gateways_enabled is None or gateways_enabled == "":
        gateways_enabled = len(clusters) > 1
    gateways_enabled = _bool(gateways_enabled)
    if gateways_enabled and len(clusters) < 2:
        errors.append("nats_server_gateways_enabled is true but nats_server_cluster_groups lists %d cluster(s); "
                      "gateways join at least two clusters. Add a cluster or set nats_server_gateways_enabled: false."
                      % len(clusters))

    if len(domains) > 1:
        detail = "; ".join("'%s' on %s" % (d or "(none)", ", ".join(sorted(h))) for d, h in sorted(domains.items()))
        errors.append("nats_server_jetstream_domain differs between nodes (%s); every node of a supercluster "
                      "must use the same JetStream domain." % detail)

    route_scheme = defaults.get("nats_server_route_scheme") or DEFAULTS["nats_server_route_scheme"]
    gw_scheme = defaults.get("nats_server_gateway_scheme") or DEFAULTS["nats_server_gateway_scheme"]
    # Each gateway entry lists a cluster's first nodes (inventory order) as seeds; the others are learnt by
    # gossip. Growing a cluster past its seeds then leaves every gateway block as it was, so the existing nodes
    # take the new routes by reload (nats-server cannot reload a gateway change).
    try:
        seeds = max(1, int(defaults.get("nats_server_gateway_seeds") or DEFAULTS["nats_server_gateway_seeds"]))
    except (TypeError, ValueError):
        seeds = DEFAULTS["nats_server_gateway_seeds"]
    gateways = []
    for cluster in clusters:
        urls = ["%s://%s:%s" % (gw_scheme, n["address"], n["gateway_port"]) for n in cluster["nodes"][:seeds]]
        gateways.append({"name": cluster["name"], "urls": urls})
    for cluster in clusters:
        for node in cluster["nodes"]:
            routes = ["%s://%s:%s" % (route_scheme, n["address"], n["cluster_port"])
                      for n in cluster["nodes"] if n["host"] != node["host"]]
            hosts[node["host"]] = dict(
                node,
                cluster=cluster["name"],
                cluster_size=len(cluster["nodes"]),
                routes=routes,
                cluster_block=len(cluster["nodes"]) > 1 or gateways_enabled,
            )

    return {
        "errors": errors,
        "clusters": clusters,
        "hosts": hosts,
        "gateways": gateways if gateways_enabled else [],
        "gateways_enabled": gateways_enabled,
        "jetstream": js_enabled_any,
        "size": sum(len(c["nodes"]) for c in clusters),
    }


def nats_topology(hostvars, groups, cluster_groups, defaults=None):
    try:
        return compute_topology(hostvars, groups, cluster_groups, defaults)
    except KeyError as exc:
        raise AnsibleFilterError("nats_topology: host %s is not in hostvars" % exc)


class FilterModule(object):
    def filters(self):
        return {"nats_topology": nats_topology}
