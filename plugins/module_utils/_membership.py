# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""JetStream membership operations on a running supercluster: where every stream and consumer group has its
peers, leader step-downs off one server, the quorum check before a server leaves for good, and the removal of
its peer from the meta group ($JS.API.SERVER.REMOVE). The planning functions are pure (they read the JSON the
servers return) so they are unit-tested without a server; ``Membership`` does the I/O through JetStreamClient."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import time

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import JetStreamAPIError

try:
    import asyncio
except ImportError:  # pragma: no cover
    asyncio = None

JSZ_ALL = {'accounts': True, 'streams': True, 'consumer': True, 'config': True}


def quorum(size):
    return size // 2 + 1


def _peers(cluster):
    """Every peer of a Raft group as {name: {'leader', 'current', 'offline'}} (the leader is not in replicas)."""
    cluster = cluster or {}
    peers = {}
    if cluster.get('leader'):
        peers[cluster['leader']] = dict(leader=True, current=True, offline=False)
    for r in cluster.get('replicas') or []:
        peers[r.get('name')] = dict(leader=False, current=bool(r.get('current')), offline=bool(r.get('offline')),
                                    lag=int(r.get('lag') or 0), active_ns=int(r.get('active') or 0))
    return peers


def asset_map(jsz_replies):
    """Merge the /jsz answers of every server into one list of groups (streams and consumers), each once.

    A server reports only the streams it hosts; the same group seen from several servers is merged, keeping
    the view of the server that names a leader (the leader's own view when it answered)."""
    groups = {}
    for reply in jsz_replies:
        server = reply.get('server_name')
        for acc in reply.get('account_details') or []:
            account = acc.get('name') or acc.get('id')
            for st in acc.get('stream_detail') or []:
                cfg = st.get('config') or {}
                key = ('stream', account, st.get('name'), None)
                _merge(groups, key, server, dict(
                    kind='stream', account=account, stream=st.get('name'), consumer=None,
                    replicas=int(cfg.get('num_replicas') or 1), cluster=st.get('cluster') or {}))
                for con in st.get('consumer_detail') or []:
                    ccfg = con.get('config') or {}
                    reps = int(ccfg.get('num_replicas') or 0) or int(cfg.get('num_replicas') or 1)
                    key = ('consumer', account, st.get('name'), con.get('name'))
                    _merge(groups, key, server, dict(
                        kind='consumer', account=account, stream=st.get('name'), consumer=con.get('name'),
                        replicas=reps, cluster=con.get('cluster') or {}))
    out = []
    for key in sorted(groups, key=lambda k: tuple(str(x) for x in k)):
        g = groups[key]
        g['peers'] = _peers(g.pop('cluster'))
        g['leader'] = next((n for n, p in g['peers'].items() if p['leader']), None)
        out.append(g)
    return out


def _merge(groups, key, server, entry):
    have = groups.get(key)
    leader = entry['cluster'].get('leader')
    if have is None or (leader and (not have['cluster'].get('leader') or leader == server)):
        groups[key] = entry


def describe(group):
    if group['kind'] == 'stream':
        return "stream '%s' (account %s)" % (group['stream'], group['account'])
    return "consumer '%s' of stream '%s' (account %s)" % (group['consumer'], group['stream'], group['account'])


def removal_problems(server, groups, meta, shrink=True, leaving=()):
    """Why taking ``server`` away would lose data or quorum; [] when it is safe.

    - an R1 stream or consumer on it holds the only copy (lost when removed, unavailable while drained);
    - an R>1 group on it keeps fewer current, online peers than its quorum without it;
    - the meta group keeps fewer online peers than the quorum of its size (shrunk by one when ``shrink``:
      a removed peer leaves the group, a drained one stays a member while it is down).

    ``leaving`` names other servers that leave after it in the same operation, one at a time: a group whose every
    replica is on a leaving server, or an R1 group on one, is refused now; the quorum rule applies to ``server``
    (each later step is checked again before it is taken); the meta group must keep its quorum once all are gone."""
    gone = set([server]) | set(leaving)
    problems = []
    for g in groups:
        if not gone & set(g['peers']):
            continue
        on = ', '.join(sorted(gone & set(g['peers'])))
        if g['replicas'] <= 1:
            problems.append("%s is R1 on %s: its only copy lives there; move it or scale it to R3 first"
                            % (describe(g), on))
            continue
        if set(g['peers']) <= gone:
            problems.append("%s has every replica on nodes that leave (%s): move it or delete it first"
                            % (describe(g), on))
            continue
        if server not in g['peers']:
            continue
        healthy = sorted(n for n, p in g['peers'].items() if n != server and p['current'] and not p['offline'])
        need = quorum(g['replicas'])
        if len(healthy) < need:
            problems.append("%s would keep %d current replica(s) (%s) of R%d without %s; it needs %d"
                            % (describe(g), len(healthy), ', '.join(healthy) or 'none', g['replicas'], server, need))
    size = int(meta.get('cluster_size') or 0)
    meta_peers = _peers(meta)
    online = sorted(n for n, p in meta_peers.items() if n not in gone and not p['offline'])
    after = size - len(gone) if shrink else size
    if size and len(online) < quorum(after):
        problems.append("the JetStream meta group would keep %d online peer(s) of %d; it needs %d"
                        % (len(online), after, quorum(after)))
    if not meta.get('leader'):
        problems.append('the JetStream meta group has no leader; membership changes need one')
    return problems


