#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: account_jwt_push
short_description: Push account JWTs to the NATS-based account resolver of running servers, or delete them
version_added: 0.2.0
description:
  - Connects as a user of the system account and sends account JWTs to every server of the (super)cluster with the
    C(full) account resolver, through C($SYS.REQ.CLAIMS.UPDATE). The servers store them in their resolver directory
    and apply them to the running account (limits, JetStream limits, revocations, signing keys...); nothing restarts.
  - Idempotent. For each account it first asks every server what its resolver holds
    (C($SYS.REQ.ACCOUNT.<account>.CLAIMS.LOOKUP)) and compares the decoded claims with the JWT's, ignoring C(iat)
    and C(jti); it pushes only when a server holds other claims, or none, or fewer servers answered than
    O(expected_servers). Check mode and diff mode show the claims the resolvers hold and the ones that would be pushed.
  - Revoking a user, or changing any account claim, is pushing the account JWT signed again with the new claims (for
    example by M(natsops.jetstream.account_jwt)).
  - With O(state=absent) it deletes the accounts from the resolvers through C($SYS.REQ.CLAIMS.DELETE), a request
    signed by the operator or one of its signing keys. Servers only delete when their resolver has C(allow_delete);
    they disconnect the account's clients and refuse its users from then on. The system account cannot be deleted.
  - Every answer within O(gather_timeout) is collected; the module fails naming each server that refused, with its
    error, and when fewer servers answered than expected (O(expected_servers), or else the number that answered the
    lookup).
  - Bad input fails before anything is sent, for example a JWT that does not verify, a JWT that is not an account JWT,
    an account JWT whose issuer is neither the operator of O(operator_jwt) nor one of its signing keys, or an expired one.
  - The C(memory) and URL resolvers do not answer these requests; with them no server answers and the module fails.
