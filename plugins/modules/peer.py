#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: peer
short_description: Drain a JetStream server of its leaders, or remove its peer from the supercluster for good
version_added: 0.2.0
description:
  - O(state=drained) steps down every stream, consumer and (with O(scope=system)) meta leader that runs on
    O(server) until none is left there, so that stopping the server moves no leadership in a hurry. With
    O(scope=system) it first checks that stopping the server loses nothing (no R1 stream or consumer lives only
    there, every replicated group and the meta group keep their quorum, every other expected server answers).
  - O(state=removed) first checks that removing O(server) loses nothing (no R1 stream or consumer lives only there,
    every replicated group and the meta group keep their quorum without it), then waits until the meta leader sees
    the server offline and removes its peer through C($JS.API.SERVER.REMOVE) by peer ID, and waits until the meta
    group no longer lists it. In check mode only the checks run.
  - Removal and meta step-down need a user of the system account (O(scope=system)); stream and consumer step-downs
    are made in the connected account (O(scope=account)).
author: natsops maintainers (@natsops)
options:
  server:
    description: Server name (C(server_name)) of the JetStream peer.
    type: str
    required: true
  state:
    description: V(drained) moves every leader off the server; V(removed) removes its peer for good.
    type: str
    choices: [drained, removed]
    required: true
  scope:
    description:
      - V(account) steps down the connected account's streams and consumers led by the server.
      - V(system) (a system-account user) steps the meta leader down when it is the server, reports streams and
        consumers of every account still led by it, and is required for O(state=removed).
    type: str
    choices: [account, system]
    default: account
  force:
    description: Remove the peer even when the checks find R1 assets or a group that would lose its quorum.
    type: bool
    default: false
  leaving:
    description:
      - Other server names that leave in the same operation, removed one after the other. A stream or consumer
        with every replica on the leaving servers, or an R1 one on any of them, is refused before the first
        removal; the meta group must keep its quorum once all of them are gone.
    type: list
    elements: str
    default: []
  expect_servers:
    description:
      - Server names the supercluster should have (from the inventory). With O(scope=system), a server other than
        O(server) that does not answer is a problem, as membership changes wait until every other peer is up.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for step-downs, for the server to be seen offline and for the removal to apply.
    type: int
    default: 60
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.action_group
attributes:
  check_mode:
    description: Reports what would be stepped down or removed and runs the removal checks; changes nothing.
    support: full
  diff_mode:
    description: No diff; the return values list every step-down and the removal.
    support: none
'''

EXAMPLES = r'''
- name: Move the application account's leaders off c1-n5
  natsops.jetstream.peer:
    server: c1-n5
    state: drained
    tls_ca: pki/clients/admin/ca.crt
    tls_cert: pki/clients/admin/tls.crt
    tls_key: pki/clients/admin/tls.key

- name: Move the meta leader off c1-n5 and check no leader is left there
  natsops.jetstream.peer:
    server: c1-n5
    state: drained
    scope: system
    tls_cert: pki/clients/sys/tls.crt
    tls_key: pki/clients/sys/tls.key

- name: Remove the stopped c1-n5 from JetStream for good
  natsops.jetstream.peer:
    server: c1-n5
    state: removed
    scope: system
    tls_cert: pki/clients/sys/tls.crt
    tls_key: pki/clients/sys/tls.key
'''

RETURN = r'''
stepdowns:
  description: The leaders stepped down (or that would be, in check mode), with the new leader where known.
  returned: always
  type: list
  elements: str
  sample: ["stream 'ORDERS' (account APP): c1-n5 -> c1-n2"]
meta_stepdown:
  description: Whether the meta leader was stepped down off the server.
  returned: always
  type: bool
remaining:
  description: Streams and consumers still led by the server (other accounts, with O(scope=system)).
  returned: always
  type: list
  elements: str
problems:
  description: Why removing the server would lose data or quorum (O(state=removed)).
  returned: always
  type: list
  elements: str
peer_id:
  description: Raft peer ID of the server in the meta group.
  returned: when the server is a member
  type: str
cluster_size:
  description: Meta group size before and after.
  returned: with O(scope=system)
  type: dict
  sample: {before: 11, after: 10}
groups_on_server:
  description: Streams and consumers with a replica on the server before the change.
  returned: with O(scope=system)
  type: list
  elements: str
