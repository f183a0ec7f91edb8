#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: operator_jwt
short_description: Ensure a NATS operator JWT on the controller
version_added: 0.2.0
description:
  - Writes the operator's JWT (self-signed by the operator's identity key) to O(path), in the claim layout of
    C(github.com/nats-io/jwt/v2) that nsc writes and nats-server reads (C(operator) in the server configuration).
  - Idempotent. The claims of the JWT already at O(path) are decoded, its signature checked, and compared with the
    desired claims ignoring C(iat) and C(jti); the JWT is signed again only when they differ (or the file is missing
    or does not verify). Check mode and diff mode show the claim changes.
  - Bad input (a seed of the wrong type, malformed public keys or URLs) fails before anything is signed.
  - Runs on the controller (C(delegate_to) V(localhost) or C(connection) V(local)); it does not connect to NATS.
author: natsops maintainers (@natsops)
options:
  path:
    description: The JWT file (written C(0644); a JWT holds no secret).
    type: path
    required: true
  name:
    description: The operator's name (the C(name) claim).
    type: str
    required: true
  seed_file:
    description: File with the operator's identity seed (C(SO...)), as the M(natsops.jetstream.nkey) module writes it.
    type: path
  seed:
    description: The operator's identity seed (C(SO...)), for example from Ansible Vault. Never logged.
    type: str
  signing_keys:
    description: >-
      Public keys (C(O...)) of operator signing keys; accounts may be signed by any of them. Order does not matter.
    type: list
    elements: str
  system_account:
    description: Public key (C(A...)) of the system account.
    type: str
  operator_service_urls:
    description: URLs (C(nats://), C(tls://), C(ws://), C(wss://)) of the operator's servers, for tools such as nsc.
    type: list
    elements: str
  account_server_url:
    description: URL of an account server (C(http(s)://) or C(nats://)), for nsc push.
    type: str
  strict_signing_key_usage:
    description: Accounts must be signed by a signing key, not by the identity key. Needs O(signing_keys).
    type: bool
    default: false
extends_documentation_fragment:
  - natsops.jetstream.jwt
seealso:
  - module: natsops.jetstream.nkey
  - module: natsops.jetstream.account_jwt
  - module: natsops.jetstream.user_jwt
'''

EXAMPLES = r'''
- name: Operator JWT with a signing key and the system account
  natsops.jetstream.operator_jwt:
    path: ~/.natsops/jwt/lab/operator.jwt
    name: lab
    seed_file: ~/.natsops/nkeys/lab/operator.nk
    signing_keys: ["{{ operator_signing.public_key }}"]
    system_account: "{{ sys_account.public_key }}"
    operator_service_urls: ["nats://c1-n1:4222"]
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
  sample: claims changed
changes:
  description: Claims that differ (dotted paths).
  returned: always
  type: list
  elements: str
  sample: [nats.system_account]
public_key:
  description: The operator's public key (the C(sub) claim).
  returned: always
  type: str
issuer:
  description: The signer's public key.
  returned: always
  type: str
claims:
  description: The claims after the run, without C(iat) and C(jti).
  returned: always
  type: dict
jwt:
  description: The operator JWT (not in check mode when it would be signed).
  returned: when it exists
  type: str
'''

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt
from ansible_collections.natsops.jetstream.plugins.module_utils._jwt_module import run_jwt_module


def claims(p, keys):
    return _nkeys_jwt.operator_claims(
        p['name'], keys.subject, signing_keys=p['signing_keys'], system_account=p['system_account'],
        operator_service_urls=p['operator_service_urls'], account_server_url=p['account_server_url'],
        strict_signing_key_usage=p['strict_signing_key_usage'], tags=p['tags']), {}


def main():
    run_jwt_module('operator', dict(
        signing_keys=dict(type='list', elements='str', no_log=False),
        system_account=dict(type='str'),
        operator_service_urls=dict(type='list', elements='str'),
        account_server_url=dict(type='str'),
        strict_signing_key_usage=dict(type='bool', default=False),
    ), claims)


if __name__ == '__main__':
    main()
