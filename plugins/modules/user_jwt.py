#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: user_jwt
short_description: Ensure a NATS user JWT and its .creds file on the controller
version_added: 0.2.0
description:
  - Writes a user JWT signed by its account (the account's identity key or one of its signing keys) to O(path),
    and/or the user's C(.creds) file (JWT and user seed, exactly as nsc writes it, mode C(0600)) to O(creds_path),
    which nats-py, nats.go and the NATS CLI read.
  - Idempotent. The claims of the JWT already there are decoded, its signature checked, and compared with the
    desired claims ignoring C(iat) and C(jti); the JWT is signed again only when they differ. A C(.creds) file that
    differs from the JWT and seed (or has another mode) is rewritten without signing again. Check mode and diff
    mode show the claim changes, never the seed.
  - Bad input fails before anything is signed, naming the option and value, for example a seed of the wrong type (a user seed
    as O(issuer_seed)), unknown keys or malformed subjects in O(pub), O(sub) or O(resp), an unknown connection
    type, a bad network in O(src), an O(expires) time in the past, permissions for a user of a scoped signing key.
  - Runs on the controller (C(delegate_to) V(localhost) or C(connection) V(local)); it does not connect to NATS.
author: natsops maintainers (@natsops)
options:
  path:
    description: >-
      The JWT file (written C(0600): a bearer JWT alone authenticates). At least one of O(path) and O(creds_path) is
      required.
    type: path
  creds_path:
    description: The user's C(.creds) file (written C(0600)). Needs the user's seed (O(seed_file) or O(seed)).
    type: path
  name:
    description: The user's name (the C(name) claim).
    type: str
    required: true
  public_key:
    description: The user's public key (C(U...)). Or give O(seed_file) or O(seed) (needed for O(creds_path)).
    type: str
  seed_file:
    description: File with the user's seed (C(SU...)).
    type: path
  seed:
    description: The user's seed (C(SU...)). Never logged.
    type: str
  issuer_seed_file:
    description: File with the seed (C(SA...)) of the account or of one of its signing keys, which signs the JWT.
    type: path
  issuer_seed:
    description: The seed (C(SA...)) of the account or of one of its signing keys. Never logged.
    type: str
  issuer_account:
    description: >-
      The account's public key (C(A...)) when the issuer is one of its signing keys (the C(issuer_account) claim).
      Taken from O(account_jwt) when that is given.
    type: str
  account_jwt:
    description: >-
      The account JWT. When given, the issuer must be the account or one of its signing keys (checked before
      signing), O(issuer_account) is taken from it, and a user of a scoped signing key may not set permissions or
      limits (the key's template applies).
    type: path
  pub:
    description: Publish permissions, C(allow) and C(deny) lists of subjects (wildcards allowed).
    type: dict
    suboptions:
      allow:
        description: Subjects the user may publish to.
        type: list
        elements: str
      deny:
        description: Subjects the user may not publish to.
        type: list
        elements: str
  sub:
    description: Subscribe permissions, C(allow) and C(deny) lists of subjects, each optionally with a queue group.
    type: dict
    suboptions:
      allow:
        description: Subjects (or C(subject queue)) the user may subscribe to.
        type: list
        elements: str
      deny:
        description: Subjects (or C(subject queue)) the user may not subscribe to.
        type: list
        elements: str
  resp:
    description: >-
      Allow responses to the reply subjects of requests the user received (services): C(max) responses per request
      (default V(1)) within C(ttl) (a duration; V(0) for no limit).
    type: dict
    suboptions:
      max:
        description: Responses per request (V(-1) unlimited).
        type: int
        default: 1
      ttl:
        description: How long a response may take (duration such as V(5s)).
        type: raw
        default: 0
  allowed_connection_types:
    description: Connection types the user may use; all when left out.
    type: list
    elements: str
    choices: [STANDARD, WEBSOCKET, LEAFNODE, LEAFNODE_WS, MQTT, MQTT_WS, IN_PROCESS]
  src:
    description: Networks (CIDR, or addresses) the user may connect from; any when left out.
    type: list
    elements: str
  subs:
    description: Most subscriptions (V(-1) unlimited, the default).
    type: int
  data:
    description: Most data, a size (V(-1) unlimited, the default).
    type: raw
  payload:
    description: Largest message payload, a size (V(-1) unlimited, the default).
    type: raw
  bearer_token:
    description: >-
      The JWT alone authenticates (no nonce signed with the seed). Anyone holding the JWT can connect; accounts may
      forbid it (C(disallow_bearer)).
    type: bool
    default: false
  expires:
    description: >-
      When the JWT expires: Unix seconds or an ISO 8601 date-time with a zone (V(2027-06-30T00:00:00Z)). Must be in
      the future. Use a fixed time: the claims are compared.
    type: raw
extends_documentation_fragment:
  - natsops.jetstream.jwt
seealso:
  - module: natsops.jetstream.nkey
  - module: natsops.jetstream.account_jwt
'''

EXAMPLES = r'''
- name: The orders service's user, signed by the account's signing key, with its .creds file
  natsops.jetstream.user_jwt:
    creds_path: ~/.natsops/creds/lab/shop/orders.creds
    name: orders
    seed_file: ~/.natsops/nkeys/lab/orders.nk
    issuer_seed_file: ~/.natsops/nkeys/lab/shop-signing.nk
    account_jwt: ~/.natsops/jwt/lab/accounts/shop.jwt
    pub:
      allow: ["shop.orders.>", "$JS.API.>"]
    sub:
      allow: ["_INBOX.>"]
    allowed_connection_types: [STANDARD]
    src: [10.0.0.0/8]
    expires: "2027-06-30T00:00:00Z"
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
operation:
  description: >-
    What was done (or would be done in check mode): V(rewritten) when only the C(.creds) file or the JWT file was
    written again, without signing.
  returned: always
  type: str
  choices: [created, updated, rewritten, unchanged]
  sample: created
reason:
  description: Why something was written.
  returned: when changed
  type: str
changes:
  description: Claims that differ (dotted paths).
  returned: always
  type: list
  elements: str
  sample: [nats.pub.allow]
public_key:
  description: The user's public key (the C(sub) claim).
  returned: always
  type: str
issuer:
  description: The signer's public key (the account or its signing key).
  returned: always
  type: str
claims:
  description: The claims after the run, without C(iat) and C(jti). The JWT itself is not returned.
  returned: always
  type: dict
creds_path:
  description: The C(.creds) file.
  returned: when O(creds_path) is given
  type: str
'''

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt
from ansible_collections.natsops.jetstream.plugins.module_utils._jwt_module import run_jwt_module

PERMISSION_OPTIONS = dict(
    pub=dict(type='dict', options=dict(allow=dict(type='list', elements='str'), deny=dict(type='list', elements='str'))),
    sub=dict(type='dict', options=dict(allow=dict(type='list', elements='str'), deny=dict(type='list', elements='str'))),
    resp=dict(type='dict', options=dict(max=dict(type='int', default=1), ttl=dict(type='raw', default=0))),
)


def _clean(value):
    """Drop the None values the argument spec adds for sub-options left out."""
    if isinstance(value, dict):
        return dict((k, _clean(v)) for k, v in value.items() if v is not None)
    return value


def prepare(p):
    if p['public_key'] and p['creds_path']:
        raise _nkeys_jwt.JwtError('creds_path: a .creds file holds the user seed; give seed_file or seed '
                                  'instead of public_key')


def claims(p, keys):
    issuer_account, scope = p['issuer_account'], None
    if p['account_jwt']:
        account, scope = _nkeys_jwt.account_signer_check(p['account_jwt'], keys.issuer,
                                                         _nkeys_jwt.given_option(p, 'issuer_'))
        if issuer_account and issuer_account != account:
            raise _nkeys_jwt.JwtError('issuer_account: %s is not the account of account_jwt (%s)'
                                      % (issuer_account, account))
        issuer_account = account
    if issuer_account:
        _nkeys_jwt.check_public_key(issuer_account, 'issuer_account', 'account')
    desired = _nkeys_jwt.user_claims(
        p['name'], keys.subject, keys.issuer, issuer_account=issuer_account, expires=p['expires'],
        scoped=scope is not None, tags=p['tags'], pub=_clean(p['pub']), sub=_clean(p['sub']),
        resp=_clean(p['resp']), src=p['src'], subs=p['subs'], data=p['data'], payload=p['payload'],
        bearer_token=p['bearer_token'], allowed_connection_types=p['allowed_connection_types'])
    return desired, dict(creds_path=p['creds_path'], user_kp=keys.subject_kp, jwt_mode=0o600)


def main():
    spec = dict(
        path=dict(type='path'),
        creds_path=dict(type='path'),
        issuer_account=dict(type='str'),
        account_jwt=dict(type='path'),
        allowed_connection_types=dict(type='list', elements='str', choices=_nkeys_jwt.CONNECTION_TYPES),
        src=dict(type='list', elements='str'),
        subs=dict(type='int'),
        data=dict(type='raw'),
        payload=dict(type='raw'),
        bearer_token=dict(type='bool', default=False),
        expires=dict(type='raw'),
    )
    spec.update(PERMISSION_OPTIONS)
    run_jwt_module('user', spec, claims, issuer_kind='account', prepare=prepare,
                   required_one_of=[('path', 'creds_path')])


if __name__ == '__main__':
    main()
