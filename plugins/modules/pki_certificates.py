#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: pki_certificates
short_description: Ensure a supercluster's CA, node certificates and client identities in one step
version_added: 0.2.0
description:
  - Runs on the controller (the C(natsops.jetstream.pki) role calls it once per play). Creates the CA once (or uses
    a brought one), then for every leaf (node or client identity) ensures a key (0600) and a certificate signed by the
    CA, re-issued only when its subject alternative names, key usages, CA or client bundle changed, when a file is
    missing or changed, or when it enters the renewal window. An unchanged leaf costs two small file reads.
  - Each leaf directory holds C(tls.key), C(tls.crt), C(ca.crt) and C(state.json) (what the certificate was made
    for); client identities also get C(nats.env) and a NATS CLI C(context.json) (both 0600).
requirements:
  - cryptography
author: natsops maintainers (@natsops)
options:
  dir:
    description: PKI directory on the controller (made 0700). Leaves go to C(servers/<name>) and C(clients/<name>).
    type: path
    required: true
  name:
    description: Name of this PKI (in the CLI contexts' description).
    type: str
    default: nats
  ca_common_name:
    description: Subject common name of a generated CA.
    type: str
    default: natsops CA
  ca_valid_days:
    description: Validity of a generated CA.
    type: int
    default: 3650
  ca_cert_path:
    description: A brought CA certificate to sign with (with O(ca_key_path)); empty to generate one in O(dir).
    type: path
  ca_key_path:
    description: The brought CA's private key.
    type: path
  key_type:
    description: Key type of generated keys.
    type: str
    choices: [ECC, RSA]
    default: ECC
  key_curve:
    description: Curve of ECC keys.
    type: str
    choices: [secp256r1, secp384r1, secp521r1]
    default: secp256r1
  valid_days:
    description: Validity of leaf certificates (never beyond the CA's).
    type: int
    default: 365
  renew_days:
    description: Re-issue a leaf certificate that expires within this many days.
    type: int
    default: 30
  leaves:
    description: The node certificates and client identities.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Common name and directory name.
        type: str
        required: true
      kind:
        description: V(server) (a node, under C(servers/)) or V(client) (an identity, under C(clients/)).
        type: str
        choices: [server, client]
        required: true
      sans:
        description: Subject alternative names, each C(DNS:name) or C(IP:address).
        type: list
        elements: str
        required: true
      eku:
        description: Extended key usages.
        type: list
        elements: str
        choices: [serverAuth, clientAuth]
        required: true
      bundle:
        description: Write C(nats.env) and C(context.json) for clients.
        type: bool
        default: false
      url:
        description: Server URL written into the client bundle.
        type: str
        default: ''
attributes:
  check_mode:
    description: Reports which leaves would be issued and why; writes nothing.
    support: full
  diff_mode:
    description: No diff; RV(leaves) gives each leaf's action and reason.
    support: none
'''

EXAMPLES = r'''
- name: CA, three node certificates and an admin identity
  natsops.jetstream.pki_certificates:
    dir: ~/.natsops/pki/lab
    leaves:
      - {name: c1-n1, kind: server, sans: ["DNS:c1-n1", "IP:10.0.1.1"], eku: [serverAuth, clientAuth]}
      - {name: admin, kind: client, sans: ["DNS:admin"], eku: [clientAuth], bundle: true, url: "tls://c1-n1:4222"}
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
ca:
  description: V(created), V(existing) or V(byo).
  returned: always
  type: str
leaves:
  description: Per leaf name, V(current) or V(issued) with the reason.
  returned: always
  type: dict
  sample: {c1-n1: {action: current}, admin: {action: issued, reason: subject alternative names changed}}
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.natsops.jetstream.plugins.module_utils import _pki


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dir=dict(type='path', required=True),
            name=dict(type='str', default='nats'),
            ca_common_name=dict(type='str', default='natsops CA'),
            ca_valid_days=dict(type='int', default=3650),
            ca_cert_path=dict(type='path'),
            ca_key_path=dict(type='path', no_log=False),
            key_type=dict(type='str', default='ECC', choices=['ECC', 'RSA']),
            key_curve=dict(type='str', default='secp256r1', choices=['secp256r1', 'secp384r1', 'secp521r1']),
            valid_days=dict(type='int', default=365),
            renew_days=dict(type='int', default=30),
            leaves=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                kind=dict(type='str', required=True, choices=['server', 'client']),
                sans=dict(type='list', elements='str', required=True),
                eku=dict(type='list', elements='str', required=True, choices=['serverAuth', 'clientAuth']),
                bundle=dict(type='bool', default=False),
                url=dict(type='str', default=''),
            )),
        ),
        required_together=[('ca_cert_path', 'ca_key_path')],
        supports_check_mode=True,
    )
    if not _pki.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib('cryptography'), exception=_pki.CRYPTOGRAPHY_IMPORT_ERROR)
    p = module.params
    pki = _pki.Pki(p['dir'], key_type=p['key_type'], curve=p['key_curve'], check_mode=module.check_mode)
    out = dict(changed=False, leaves={})
    try:
        for sub in ('', 'servers', 'clients'):
            path = os.path.join(p['dir'], sub)
            if not os.path.isdir(path) and not module.check_mode:
                os.makedirs(path, 0o700)
        out['ca'] = pki.ensure_ca(p['ca_common_name'], p['ca_valid_days'], p['ca_cert_path'], p['ca_key_path'])
        if out['ca'] == 'created':
            out['changed'] = True
        if module.check_mode and out['ca'] == 'created':
            out['leaves'] = dict((leaf['name'], dict(action='issued', reason='new CA')) for leaf in p['leaves'])
            module.exit_json(**out)
        for leaf in p['leaves']:
            leaf_dir = os.path.join(p['dir'], 'servers' if leaf['kind'] == 'server' else 'clients', leaf['name'])
            why = pki.leaf_state(leaf_dir, leaf['sans'], leaf['eku'], leaf['bundle'], leaf['url'], p['renew_days'])
            if why == 'current':
                out['leaves'][leaf['name']] = dict(action='current')
                continue
            out['changed'] = True
            out['leaves'][leaf['name']] = dict(action='issued', reason=why)
            if not module.check_mode:
                pki.issue(leaf_dir, leaf['name'], leaf['sans'], leaf['eku'], p['valid_days'], leaf['bundle'],
                          leaf['url'], p['name'])
    except (_pki.PkiError, IOError, OSError, ValueError) as exc:
        module.fail_json(msg='PKI in %s: %s' % (p['dir'], exc), **out)
    module.exit_json(**out)


if __name__ == '__main__':
    main()
