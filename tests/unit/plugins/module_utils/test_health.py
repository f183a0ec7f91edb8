# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health report's problems on answers shaped like nats-server's: each problem names exactly what is broken
and its direct consequences, nothing else (the old health.yml reported every healthy node's gateways as short and
named a down node '-')."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.natsops.jetstream.plugins.module_utils._health import report

EXPECTED = {'c1': ['c1-n1', 'c1-n2', 'c1-n3'], 'c2': ['c2-n1', 'c2-n2', 'c2-n3'], 'c3': ['c3-n1', 'c3-n2', 'c3-n3']}


def answers(down=(), routes_missing=None, gateways_missing=None, jsz=None, varz=None):
    """Answers of a healthy 3x3 supercluster, minus the servers in ``down`` (and the routes and gateways to them)."""
    routes_missing = routes_missing or {}
    gateways_missing = gateways_missing or {}
    out = dict((ep, {}) for ep in ('VARZ', 'ROUTEZ', 'GATEWAYZ', 'HEALTHZ', 'JSZ'))
    leader = next(n for c in sorted(EXPECTED) for n in EXPECTED[c] if n not in down)
    for cluster, nodes in EXPECTED.items():
        for name in nodes:
            if name in down:
                continue
            out['VARZ'][name] = dict({'server_name': name, 'version': '2.15.1', 'cluster': {'name': cluster},
                                      'slow_consumers': 0, 'uptime': '1h'}, **(varz or {}).get(name, {}))
            out['ROUTEZ'][name] = {'routes': [{'remote_name': p} for p in nodes
                                              if p != name and p not in down and p not in routes_missing.get(name, ())]}
            gws = dict((c, {}) for c in EXPECTED if c != cluster and not all(n in down for n in EXPECTED[c])
                       and c not in gateways_missing.get(name, ()))
            out['GATEWAYZ'][name] = {'name': cluster, 'outbound_gateways': gws, 'inbound_gateways': gws}
            out['HEALTHZ'][name] = {'status': 'ok'}
            js = {'memory': 0, 'storage': 1000, 'config': {'max_memory': 1000, 'max_storage': 100000},
                  'meta_cluster': {'leader': leader, 'cluster_size': 9}}
            if name == leader:
                js['meta_cluster']['replicas'] = [
                    {'name': n, 'current': n not in down, 'offline': n in down}
                    for c in EXPECTED.values() for n in c if n != leader]
            js.update((jsz or {}).get(name, {}))
            out['JSZ'][name] = js
    return out


def test_healthy():
    r = report(answers(), EXPECTED)
    assert r['healthy'] and r['problems'] == [] and r['down'] == []
    assert len(r['nodes']) == 9 and r['meta']['leader'] == 'c1-n1'


def test_one_node_down_names_it_and_its_peers_missing_routes_only():
    r = report(answers(down=['c2-n2']), EXPECTED)
    assert r['problems'] == ['c2-n2 (cluster c2) is down: it does not answer',
                             'c2-n1, c2-n3: no route to c2-n2 (down)']
    assert [n['status'] for n in r['nodes'] if n['server'] == 'c2-n2'] == ['down']
    assert r['meta']['offline'] == ['c2-n2']


def test_one_cluster_down_names_the_cluster_and_the_missing_gateway_once():
    r = report(answers(down=EXPECTED['c3']), EXPECTED)
    assert r['problems'] == ['cluster c3 is down: none of c3-n1, c3-n2, c3-n3 answers',
                             'no gateway to cluster c3 (down) from 6 node(s) of the other clusters']
    assert r['down_clusters'] == ['c3']


def test_a_cluster_whose_gateway_listeners_are_unreachable_is_not_reported_down():
    # c3 runs, but the other clusters cannot reach its gateway port: their outbound gateways to c3 are gone, so the
    # system account's requests do not reach it; c3's own outbound gateways still land on some of their nodes.
    a = answers(down=EXPECTED['c3'])
    for name in ('c1-n2', 'c2-n1', 'c2-n3'):
        a['GATEWAYZ'][name]['inbound_gateways'] = dict(a['GATEWAYZ'][name]['inbound_gateways'], c3=[{}])
    r = report(a, EXPECTED)
    assert r['problems'] == [
        'cluster c3 does not answer through the gateways but is up: it holds inbound gateway connections to '
        'c1-n2, c2-n1, c2-n3',
        'no outbound gateway to cluster c3 from 6 node(s) of the other clusters: its gateway listeners are '
        'unreachable from them']
    assert r['down_clusters'] == [] and r['unreachable_clusters'] == ['c3']
    assert sorted(n['status'] for n in r['nodes'] if n['cluster'] == 'c3') == ['unreachable'] * 3


