#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: nkey
short_description: Ensure an operator, account or user nkey seed file on the controller
version_added: 0.2.0
description:
  - Ensures a seed file of an nkey (the Ed25519 identity of a NATS operator, account or user, or an operator or
    account signing key) exists with mode C(0600) in a directory of mode C(0700), and returns its public key.
  - A new seed comes from the operating system's random source through the C(nkeys) package of the NATS
    maintainers. An existing file is kept; a file holding a seed of another type is refused, never overwritten.
  - The seed is never printed or returned; O(seed) is C(no_log). Run it on the controller
    (C(delegate_to) V(localhost) or C(connection) V(local)) and keep the directory outside the repository, or bring
    seeds from a vault with O(seed).
requirements:
  - nkeys >= 0.2.0 (the NATS maintainers' Python nkeys, with PyNaCl)
author: natsops maintainers (@natsops)
options:
  name:
    description: Name of the key; the file is C(<dir>/<name>.nk). Required unless O(path) is given.
    type: str
  type:
    description: >-
      Type of the key: V(operator) (seed C(SO...), public key C(O...)), V(account) (C(SA...), C(A...)) or V(user)
      (C(SU...), C(U...)). Operator signing keys are operator keys, account signing keys account keys.
    type: str
    choices: [operator, account, user]
    required: true
  dir:
    description: Directory of the seed files on the controller (created C(0700)).
    type: path
    default: ~/.natsops/nkeys
  path:
    description: Full path of the seed file, instead of O(dir) and O(name).
    type: path
  seed:
    description: >-
      A seed to store instead of generating one (for example from Ansible Vault). Its type must be O(type). A file
      holding another seed is replaced (RV(operation=updated)).
    type: str
attributes:
  check_mode:
    description: Reports whether the file would be created, replaced or its mode fixed; writes nothing.
    support: full
  diff_mode:
    description: Shows the path, type, public key and mode before and after, never the seed.
    support: full
  idempotent:
    description: A second run with the same options reports no change and writes nothing.
    support: full
seealso:
  - module: natsops.jetstream.operator_jwt
  - module: natsops.jetstream.account_jwt
  - module: natsops.jetstream.user_jwt
'''

EXAMPLES = r'''
- name: The operator's identity and a signing key
  natsops.jetstream.nkey:
    name: "{{ item.name }}"
    type: operator
    dir: ~/.natsops/nkeys/lab
  loop:
    - {name: operator}
    - {name: operator-signing}
  delegate_to: localhost
  run_once: true
  register: operator_keys

- name: An application account's identity, from the vault
  natsops.jetstream.nkey:
    name: shop
    type: account
    dir: ~/.natsops/nkeys/lab
    seed: "{{ vault_shop_account_seed }}"
  delegate_to: localhost
  run_once: true
'''

RETURN = r'''
public_key:
  description: >-
    The public key (C(O...), C(A...) or C(U...)). Not returned in check mode when a new seed would be generated.
  returned: success
  type: str
  sample: ABJUMDAWD3ZUGUMMLUZ5LCN3SWGEPCC5TTE3ZYTUCN6NYK4FMAW5JRVE
path:
  description: The seed file.
  returned: always
  type: str
  sample: /home/ops/.natsops/nkeys/lab/shop.nk
operation:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  choices: [created, updated, mode, unchanged]
  sample: created
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str'),
            type=dict(type='str', required=True, choices=['operator', 'account', 'user']),
            dir=dict(type='path', default='~/.natsops/nkeys'),
            path=dict(type='path'),
            seed=dict(type='str', no_log=True),
        ),
        required_one_of=[('name', 'path')],
        supports_check_mode=True,
    )
    if not _nkeys_jwt.HAS_NKEYS:
        module.fail_json(msg=missing_required_lib(_nkeys_jwt.NKEYS_REQUIREMENT), exception=_nkeys_jwt.NKEYS_IMPORT_ERROR)
    p = module.params
    kind = p['type']
    if p['name'] is not None and (not p['name'] or '/' in p['name'] or p['name'] in ('.', '..')):
        module.fail_json(msg='name: %r is not a file name (no slashes)' % p['name'])
    path = p['path'] or os.path.join(p['dir'], p['name'] + '.nk')
    result = dict(changed=False, path=path, operation='unchanged')
    try:
        wanted = _nkeys_jwt.keypair(p['seed'], 'seed', kind) if p['seed'] else None
        current = None
        if os.path.exists(path):
            current = _nkeys_jwt.read_seed_file(path, 'the seed file', kind)
        before = dict(path=path, type=kind, public_key=_nkeys_jwt.public_key(current),
                      mode='%04o' % _nkeys_jwt.file_mode(path)) if current else {}
        write = None
        if current is None:
            write = wanted or _nkeys_jwt.keypair(_nkeys_jwt.create_seed(kind), 'new seed', kind)
            result['operation'] = 'created'
        elif wanted is not None and _nkeys_jwt.public_key(wanted) != _nkeys_jwt.public_key(current):
            write = wanted
            result['operation'] = 'updated'
        elif _nkeys_jwt.file_mode(path) != 0o600:
            result['operation'] = 'mode'
        final = write or current
        if not (module.check_mode and result['operation'] == 'created' and wanted is None):
            result['public_key'] = _nkeys_jwt.public_key(final)
        result['changed'] = result['operation'] != 'unchanged'
        if module._diff:
            result['diff'] = dict(before=before, after=dict(path=path, type=kind,
                                                            public_key=result.get('public_key', '(new key)'),
                                                            mode='0600'))
        if result['changed'] and not module.check_mode:
            directory = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(directory):
                os.makedirs(directory, 0o700)
            if write is not None:
                _nkeys_jwt.write_file(path, final.seed.decode('ascii') + '\n', 0o600)
            else:
                os.chmod(path, 0o600)
    except _nkeys_jwt.JwtError as exc:
        module.fail_json(msg='nkey %s: %s' % (path, exc), **result)
    except (IOError, OSError) as exc:
        module.fail_json(msg='nkey %s: %s' % (path, exc), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