requirements:
  - nkeys >= 0.2.0 (the NATS maintainers' Python nkeys, with PyNaCl)
author: natsops maintainers (@natsops)
options:
  paths:
    description: Account JWT files (bare, as M(natsops.jetstream.account_jwt) writes them).
    type: list
    elements: path
    default: []
  jwts:
    description: Account JWTs as strings, for example the C(jwt) that M(natsops.jetstream.account_jwt) returns.
    type: list
    elements: str
    default: []
  public_keys:
    description: >-
      With O(state=absent) only, accounts to delete by public key (C(A...)), besides the accounts of O(paths) and
      O(jwts).
    type: list
    elements: str
    default: []
  state:
    description: V(present) pushes the JWTs, V(absent) deletes the accounts from the resolvers.
    type: str
    choices: [present, absent]
    default: present
  operator_jwt:
    description: >-
      The operator JWT the servers trust. Every account JWT must be signed by this operator or one of its signing keys
      (only a signing key with C(strict_signing_key_usage)); the system account it names cannot be deleted.
    type: path
    required: true
  operator_seed_file:
    description: >-
      With O(state=absent), a file with the seed (C(SO...)) of the operator or one of its signing keys (only a signing
      key with C(strict_signing_key_usage)) that signs the delete request.
    type: path
  operator_seed:
    description: The seed (C(SO...)) that signs the delete request, instead of O(operator_seed_file). Never logged.
    type: str
  expected_servers:
    description: >-
      The number of servers with the C(full) resolver: that many must answer the lookup (or the JWT is pushed again)
      and accept every push or delete, or the module fails (a server that was down gets the JWT from the other
      servers' resolvers when it is back). The answers are collected until this many arrived or O(gather_timeout)
      passed. When not set, every answer within O(gather_timeout) counts and as many must accept as answered the
      lookup. Servers with the C(cache) resolver take pushes and deletes but do not answer lookups; do not count them.
    type: int
  gather_timeout:
    description: Seconds to collect the answers of the servers to each request.
    type: float
    default: 2.0
notes:
  - O(domain) and O(api_prefix) are not used, because the resolver requests are the system account's.
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.action_group
attributes:
  check_mode:
    description: Asks the resolvers what they hold and returns what would be pushed or deleted; sends nothing else.
    support: full
  diff_mode:
    description: Per account, the claims a resolver holds and the claims pushed (without C(iat) and C(jti)).
    support: full
  idempotent:
    description: A second run with the same JWTs finds them in every resolver, reports no change and sends nothing.
    support: full
seealso:
  - module: natsops.jetstream.account_jwt
  - module: natsops.jetstream.operator_jwt
  - module: natsops.jetstream.user_jwt
'''

EXAMPLES = r'''
- name: Push the application accounts to every server (system account user)
  natsops.jetstream.account_jwt_push:
    servers: [tls://10.0.1.1:4222, tls://10.0.2.1:4222]
    tls_ca: pki/ca.crt
    creds: ~/.natsops/creds/lab/sys-admin.creds
    operator_jwt: ~/.natsops/jwt/lab/operator.jwt
    paths:
      - ~/.natsops/jwt/lab/accounts/shop.jwt
      - ~/.natsops/jwt/lab/accounts/billing.jwt
    expected_servers: 9
  delegate_to: localhost
  run_once: true

- name: Push what account_jwt just signed
  natsops.jetstream.account_jwt_push:
    creds: ~/.natsops/creds/lab/sys-admin.creds
    operator_jwt: ~/.natsops/jwt/lab/operator.jwt
    jwts: ["{{ shop_account.jwt }}"]
  delegate_to: localhost
  run_once: true

- name: Delete an account from every resolver (allow_delete must be on)
  natsops.jetstream.account_jwt_push:
    creds: ~/.natsops/creds/lab/sys-admin.creds
    operator_jwt: ~/.natsops/jwt/lab/operator.jwt
    operator_seed_file: ~/.natsops/nkeys/lab/operator-signing.nk
    public_keys: [ADU5PCQK4UDRXUH3QY4ACTIOEQSW2NGXJHBOQCIE5LYIJDZ5MUDIRGOX]
    state: absent
    expected_servers: 9
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
accounts:
  description: Per account, what was found and done.
  returned: always
  type: list
  elements: dict
  contains:
    public_key:
      description: The account's public key.
      type: str
    name:
      description: The account's name (from its JWT; empty when deleted by public key).
      type: str
    operation:
      description: What was done (or would be done in check mode).
      type: str
      choices: [pushed, unchanged, deleted, absent]
    reason:
      description: Why it was pushed or deleted.
      type: str
    changes:
      description: Claims that differ between a resolver's JWT and the pushed one (dotted paths).
      type: list
      elements: str
    lookup:
      description: How many servers answered the lookup, and how many held the same claims, other claims, none.
      type: dict
      sample: {answered: 3, current: 0, outdated: 3, missing: 0}
    servers:
      description: The servers that accepted the push or delete, with the message of each.
      type: list
      elements: dict
      sample: [{server: c1-n1, cluster: c1, message: jwt updated}]
  sample:
    - public_key: ADU5PCQK4UDRXUH3QY4ACTIOEQSW2NGXJHBOQCIE5LYIJDZ5MUDIRGOX
      name: shop
      operation: pushed
      changes: [nats.limits.streams]
'''

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt
from ansible_collections.natsops.jetstream.plugins.module_utils import _jwt_push
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    JETSTREAM_MUTUALLY_EXCLUSIVE, JETSTREAM_REQUIRED_TOGETHER, JetStreamClient, jetstream_argument_spec)


def prepare(module):
    """Every check that needs no server: the JWTs, their issuer, the delete request. Returns the accounts
    (public_key, name, token, claims) and the signed delete request (state absent)."""
    p = module.params
    operator = _jwt_push.read_operator(p['operator_jwt'])
    accounts = []
    seen = {}
    sources = [('paths[%d] (%s)' % (i, path), _nkeys_jwt.read_jwt_file(path), path) for i, path in enumerate(p['paths'])]
    sources += [('jwts[%d]' % i, token, None) for i, token in enumerate(p['jwts'])]
    for source, token, path in sources:
        if token is None:
            raise _nkeys_jwt.JwtError('%s: no such file' % source)
        claims = _jwt_push.check_account_jwt(token, source, p['operator_jwt'])
        pub = claims['sub']
        if pub in seen:
            if _nkeys_jwt.claim_changes(_nkeys_jwt.comparable(seen[pub]['claims']), _nkeys_jwt.comparable(claims)):
                raise _nkeys_jwt.JwtError('%s: account %s is given twice with different claims (also %s)'
                                          % (source, pub, seen[pub]['source']))
            continue
        seen[pub] = dict(public_key=pub, name=claims.get('name') or '', token=token.strip(), claims=claims,
                         source=source)
        accounts.append(seen[pub])
    request = None
    if p['state'] == 'absent':
        for i, key in enumerate(p['public_keys']):
            key = _nkeys_jwt.check_public_key(key.strip(), 'public_keys[%d]' % i, 'account')
            if key not in seen:
                seen[key] = dict(public_key=key, name='', token=None, claims=None, source='public_keys[%d]' % i)
                accounts.append(seen[key])
        system = operator.get('nats', {}).get('system_account')
        for acc in accounts:
            if acc['public_key'] == system:
                raise _nkeys_jwt.JwtError('%s: %s is the system account of the operator; it cannot be deleted'
                                          % (acc['source'], system))
        if accounts:
            kp = _nkeys_jwt.keypair_from_params(p, 'operator_', 'operator')
            _nkeys_jwt.operator_signer_check(p['operator_jwt'], _nkeys_jwt.public_key(kp),
                                             _nkeys_jwt.given_option(p, 'operator_'))
            request = kp
    elif p['public_keys']:
        raise _nkeys_jwt.JwtError('public_keys: only with state=absent (a push needs the account JWT)')
    if not accounts:
        more = ' or public_keys' if p['state'] == 'absent' else ''
        raise _nkeys_jwt.JwtError('no account given: set paths, jwts%s' % more)
    return accounts, request


def entry(acc, operation, summary, reason=None, changes=None, servers=None):
    lookup = dict((k, summary[k]) for k in ('answered', 'current', 'outdated', 'missing'))
    out = dict(public_key=acc['public_key'], name=acc['name'], operation=operation, lookup=lookup,
               changes=changes or [], servers=servers or [])
    if reason:
        out['reason'] = reason
    return out


def run(module, resolver, accounts, operator_kp):
    p = module.params
    results, diffs = [], []
    expected = p['expected_servers']
    for acc in accounts:
        label = 'account %s%s' % (acc['public_key'], ' (%s)' % acc['name'] if acc['name'] else '')
        summary = _jwt_push.lookup_summary(resolver.lookup(acc['public_key']), acc['claims']
                                           if p['state'] == 'present' else None)
        if not summary['answered']:
            raise _jwt_push.PushError(
                '%s: no server answered %s: connect as a user of the system account, to servers whose resolver is '
                'the NATS-based one (full); the memory and URL resolvers do not answer'
                % (label, _jwt_push.LOOKUP_SUBJECT % acc['public_key']), results)
        if p['state'] == 'present':
            after = _nkeys_jwt.comparable(acc['claims'])
            todo, reason = _jwt_push.needs_push(summary, expected)
            operation = 'pushed' if todo else 'unchanged'
        else:
            after = {}
            todo, reason = _jwt_push.needs_delete(summary, expected)
            operation = 'deleted' if todo else 'absent'
        if module._diff:
            diffs.append(dict(before=summary['before'] or {}, after=after,
                              before_header='%s in the resolvers' % label, after_header=label))
        servers = []
        if todo and not module.check_mode:
            if p['state'] == 'present':
                accepted, refused = resolver.update(acc['token'])
                what = 'pushing %s (%s)' % (label, _jwt_push.UPDATE_SUBJECT)
            else:
                accepted, refused = resolver.delete(_jwt_push.delete_request(operator_kp, [acc['public_key']]))
                what = 'deleting %s (%s)' % (label, _jwt_push.DELETE_SUBJECT)
            servers = accepted
            results.append(entry(acc, operation, summary, reason, summary['changes'], servers))
            try:
                _jwt_push.check_replies(what, accepted, refused, expected or summary['answered'])
            except _jwt_push.PushError as exc:
                results[-1]['refused'] = refused
                raise _jwt_push.PushError(str(exc), results)
        else:
            results.append(entry(acc, operation, summary, reason, summary['changes'] if todo else [], servers))
    out = dict(changed=any(r['operation'] in ('pushed', 'deleted') for r in results), accounts=results)
    if module._diff:
        out['diff'] = diffs
    return out


def main():
    argument_spec = jetstream_argument_spec()
    argument_spec.update(
        paths=dict(type='list', elements='path', default=[]),
        jwts=dict(type='list', elements='str', default=[]),
        public_keys=dict(type='list', elements='str', default=[], no_log=False),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        operator_jwt=dict(type='path', required=True),
        expected_servers=dict(type='int'),
        gather_timeout=dict(type='float', default=2.0),
    )
    argument_spec.update(_nkeys_jwt.seed_options('operator_'))
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           mutually_exclusive=JETSTREAM_MUTUALLY_EXCLUSIVE + [('operator_seed', 'operator_seed_file')],
                           required_together=JETSTREAM_REQUIRED_TOGETHER,
                           required_if=[('state', 'absent', ('operator_seed', 'operator_seed_file'), True)])
    if not _nkeys_jwt.HAS_NKEYS:
        module.fail_json(msg=missing_required_lib(_nkeys_jwt.NKEYS_REQUIREMENT), exception=_nkeys_jwt.NKEYS_IMPORT_ERROR)
    p = module.params
    if p['expected_servers'] is not None and p['expected_servers'] < 1:
        module.fail_json(msg='expected_servers: %d is not a number of servers (1 or more)' % p['expected_servers'])
    if p['gather_timeout'] <= 0:
        module.fail_json(msg='gather_timeout: %s is not a number of seconds above 0' % p['gather_timeout'])
    try:
        accounts, operator_kp = prepare(module)
    except (_nkeys_jwt.JwtError, IOError, OSError) as exc:
        module.fail_json(msg=str(exc))
    client = JetStreamClient(module)
    client.connect()
    try:
        out = run(module, _jwt_push.Resolver(client, p['gather_timeout'], p['expected_servers']), accounts,
                  operator_kp)
    except _jwt_push.PushError as exc:
        accounts_done = exc.args[1] if len(exc.args) > 1 else []
        module.fail_json(msg=exc.args[0], accounts=accounts_done)
    finally:
        client.close()
    module.exit_json(**out)


if __name__ == '__main__':
    main()
