#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: account_jwt
short_description: Ensure a NATS account JWT, signed by the operator, on the controller
version_added: 0.2.0
description:
  - Writes an account JWT signed by the operator (its identity key or a signing key) to O(path), in the claim layout
    of C(github.com/nats-io/jwt/v2) that nsc writes and nats-server reads, with limits, JetStream limits (one set or per
    replica tier), exports, imports, signing keys (plain or scoped), revocations and default permissions.
  - Idempotent. The claims of the JWT already at O(path) are decoded, its signature checked, and compared with the
    desired claims ignoring C(iat) and C(jti); the JWT is signed again only when they differ. Check mode and diff
    mode show the claim changes.
  - Bad input fails before anything is signed, naming the option and value, for example a seed of the wrong type (for example a
    user seed as O(issuer_seed)), unknown or malformed permissions, limits or subjects, an issuer that is not the
    operator of O(operator_jwt) or one of its signing keys.
  - Only writes the file. Loading it into servers (the C(memory) resolver's preload, or a push to a C(full)
    resolver) is a separate step.
  - Runs on the controller (C(delegate_to) V(localhost) or C(connection) V(local)); it does not connect to NATS.
author: natsops maintainers (@natsops)
options:
  path:
    description: The JWT file (written C(0644); a JWT holds no secret).
    type: path
    required: true
  name:
    description: The account's name (the C(name) claim).
    type: str
    required: true
  public_key:
    description: The account's public key (C(A...)), its identity. Or give O(seed_file) or O(seed).
    type: str
  seed_file:
    description: File with the account's identity seed (C(SA...)); only its public key is used.
    type: path
  seed:
    description: The account's identity seed (C(SA...)); only its public key is used. Never logged.
    type: str
  issuer_seed_file:
    description: File with the seed (C(SO...)) of the operator or of an operator signing key that signs the JWT.
    type: path
  issuer_seed:
    description: The seed (C(SO...)) of the operator or of an operator signing key. Never logged.
    type: str
  operator_jwt:
    description: >-
      The operator JWT. When given, the issuer must be the operator or one of its signing keys (only a signing key
      with C(strict_signing_key_usage)), checked before signing.
    type: path
  limits:
    description: >-
      Account limits; each one left out is unlimited (V(-1)), as nsc creates an account. C(subs), C(conn),
      C(leaf), C(imports), C(exports) (counts), C(data) and C(payload) (sizes such as V(1MiB)),
      C(wildcards) (wildcard exports allowed, default V(true)), C(disallow_bearer).
    type: dict
  jetstream:
    description: >-
      Enables JetStream for the account with these limits; each of C(mem_storage), C(disk_storage) (sizes),
      C(streams), C(consumer) left out is unlimited (V(-1)); also C(max_ack_pending), C(mem_max_stream_bytes),
      C(disk_max_stream_bytes) (sizes), C(max_bytes_required). Leave the option out to disable JetStream.
      Mutually exclusive with O(jetstream_tiers).
    type: dict
  jetstream_tiers:
    description: >-
      JetStream limits per replica tier, for example C(R1) and C(R3), each with the keys of O(jetstream). A stream
      counts against the tier of its replica count.
    type: dict
  exports:
    description: >-
      Exports. Each has C(subject) and C(type) (V(stream) or V(service)), and optionally C(name), C(token_req),
      C(response_type) (V(Singleton), V(Stream), V(Chunked)), C(response_threshold) (duration),
      C(account_token_position), C(advertise), C(allow_trace), C(description), C(info_url), C(revocations).
    type: list
    elements: dict
  imports:
    description: >-
      Imports. Each has C(subject), C(account) (the exporter's public key) and C(type), and optionally C(name),
      C(local_subject), C(token) (an activation JWT), C(share), C(allow_trace).
    type: list
    elements: dict
  signing_keys:
    description: >-
      Account signing keys that may sign user JWTs: public keys (C(A...)), or scoped keys as dictionaries with
      C(key), C(role), C(description) and C(template) (C(pub), C(sub), C(resp), C(src), C(subs), C(data),
      C(payload), C(bearer_token), C(allowed_connection_types), as in M(natsops.jetstream.user_jwt)); the server
      gives every user that a scoped key signs the template's permissions.
    type: list
    elements: raw
  revocations:
    description: >-
      Revoked users: public key (C(U...)), or V(*) for all, to a time (Unix seconds or ISO 8601 with a zone). A user
      JWT of that key issued at or before the time is refused. Use a fixed time: the claims are compared.
    type: dict
  default_permissions:
    description: >-
      Permissions of users that have none of their own: C(pub) and C(sub) (each C(allow) and C(deny) lists of
      subjects), C(resp) (C(max), C(ttl)).
    type: dict
  description:
    description: Description.
    type: str
  info_url:
    description: A URL with more information.
    type: str
extends_documentation_fragment:
  - natsops.jetstream.jwt
seealso:
  - module: natsops.jetstream.nkey
  - module: natsops.jetstream.operator_jwt
  - module: natsops.jetstream.user_jwt
'''

EXAMPLES = r'''
- name: Application account with JetStream limits per tier, a signing key and a revoked user
  natsops.jetstream.account_jwt:
    path: ~/.natsops/jwt/lab/accounts/shop.jwt
    name: shop
    seed_file: ~/.natsops/nkeys/lab/shop.nk
    issuer_seed_file: ~/.natsops/nkeys/lab/operator-signing.nk
    operator_jwt: ~/.natsops/jwt/lab/operator.jwt
    limits: {conn: 1000, payload: 1MiB}
    jetstream_tiers:
      R1: {disk_storage: 10GiB, streams: 10}
      R3: {disk_storage: 100GiB, streams: 20, consumer: 100}
    signing_keys: ["{{ shop_signing.public_key }}"]
    revocations:
      UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4: "2027-01-15T00:00:00Z"
    exports:
      - {name: orders, subject: "shop.orders.>", type: stream}
  delegate_to: localhost
  run_once: true

- name: The system account
  natsops.jetstream.account_jwt:
    path: ~/.natsops/jwt/lab/accounts/SYS.jwt
    name: SYS
    seed_file: ~/.natsops/nkeys/lab/sys.nk
    issuer_seed_file: ~/.natsops/nkeys/lab/operator.nk
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
operation:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  choices: [created, updated, unchanged]
  sample: updated
reason:
  description: Why the JWT was signed.
  returned: when signed
  type: str
changes:
  description: Claims that differ (dotted paths).
  returned: always
  type: list
  elements: str
  sample: [nats.limits.tiered_limits.R1.streams]
public_key:
  description: The account's public key (the C(sub) claim).
  returned: always
  type: str
issuer:
  description: The signer's public key (the operator or its signing key).
  returned: always
  type: str
claims:
  description: The claims after the run, without C(iat) and C(jti).
  returned: always
  type: dict
jwt:
  description: The account JWT (not in check mode when it would be signed).
  returned: when it exists
  type: str
'''

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt
from ansible_collections.natsops.jetstream.plugins.module_utils._jwt_module import run_jwt_module


def claims(p, keys):
    if p['operator_jwt']:
        _nkeys_jwt.operator_signer_check(p['operator_jwt'], keys.issuer, _nkeys_jwt.given_option(p, 'issuer_'))
    return _nkeys_jwt.account_claims(
        p['name'], keys.subject, limits=p['limits'], jetstream=p['jetstream'], jetstream_tiers=p['jetstream_tiers'],
        exports=p['exports'], imports=p['imports'], signing_keys=p['signing_keys'], revocations=p['revocations'],
        default_permissions=p['default_permissions'], description=p['description'], info_url=p['info_url'],
        tags=p['tags']), {}


def main():
    run_jwt_module('account', dict(
        operator_jwt=dict(type='path'),
        limits=dict(type='dict'),
        jetstream=dict(type='dict'),
        jetstream_tiers=dict(type='dict'),
        exports=dict(type='list', elements='dict'),
        imports=dict(type='list', elements='dict'),
        signing_keys=dict(type='list', elements='raw', no_log=False),
        revocations=dict(type='dict'),
        default_permissions=dict(type='dict'),
        description=dict(type='str'),
        info_url=dict(type='str'),
    ), claims, issuer_kind='operator', mutually_exclusive=[('jetstream', 'jetstream_tiers')])


if __name__ == '__main__':
    main()