def test_a_gateway_that_is_not_connected_between_healthy_clusters():
    r = report(answers(gateways_missing={'c1-n2': ['c3']}), EXPECTED)
    assert r['problems'] == ['c1-n2: no outbound gateway to cluster c3']


def test_a_missing_route_between_running_nodes():
    r = report(answers(routes_missing={'c1-n1': ['c1-n3']}), EXPECTED)
    assert r['problems'] == ['c1-n1: no route to c1-n3']


def test_thresholds_storage_memory_slow_consumers():
    r = report(answers(jsz={'c2-n1': {'storage': 90000}, 'c3-n1': {'memory': 900}},
                       varz={'c1-n2': {'slow_consumers': 6}}), EXPECTED)
    assert r['problems'] == [
        'c1-n2: 6 slow consumers (threshold 5)',
        'c2-n1: JetStream storage 90.0% used (90000 of 100000 bytes; threshold 85.0%)',
        'c3-n1: JetStream memory 90.0% used (900 of 1000 bytes; threshold 80.0%)']
    assert report(answers(jsz={'c2-n1': {'storage': 90000}}), EXPECTED, {'storage_pct': 95})['healthy']


def test_streams_and_consumers_quorum_and_lag():
    detail = [{'name': 'APP', 'stream_detail': [
        {'name': 'ORDERS', 'config': {'num_replicas': 3}, 'state': {'messages': 5000},
         'cluster': {'leader': 'c1-n1', 'replicas': [
             {'name': 'c1-n2', 'current': False, 'lag': 3},
             {'name': 'c1-n3', 'current': False, 'lag': 5000}]},
         'consumer_detail': [{'name': 'SHIP', 'config': {}, 'num_pending': 1500, 'num_ack_pending': 3,
                              'cluster': {'leader': 'c1-n2', 'replicas': [
                                  {'name': 'c1-n1', 'current': True},
                                  {'name': 'c1-n3', 'current': True}]}}]},
        {'name': 'STUCK', 'config': {'num_replicas': 3}, 'state': {},
         'cluster': {'replicas': [{'name': 'c1-n2', 'offline': True},
                                  {'name': 'c1-n3', 'current': False, 'active': 60 * 10 ** 9}]}}]}]
    r = report(answers(jsz={'c1-n1': {'account_details': detail}}), EXPECTED)
    assert r['problems'] == [
        "consumer 'SHIP' of stream 'ORDERS' (account APP): 1500 messages pending (threshold 1000)",
        "stream 'ORDERS' (account APP): replica(s) on c1-n3 offline or behind",
        "stream 'STUCK' (account APP) has no leader",
        "stream 'STUCK' (account APP) has 0 current replica(s) of R3: below quorum"]
    orders = [a for a in r['assets'] if a['stream'] == 'ORDERS' and a['kind'] == 'stream'][0]
    assert orders['messages'] == 5000 and orders['lagging'] == ['c1-n3'] and orders['leader'] == 'c1-n1'


def test_stale_meta_peers_and_no_meta_leader():
    a = answers()
    a['JSZ']['c1-n1']['meta_cluster'].update(cluster_size=11, replicas=a['JSZ']['c1-n1']['meta_cluster']['replicas']
                                             + [{'name': 'old-n4', 'offline': True}, {'name': 'old-n5', 'offline': True}])
    assert report(a, EXPECTED)['problems'] == [
        'JetStream meta group has 11 peers, the inventory 9 (not in the inventory: old-n4, old-n5)']
    b = answers()
    for js in b['JSZ'].values():
        js['meta_cluster'] = {'cluster_size': 9}
    assert report(b, EXPECTED)['problems'] == ['JetStream has no meta leader']
    # A single server has no meta group at all.
    single = {'VARZ': {'s': {'cluster': {}}}, 'HEALTHZ': {'s': {'status': 'ok'}}, 'JSZ': {'s': {'config': {}}}}
    assert report(single, {'s': ['s']})['healthy']