def missing_servers(server, expected, answered):
    """Expected servers (other than ``server``) that did not answer the system account's ping."""
    return ['%s did not answer: every other peer must be up before a membership change' % name
            for name in sorted(set(expected) - set(answered) - set([server]))]


def led_by(server, groups):
    return [g for g in groups if g['leader'] == server]


class Membership(object):
    """System-account and account-level requests for drain and removal (one JetStreamClient, connected)."""

    def __init__(self, client, gather_timeout=2.0, expect=None):
        self.client = client
        self.gather_timeout = gather_timeout
        self.expect = expect

    # -- reading ---------------------------------------------------------------------------------
    def _gather(self, subject, payload, expect=None, timeout=None):
        """Publish one request and collect every reply (parsed JSON) until every server named in ``expect``
        has answered, or the timeout (``gather_timeout`` unless given)."""
        nc = self.client.nc
        data = json.dumps(payload or {}).encode('utf-8')
        expect = set(expect or [])

        async def collect():
            inbox = nc.new_inbox()
            replies = []
            seen = set()
            done = asyncio.Event()

            async def on_msg(msg):
                try:
                    reply = json.loads(msg.data.decode('utf-8'))
                except ValueError:
                    return
                replies.append(reply)
                seen.add((reply.get('server') or {}).get('name'))
                if expect and expect <= seen:
                    done.set()

            sub = await nc.subscribe(inbox, cb=on_msg)
            await nc.publish(subject, data, reply=inbox)
            await nc.flush()
            try:
                await asyncio.wait_for(done.wait(), timeout or self.gather_timeout)
            except asyncio.TimeoutError:
                pass
            await sub.unsubscribe()
            return replies

        return self.client.run(collect())

    def jsz_all(self, expect=None, timeout=None):
        """/jsz with account, stream and consumer details from every server that answers (system account)."""
        replies = self._gather('$SYS.REQ.SERVER.PING.JSZ', JSZ_ALL, expect, timeout)
        if not replies:
            raise JetStreamAPIError('no server answered $SYS.REQ.SERVER.PING.JSZ: connect as a user of the '
                                    'system account', code=503, subject='$SYS.REQ.SERVER.PING.JSZ')
        out = []
        for r in replies:
            data = dict(r.get('data') or {})
            data['server_name'] = (r.get('server') or {}).get('name')
            out.append(data)
        return out

    def snapshot(self, attempts=3, timeout=None):
        """(meta cluster as the meta leader reports it, every group, names of the servers that answered).

        With expected servers, a ping some of them missed is sent again (up to ``attempts`` times): a server
        that just restarted, or a cluster that just joined, may miss the first one while its gateways form."""
        for dummy in range(attempts):
            replies = self.jsz_all(self.expect, timeout)
            if not self.expect or set(self.expect) <= set(r.get('server_name') for r in replies):
                break
        meta = self._meta(replies)
        return meta, asset_map(replies), sorted(r['server_name'] for r in replies if r.get('server_name'))

    @staticmethod
    def _meta(replies):
        best = {}
        for r in replies:
            m = r.get('meta_cluster') or {}
            if m.get('leader') and m.get('leader') == r.get('server_name'):
                return m
            if m.get('leader') and not best.get('leader'):
                best = m
            elif not best:
                best = m
        return best

    # -- changes ---------------------------------------------------------------------------------
    def meta_stepdown(self):
        return self.client.meta_leader_stepdown()

    def group_stepdown(self, group):
        if group['kind'] == 'stream':
            return self.client.stream_leader_stepdown(group['stream'])
        return self.client.consumer_leader_stepdown(group['stream'], group['consumer'])

    def account_groups(self):
        """The connected account's streams and consumers (STREAM.LIST / CONSUMER.LIST), as asset_map entries."""
        out = []
        for st in self.client.streams():
            name = st['config']['name']
            reps = int(st['config'].get('num_replicas') or 1)
            out.append(dict(kind='stream', account='(this account)', stream=name, consumer=None, replicas=reps,
                            peers=_peers(st.get('cluster')), leader=(st.get('cluster') or {}).get('leader')))
            for con in self.client.consumers(name):
                creps = int((con.get('config') or {}).get('num_replicas') or 0) or reps
                out.append(dict(kind='consumer', account='(this account)', stream=name, consumer=con['name'],
                                replicas=creps, peers=_peers(con.get('cluster')),
                                leader=(con.get('cluster') or {}).get('leader')))
        return out

    def remove_peer(self, peer_id):
        return self.client.remove_peer(peer_id)


def wait_until(predicate, timeout, interval=0.5):
    """Poll ``predicate`` until it returns a true value or ``timeout`` seconds pass; returns its last value."""
    deadline = time.time() + timeout
    value = predicate()
    while not value and time.time() < deadline:
        time.sleep(interval)
        value = predicate()
    return value
