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
      - When not set, the E(NATS_URL) environment variable (comma-separated), then the default.
    type: list
    elements: str
    default: ['nats://127.0.0.1:4222']
  tls_ca:
    description: CA certificate file that signed the servers' certificates. When not set, E(NATS_CA).
    type: path
  tls_cert:
    description: Client certificate file (mTLS). Requires O(tls_key). When not set, E(NATS_CERT).
    type: path
  tls_key:
    description: Private key of O(tls_cert). When not set, E(NATS_KEY).
    type: path
  tls_server_name:
    description: Name to verify in the server certificate (and send as SNI) when connecting by IP address.
    type: str
  creds:
    description: NATS credentials file (JWT and NKey seed) for decentralised auth. When not set, E(NATS_CREDS).
    type: path
  nkey_seed:
    description: File holding a user NKey seed. When not set, E(NATS_NKEY).
    type: path
  user:
    description: User name for password authentication. Requires O(password). When not set, E(NATS_USER).
    type: str
  password:
    description: Password of O(user). When not set, E(NATS_PASSWORD).
    type: str
  token:
    description: Authentication token. When not set, E(NATS_TOKEN).
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
  - Connection options left out are read from the NATS CLI's environment variables (E(NATS_URL), E(NATS_CA),
    E(NATS_CERT), E(NATS_KEY), E(NATS_CREDS), E(NATS_NKEY), E(NATS_USER), E(NATS_PASSWORD), E(NATS_TOKEN)) of the
    process that runs the module, which is what an AWX credential of this collection injects; a value given to
    the module always wins.
  - >-
    The module runs where Ansible runs it; the documented default is the controller (C(delegate_to: localhost)).
    Set the connection once per play with C(module_defaults: group/natsops.jetstream.jetstream).
'''