'''

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    MEMBER_CHANGE_IN_FLIGHT, PEER_NOT_A_MEMBER, JetStreamAPIError)
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import ValidationError
from ansible_collections.natsops.jetstream.plugins.module_utils._module import jetstream_module, run_module
from ansible_collections.natsops.jetstream.plugins.module_utils import _membership as mb


def drain_account(module, ms, server, timeout):
    """Step down the connected account's groups led by ``server`` until none is left."""
    done = []

    def still_led():
        return mb.led_by(server, ms.account_groups())

    led = still_led()
    if module.check_mode:
        return ['%s: %s' % (mb.describe(g), server) for g in led], [mb.describe(g) for g in led]
    deadline_groups = mb.wait_until(lambda: not _step_all(ms, still_led(), server, done), timeout, interval=1.0)
    remaining = [] if deadline_groups else [mb.describe(g) for g in still_led()]
    return done, remaining


def _step_all(ms, groups, server, done):
    """One round of step-downs; returns the groups that were still led by ``server``."""
    for g in groups:
        try:
            ms.group_stepdown(g)
            done.append('%s: stepped down from %s' % (mb.describe(g), server))
        except JetStreamAPIError:
            pass  # a group between leaders answers with an error; the next round sees it again
    return groups


def manage_peer(module, client, out):
    p = module.params
    server = p['server']
    ms = mb.Membership(client, expect=p['expect_servers'])
    if p['scope'] == 'account':
        out['stepdowns'], out['remaining'] = drain_account(module, ms, server, p['timeout'])
        out['changed'] = bool(out['stepdowns'])
        if out['remaining']:
            module.fail_json(msg='Still led by %s after %ds: %s'
                             % (server, p['timeout'], '; '.join(out['remaining'])), **out)
        return out

    # The check before any change waits up to 5 s per ping for every expected server (a busy server across a
    # gateway can answer after 2 s, and a missing answer refuses the change); the polls afterwards keep 2 s.
    meta, groups, answered = ms.snapshot(timeout=5.0)
    by_name = dict((r.get('name'), r) for r in meta.get('replicas') or [])
    member = server == meta.get('leader') or server in by_name
    out['cluster_size'] = dict(before=int(meta.get('cluster_size') or 0))
    out['groups_on_server'] = [mb.describe(g) for g in groups if server in g['peers']]
    if server in by_name:
        out['peer_id'] = by_name[server].get('peer')
    if p['state'] == 'drained':
        out['problems'] = (mb.removal_problems(server, groups, meta, shrink=False, leaving=p['leaving'])
                           + mb.missing_servers(server, p['expect_servers'] + p['leaving'], answered)
                           ) if member else []
        run_system_drain(module, ms, server, meta, groups, out, p['timeout'])
    else:
        run_removal(module, ms, server, meta, groups, answered, member, out, p)
    return out


def check_scope(module):
    if module.params['state'] == 'removed' and module.params['scope'] != 'system':
        raise ValidationError('state=removed needs scope=system and a user of the system account '
                              '($JS.API.SERVER.REMOVE answers only there)')


def main():
    module = jetstream_module(dict(
        server=dict(type='str', required=True),
        state=dict(type='str', required=True, choices=['drained', 'removed']),
        scope=dict(type='str', default='account', choices=['account', 'system']),
        force=dict(type='bool', default=False),
        expect_servers=dict(type='list', elements='str', default=[]),
        leaving=dict(type='list', elements='str', default=[]),
        timeout=dict(type='int', default=60),
    ))
    out = dict(changed=False, stepdowns=[], meta_stepdown=False, remaining=[], problems=[])
    run_module(module, lambda module, client, prepared: manage_peer(module, client, out), 'JetStream request failed',
               prepare=check_scope, context=lambda: out)


def run_system_drain(module, ms, server, meta, groups, out, timeout):
    if out['problems'] and not module.params['force']:
        module.fail_json(msg='Stopping %s would lose data or quorum: %s. Nothing was changed.'
                             % (server, '; '.join(out['problems'])), **out)
    if meta.get('leader') == server:
        out['meta_stepdown'] = True
        out['changed'] = True
        if not module.check_mode:
            def moved():
                ms.meta_stepdown()
                m = ms.snapshot()[0]
                return m.get('leader') and m.get('leader') != server
            if not mb.wait_until(moved, timeout, interval=2.0):
                module.fail_json(msg='The meta leader is still %s after %ds of step-downs' % (server, timeout), **out)
    if not module.check_mode:
        groups = ms.snapshot()[1]
    out['remaining'] = [mb.describe(g) for g in mb.led_by(server, groups)]
    if out['remaining'] and not module.check_mode:
        module.fail_json(msg='%s still leads %s: step them down with scope=account and a user of each account '
                             '(lame-duck mode will move them when the server stops)'
                             % (server, '; '.join(out['remaining'])), **out)
    out['cluster_size']['after'] = out['cluster_size']['before']


def run_removal(module, ms, server, meta, groups, answered, member, out, p):
    out['cluster_size']['after'] = out['cluster_size']['before']
    if not member:
        return  # already gone: nothing to do
    out['problems'] = (mb.removal_problems(server, groups, meta, leaving=p['leaving'])
                       + mb.missing_servers(server, p['expect_servers'] + p['leaving'], answered))
    if out['problems'] and not p['force']:
        module.fail_json(msg='Removing %s would lose data or quorum: %s. Nothing was changed.'
                             % (server, '; '.join(out['problems'])), **out)
    out['changed'] = True
    if module.check_mode:
        out['cluster_size']['after'] = out['cluster_size']['before'] - 1
        return

    def offline():
        m = ms.snapshot()[0]
        rep = dict((r.get('name'), r) for r in m.get('replicas') or []).get(server)
        return m.get('leader') != server and rep is not None and rep.get('offline')
    if not mb.wait_until(offline, p['timeout'], interval=1.0):
        module.fail_json(msg='%s is not offline in the meta group after %ds: stop it (lame duck) before removing '
                             'its peer, so it cannot rejoin' % (server, p['timeout']), **out)
    meta = ms.snapshot()[0]
    peer_id = dict((r.get('name'), r) for r in meta.get('replicas') or [])[server].get('peer')
    out['peer_id'] = peer_id
    size_before = int(meta.get('cluster_size') or 0)

    # The meta leader answers a removal when it proposes it, not when it is applied: a leader change in between
    # loses it. Only the meta leader's own view lists the peers (a member's lists none), so the peer counts as
    # removed when the leader's view lacks its ID and name and has shrunk, three polls in a row; until then the
    # removal is sent again.
    confirmations = []

    def removed():
        m = ms.snapshot()[0]
        replicas = m.get('replicas') or []
        ids = set(r.get('peer') for r in replicas)
        names = set(r.get('name') for r in replicas) | set([m.get('leader')])
        shrunk = not size_before or int(m.get('cluster_size') or 0) < size_before
        if replicas and peer_id not in ids and server not in names and shrunk:
            confirmations.append(m)
            return len(confirmations) >= 3 and m
        del confirmations[:]
        try:
            ms.remove_peer(peer_id)
        except JetStreamAPIError as exc:
            if exc.err_code not in (PEER_NOT_A_MEMBER, MEMBER_CHANGE_IN_FLIGHT):  # gone already, or busy: poll again
                raise
        return False
    after = mb.wait_until(removed, p['timeout'], interval=2.0)
    if not after:
        module.fail_json(msg='%s is still a meta group member (cluster size %d) %ds after $JS.API.SERVER.REMOVE'
                             % (server, size_before, p['timeout']), **out)
    out['cluster_size']['after'] = int(after.get('cluster_size') or 0)

    # The meta leader re-places the removed peer's replicas where the placement allows; wait until no group
    # names it and every group that had it is current again.
    had = set((g['kind'], g['account'], g['stream'], g['consumer']) for g in groups if server in g['peers'])

    def settled():
        now = ms.snapshot()[1]
        out['groups_left_on_server'] = [mb.describe(g) for g in now if server in g['peers']]
        out['groups_not_current'] = [mb.describe(g) for g in now
                                     if (g['kind'], g['account'], g['stream'], g['consumer']) in had
                                     and not all(q['current'] and not q['offline'] for q in g['peers'].values())]
        return not out['groups_left_on_server'] and not out['groups_not_current']
    if not mb.wait_until(settled, p['timeout'], interval=2.0):
        module.warn('%ds after the removal: still naming %s: %s; not yet current: %s'
                    % (p['timeout'], server, ', '.join(out['groups_left_on_server']) or 'none',
                       ', '.join(out['groups_not_current']) or 'none'))


if __name__ == '__main__':
    main()
