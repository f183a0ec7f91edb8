# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A JetStream-aware health report of a whole supercluster, read through the system account: one request per
monitoring endpoint reaches every server ($SYS.REQ.SERVER.PING.<ENDPOINT>), including servers the controller cannot
reach over HTTP. ``report()`` is pure: it turns the servers' answers and the expected shape (from the inventory)
into per-node facts and a list of problems that name exactly what is broken and its direct consequences."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.natsops.jetstream.plugins.module_utils import _membership as mb

ENDPOINTS = ('VARZ', 'ROUTEZ', 'GATEWAYZ', 'HEALTHZ', 'JSZ')
DEFAULT_THRESHOLDS = dict(memory_pct=80.0, storage_pct=85.0, slow_consumers=5, lag=1000)


def gather(membership, expect):
    """{endpoint: {server_name: data}} from every server that answers each request."""
    out = {}
    for ep in ENDPOINTS:
        body = mb.JSZ_ALL if ep == 'JSZ' else {}
        replies = membership._gather('$SYS.REQ.SERVER.PING.%s' % ep, body, expect)  # pylint: disable=protected-access
        out[ep] = dict(((r.get('server') or {}).get('name'), r.get('data') or {}) for r in replies
                       if (r.get('server') or {}).get('name'))
    return out


def _pct(used, limit):
    if not limit or limit <= 0:
        return None
    return round(100.0 * used / limit, 1)


def _names(items):
    return ', '.join(sorted(items))


