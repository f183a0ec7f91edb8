# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The membership planning functions on /jsz answers shaped like nats-server's (JSInfo with account, stream and
consumer details; ClusterInfo lists the leader apart from its replicas)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.natsops.jetstream.plugins.module_utils import _membership as mb


def cluster(leader, *replicas, **state):
    """ClusterInfo: replicas given as names; state maps a name to 'lagging' or 'offline'."""
    reps = []
    for name in replicas:
        s = state.get(name.replace('-', '_'), 'ok')
        reps.append({'name': name, 'current': s == 'ok', 'offline': s == 'offline', 'active': 1000})
    return {'name': 'c1', 'leader': leader, 'replicas': reps}


def reply(server, streams, meta=None):
    return {'server_name': server, 'meta_cluster': meta or {},
            'account_details': [{'name': 'APP', 'id': 'APP', 'stream_detail': streams}]}


def stream(name, replicas, cl, consumers=()):
    return {'name': name, 'config': {'name': name, 'num_replicas': replicas}, 'cluster': cl,
            'consumer_detail': list(consumers)}


def consumer(name, cl, replicas=0):
    return {'name': name, 'stream_name': 'S', 'config': {'num_replicas': replicas}, 'cluster': cl}


META = {'name': 'c1', 'leader': 'n1', 'cluster_size': 5,
        'replicas': [{'name': n, 'current': True, 'peer': 'P' + n} for n in ('n2', 'n3', 'n4', 'n5')]}


def test_asset_map_merges_the_views_of_every_server_and_prefers_the_leaders():
    stale = cluster(None, 'n1', 'n2')  # a follower that has not heard of the new leader yet
    fresh = cluster('n3', 'n1', 'n2')
    groups = mb.asset_map([
        reply('n1', [stream('S', 3, stale, [consumer('C', cluster('n2', 'n1', 'n3'))])]),
        reply('n3', [stream('S', 3, fresh, [consumer('C', cluster('n2', 'n1', 'n3'))])]),
    ])
    assert [(g['kind'], g['stream'], g['consumer'], g['leader']) for g in groups] == [
        ('consumer', 'S', 'C', 'n2'), ('stream', 'S', None, 'n3')]
    s = groups[1]
    assert sorted(s['peers']) == ['n1', 'n2', 'n3'] and s['peers']['n3']['leader'] and s['replicas'] == 3
    # A consumer without its own replica count inherits the stream's.
    assert groups[0]['replicas'] == 3


def test_removing_a_peer_of_healthy_r3_groups_is_safe():
    groups = mb.asset_map([reply('n1', [stream('S', 3, cluster('n1', 'n2', 'n3'),
                                               [consumer('C', cluster('n2', 'n1', 'n3'))])])])
    assert mb.removal_problems('n3', groups, META) == []
    assert mb.removal_problems('n1', groups, META) == []


def test_r1_assets_and_groups_that_would_lose_quorum_are_named():
    groups = mb.asset_map([reply('n1', [
        stream('ONLY', 1, cluster('n4')),
        stream('WEAK', 3, cluster('n4', 'n1', 'n2', n2='lagging')),
        stream('OK', 3, cluster('n1', 'n2', 'n4')),
    ])])
    problems = mb.removal_problems('n4', groups, META)
    assert len(problems) == 2
    assert "stream 'ONLY' (account APP) is R1 on n4" in problems[0]
    assert "stream 'WEAK' (account APP) would keep 1 current replica(s) (n1) of R3 without n4; it needs 2" \
        in problems[1]


def test_the_meta_group_must_keep_its_quorum_and_have_a_leader():
    meta = dict(META, replicas=[{'name': 'n2', 'current': True}, {'name': 'n3', 'offline': True},
                                {'name': 'n4', 'offline': True}, {'name': 'n5', 'current': True}])
    # Removing n5 leaves n1, n2 online of 4: quorum of 4 is 3.
    assert mb.removal_problems('n5', [], meta) == [
        'the JetStream meta group would keep 2 online peer(s) of 4; it needs 3']
    # Draining (not removing) n5: the group keeps its size of 5, quorum 3.
    assert mb.removal_problems('n5', [], meta, shrink=False) == [
        'the JetStream meta group would keep 2 online peer(s) of 5; it needs 3']
    assert mb.removal_problems('n5', [], dict(META, leader=None, replicas=META['replicas'] + [
        {'name': 'n1', 'current': True}]))[-1] == 'the JetStream meta group has no leader; membership changes need one'


def test_servers_leaving_together_are_checked_as_a_set():
    groups = mb.asset_map([reply('n1', [stream('ALL_GONE', 3, cluster('n3', 'n4', 'n5')),
                                        stream('TWO_GONE', 3, cluster('n1', 'n4', 'n5'))])])
    problems = mb.removal_problems('n4', groups, META, leaving=['n5', 'n3'])
    assert problems == ["stream 'ALL_GONE' (account APP) has every replica on nodes that leave (n3, n4, n5): "
                        "move it or delete it first"]
    # Two of three replicas leaving one after the other: the server re-places after each step, so it is allowed.
    assert mb.removal_problems('n4', groups[1:], META, leaving=['n5']) == []


def test_missing_servers_ignores_the_server_being_changed():
    assert mb.missing_servers('n4', ['n1', 'n2', 'n4'], ['n1', 'n4']) == [
        'n2 did not answer: every other peer must be up before a membership change']
    assert mb.missing_servers('n4', ['n1', 'n4'], ['n1']) == []


def test_led_by_and_quorum():
    groups = mb.asset_map([reply('n1', [stream('A', 3, cluster('n1', 'n2', 'n3')),
                                        stream('B', 3, cluster('n2', 'n1', 'n3'))])])
    assert [g['stream'] for g in mb.led_by('n1', groups)] == ['A']
    assert [mb.quorum(n) for n in (1, 2, 3, 4, 5, 9)] == [1, 2, 2, 3, 3, 5]


class _Pings(mb.Membership):
    """Membership whose system-account pings return prepared answers, one list per ping."""

    def __init__(self, answers, expect):
        super(_Pings, self).__init__(client=None, expect=expect)
        self.answers = list(answers)
        self.pings = 0

    def jsz_all(self, expect=None, timeout=None):
        self.pings += 1
        return [{'server_name': n, 'meta_cluster': {'leader': 'a'}} for n in self.answers.pop(0)]


def test_snapshot_pings_again_until_every_expected_server_answered():
    ms = _Pings([['a'], ['a', 'b'], ['a', 'b', 'c']], expect=['a', 'b', 'c'])
    assert ms.snapshot()[2] == ['a', 'b', 'c']
    assert ms.pings == 3


def test_snapshot_gives_up_after_three_pings_and_reports_who_answered():
    ms = _Pings([['a'], ['a'], ['a'], ['a', 'b', 'c']], expect=['a', 'b', 'c'])
    assert ms.snapshot()[2] == ['a']
    assert ms.pings == 3


def test_snapshot_without_expected_servers_pings_once():
    ms = _Pings([['a']], expect=None)
    assert ms.snapshot()[2] == ['a']
    assert ms.pings == 1
