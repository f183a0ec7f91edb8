# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  servers:
    description:
      - NATS server URLs to connect to (C(nats://host:4222), or C(tls://host:4222) for TLS).
      - The module tries them in order; an unreachable server list fails within a few seconds.
    type: list
    elements: str
    default: ['nats://127.0.0.1:4222']
  tls_ca:
    description: CA certificate file that signed the servers' certificates.
    type: path
  tls_cert:
    description: Client certificate file (mTLS). Requires O(tls_key).
    type: path
  tls_key:
    description: Private key of O(tls_cert).
    type: path
  tls_server_name:
    description: Name to verify in the server certificate (and send as SNI) when connecting by IP address.
    type: str
  creds:
    description: NATS credentials file (JWT and NKey seed) for decentralised auth.
    type: path
  nkey_seed:
    description: File holding a user NKey seed.
    type: path
  user:
    description: User name for password authentication. Requires O(password).
    type: str
  password:
    description: Password of O(user).
    type: str
  token:
    description: Authentication token.
    type: str
  domain:
    description: JetStream domain to manage (uses the C($JS.<domain>.API) prefix). Mutually exclusive with O(api_prefix).
    type: str
  api_prefix:
    description: Explicit JetStream API prefix, for example C($JS.hub.API) or an imported account's prefix.
    type: str
  connect_timeout:
    description: Seconds to wait for each connection attempt.
    type: float
    default: 5.0
  request_timeout:
    description: Seconds to wait for each JetStream API reply.
    type: float
    default: 10.0
requirements:
  - nats-py >= 2.9 (and nkeys for O(creds)/O(nkey_seed)) on the host that runs the module
notes:
  - >-
    The module runs where Ansible runs it; the documented default is the controller (C(delegate_to: localhost)).
    Set the connection once per play with C(module_defaults: group/natsops.jetstream.jetstream).
'''