def report(answers, expected, thresholds=None):
    """Build the health report.

    ``answers``: {endpoint: {server: data}} as ``gather`` returns; ``expected``: {cluster: [server names]} from the
    inventory (empty: take the shape from the answers); ``thresholds``: see DEFAULT_THRESHOLDS."""
    t = dict(DEFAULT_THRESHOLDS)
    t.update(dict((k, v) for k, v in (thresholds or {}).items() if v is not None))
    varz, routez, gwz, healthz, jsz = (answers.get(ep, {}) for ep in ENDPOINTS)
    up = set(varz) | set(jsz) | set(healthz)
    if not expected:
        expected = {}
        for name, v in varz.items():
            expected.setdefault((v.get('cluster') or {}).get('name') or name, []).append(name)
    cluster_of = dict((n, c) for c, nodes in expected.items() for n in nodes)
    down = sorted(n for n in cluster_of if n not in up)
    silent = sorted(c for c, nodes in expected.items() if nodes and all(n in down for n in nodes))
    # A cluster none of whose servers answers, but whose servers still hold inbound gateway connections to the
    # servers that answer, is running: the requests cannot reach it because the other clusters' outbound gateways
    # to it are gone (its gateway listeners unreachable: a firewall, a stopped proxy). Not a cluster down.
    inbound_from = {}
    for name, gw in gwz.items():
        if name in up:
            for other in (gw.get('inbound_gateways') or {}):
                inbound_from.setdefault(other, []).append(name)
    unreachable_clusters = [c for c in silent if c in inbound_from]
    down_clusters = [c for c in silent if c not in inbound_from]
    problems = []
    for c in down_clusters:
        problems.append('cluster %s is down: none of %s answers' % (c, _names(expected[c])))
    for c in unreachable_clusters:
        problems.append('cluster %s does not answer through the gateways but is up: it holds inbound gateway '
                        'connections to %s' % (c, _names(inbound_from[c])))
    for n in down:
        if cluster_of[n] not in silent:
            problems.append('%s (cluster %s) is down: it does not answer' % (n, cluster_of[n]))
    unknown = sorted(up - set(cluster_of))
    for n in unknown:
        problems.append('%s answers but is not in the inventory' % n)

    nodes = []
    no_route = {}    # peer -> nodes missing a route to it
    no_gateway = {}  # cluster -> nodes missing an outbound gateway to it
    for name in sorted(up | set(cluster_of)):
        cluster = cluster_of.get(name) or (varz.get(name, {}).get('cluster') or {}).get('name')
        if name not in up:
            nodes.append(dict(server=name, cluster=cluster,
                              status='unreachable' if cluster in unreachable_clusters else 'down'))
            continue
        v = varz.get(name, {})
        js = jsz.get(name, {})
        routes = sorted(set(r.get('remote_name') for r in (routez.get(name, {}).get('routes') or [])
                            if r.get('remote_name')))
        gw = gwz.get(name, {})
        gw_out = sorted((gw.get('outbound_gateways') or {}).keys())
        gw_in = sorted((gw.get('inbound_gateways') or {}).keys())
        stats = js.get('stats') if 'stats' in js else js
        cfg = js.get('config') or {}
        mem_used, store_used = int(stats.get('memory') or 0), int(stats.get('storage') or 0)
        mem_limit, store_limit = int(cfg.get('max_memory') or 0), int(cfg.get('max_storage') or 0)
        node = dict(
            server=name, cluster=cluster, status=(healthz.get(name) or {}).get('status') or 'unknown',
            version=v.get('version'), uptime=v.get('uptime'), connections=v.get('connections'),
            slow_consumers=int(v.get('slow_consumers') or 0), routes=routes, gateways_out=gw_out, gateways_in=gw_in,
            jetstream=dict(memory=mem_used, max_memory=mem_limit, memory_pct=_pct(mem_used, mem_limit),
                           storage=store_used, max_storage=store_limit, storage_pct=_pct(store_used, store_limit)))
        nodes.append(node)
        if node['status'] != 'ok':
            err = (healthz.get(name) or {}).get('error')
            problems.append('%s: /healthz is %s%s' % (name, node['status'], (' (%s)' % err) if err else ''))
        for peer in expected.get(cluster, []):
            if peer != name and peer not in routes:
                no_route.setdefault(peer, []).append(name)
        if len(expected) > 1:
            for other in expected:
                if other != cluster and other not in gw_out:
                    no_gateway.setdefault(other, []).append(name)
        for key, label in (('memory_pct', 'memory'), ('storage_pct', 'storage')):
            pct = node['jetstream'][key]
            if pct is not None and pct > t[key]:
                used = node['jetstream'][label if label == 'memory' else 'storage']
                limit = node['jetstream']['max_' + label]
                problems.append('%s: JetStream %s %.1f%% used (%d of %d bytes; threshold %s%%)'
                                % (name, label, pct, used, limit, t[key]))
        if node['slow_consumers'] > t['slow_consumers']:
            problems.append('%s: %d slow consumers (threshold %d)' % (name, node['slow_consumers'], t['slow_consumers']))

    # Consequences: a missing route or gateway to a node or cluster that is down is one line, not one per node.
    for peer, missing in sorted(no_route.items()):
        if peer in down and cluster_of[peer] in silent:
            continue
        why = ' (down)' if peer in down else ''
        problems.append('%s: no route to %s%s' % (_names(missing), peer, why))
    for other, missing in sorted(no_gateway.items()):
        if other in down_clusters:
            problems.append('no gateway to cluster %s (down) from %d node(s) of the other clusters'
                            % (other, len(missing)))
        elif other in unreachable_clusters:
            problems.append('no outbound gateway to cluster %s from %d node(s) of the other clusters: its gateway '
                            'listeners are unreachable from them' % (other, len(missing)))
        else:
            problems.append('%s: no outbound gateway to cluster %s' % (_names(missing), other))

    # The meta group as its leader sees it.
    leader_view = {}
    for name, js in jsz.items():
        m = js.get('meta_cluster') or {}
        if m.get('leader') == name:
            leader_view = m
    any_view = next((js.get('meta_cluster') for js in jsz.values() if js.get('meta_cluster')), {}) or {}
    meta = leader_view or any_view
    meta_out = dict(leader=meta.get('leader'), cluster_size=meta.get('cluster_size'), offline=[], lagging=[])
    if any(js.get('meta_cluster') for js in jsz.values()):  # clustered JetStream (a single server has no meta group)
        if not meta.get('leader'):
            problems.append('JetStream has no meta leader')
        expected_size = sum(len(v) for v in expected.values())
        if meta.get('cluster_size') and expected_size and int(meta['cluster_size']) != expected_size:
            stale = sorted(r.get('name') for r in meta.get('replicas') or [] if r.get('name') not in cluster_of)
            problems.append('JetStream meta group has %s peers, the inventory %d%s'
                            % (meta['cluster_size'], expected_size,
                               ' (not in the inventory: %s)' % ', '.join(stale) if stale else ''))
        for r in meta.get('replicas') or []:
            if r.get('name') in down:  # already reported as down; the leader may not have marked it offline yet
                meta_out['offline'].append(r.get('name'))
            elif r.get('offline'):
                meta_out['offline'].append(r.get('name'))
                if r.get('name') in cluster_of and r.get('name') not in down:
                    problems.append('%s is offline in the JetStream meta group although it answers' % r.get('name'))
            elif not r.get('current'):
                meta_out['lagging'].append(r.get('name'))
                problems.append('%s is behind the JetStream meta leader' % r.get('name'))

    # Streams and consumers.
    groups = mb.asset_map([dict(js, server_name=name) for name, js in jsz.items()])
    details = _details(jsz)
    assets = []
    for g in groups:
        key = (g['kind'], g['account'], g['stream'], g['consumer'])
        d = details.get(key, {})
        offline = sorted(n for n, p in g['peers'].items() if p['offline'])
        # Under load a follower is often a few entries short of "current"; it is behind when it lags more than the
        # lag threshold or has not been heard from for 10 s.
        lagging = sorted(n for n, p in g['peers'].items() if not p['offline'] and not p['current']
                         and (p.get('lag', 0) > t['lag'] or p.get('active_ns', 0) > 10 * 10 ** 9))
        entry = dict(kind=g['kind'], account=g['account'], stream=g['stream'], consumer=g['consumer'],
                     replicas=g['replicas'], leader=g['leader'], offline=offline, lagging=lagging)
        entry.update(d)
        assets.append(entry)
        what = mb.describe(g)
        if g['replicas'] > 1 and not g['leader']:
            problems.append('%s has no leader' % what)
        healthy = len(g['peers']) - len(offline) - len(lagging)
        if g['replicas'] > 1 and healthy < mb.quorum(g['replicas']):
            problems.append('%s has %d current replica(s) of R%d: below quorum' % (what, healthy, g['replicas']))
        not_down = [n for n in offline if n not in down] + [n for n in lagging if n not in down]
        if not_down and healthy >= mb.quorum(g['replicas']):
            problems.append('%s: replica(s) on %s offline or behind' % (what, _names(not_down)))
        if g['kind'] == 'consumer' and d.get('num_pending', 0) > t['lag']:
            problems.append('%s: %d messages pending (threshold %d)' % (what, d['num_pending'], t['lag']))
    return dict(healthy=not problems, problems=problems, nodes=nodes, down=down, down_clusters=down_clusters,
                unreachable_clusters=unreachable_clusters, meta=meta_out, assets=assets, thresholds=t)


def _details(jsz):
    """Message counts, pending and ack-pending per stream and consumer (from any server that reports them)."""
    out = {}
    for js in jsz.values():
        for acc in js.get('account_details') or []:
            account = acc.get('name') or acc.get('id')
            for st in acc.get('stream_detail') or []:
                state = st.get('state') or {}
                out[('stream', account, st.get('name'), None)] = dict(
                    messages=int(state.get('messages') or 0), bytes=int(state.get('bytes') or 0))
                for con in st.get('consumer_detail') or []:
                    out[('consumer', account, st.get('name'), con.get('name'))] = dict(
                        num_pending=int(con.get('num_pending') or 0),
                        num_ack_pending=int(con.get('num_ack_pending') or 0))
    return out
