#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: node_files
short_description: Place a node's directories and files, with owners, modes, validation and backups, in one run
version_added: 0.3.0
description:
  - Ensures directories, then files, on the managed node, each with its owner, group and mode, in one module run
    instead of one task (and several round trips) per file. The server role places a node's directories, its TLS
    certificate, key and CA, its C(nats-server.conf) and its systemd unit with it.
  - A file whose content differs is written to a temporary file in the same directory, given its owner, group and
    mode, checked with O(files[].validate) when set, and renamed over the old file, so the live file is never
    half-written and a private key is never readable by anyone else, not even for a moment.
  - A file whose content is right but whose owner, group or mode is not is corrected in place.
  - Content given as O(files[].secret_content) is never logged and never shown in a diff; use it for private keys
    and for configuration that holds passwords.
author: natsops maintainers (@natsops)
options:
  directories:
    description: Directories to create (with their parents) or correct, before any file is placed.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The directory.
        type: path
        required: true
      owner:
        description: Owner name.
        type: str
      group:
        description: Group name.
        type: str
      mode:
        description: Mode, as an octal string such as V(0750).
        type: str
  files:
    description: Files to place, in order.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: The file on the node. Its directory must exist (or be listed in O(directories)).
        type: path
        required: true
      content:
        description: The file's whole content. Shown in the diff when it changes.
        type: str
      secret_content:
        description: The file's whole content, never logged and never shown in a diff.
        type: str
      owner:
        description: Owner name.
        type: str
      group:
        description: Group name.
        type: str
      mode:
        description: Mode, as an octal string such as V(0640).
        type: str
      diff:
        description: Show this file's changes in diff mode (V(false) for certificates, whose text says nothing).
        type: bool
        default: true
      validate:
        description:
          - Command that must succeed on the new content before it replaces the file; V(%s) stands for the
            temporary file, e.g. V(/usr/local/bin/nats-server -t -c %s). Not run in check mode.
        type: str
  backup:
    description:
      - Keep a copy of every file whose content is replaced, beside it, and return its path as C(backup_file).
        The server role's canary uses the copies to put its previous files back when the change fails.
    type: bool
    default: false
attributes:
  check_mode:
    description: Reports what would change and changes nothing; validation commands do not run.
    support: full
  diff_mode:
    description: Returns a diff for each changed file given with O(files[].content) and O(files[].diff).
    support: full
'''

EXAMPLES = r'''
- name: Place the TLS directory, the node's key and its configuration (checked before it replaces the live file)
  natsops.jetstream.node_files:
    directories:
      - {path: /etc/nats-server/tls, owner: root, group: nats, mode: "0750"}
    files:
      - dest: /etc/nats-server/tls/tls.key
        secret_content: "{{ lookup('ansible.builtin.file', 'pki/c1-n1/tls.key', rstrip=false) }}"
        owner: nats
        group: nats
        mode: "0600"
      - dest: /etc/nats-server/nats-server.conf
        content: "{{ lookup('ansible.builtin.template', 'nats-server.conf.j2') }}"
        owner: root
        group: nats
        mode: "0640"
        validate: /usr/local/bin/nats-server -t -c %s
'''

RETURN = r'''
results:
  description: One entry per file of O(files), in order.
  returned: always
  type: list
  elements: dict
  contains:
    dest:
      description: The file.
      type: str
    changed:
      description: Whether its content, owner, group or mode changed.
      type: bool
    content_changed:
      description: Whether its content changed (a new file counts).
      type: bool
    existed:
      description: Whether the file existed before.
      type: bool
    backup_file:
      description: The copy of the replaced file (with O(backup) only, when its content was replaced).
      type: str
      returned: when a backup was made
    owner:
      description: The owner asked for.
      type: str
    group:
      description: The group asked for.
      type: str
    mode:
      description: The mode asked for.
      type: str
  sample: [{dest: /etc/nats-server/nats-server.conf, changed: true, content_changed: true, existed: true,
            backup_file: /etc/nats-server/nats-server.conf.123.2026-12-04@13:00:00~, owner: root, group: nats,
            mode: '0640'}]
directories:
  description: The directories that were created or corrected.
  returned: always
  type: list
  elements: str
  sample: [/etc/nats-server/tls]
'''

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text


def _attrs(path, item):
    return {'path': path, 'owner': item.get('owner'), 'group': item.get('group'), 'mode': item.get('mode'),
            'attributes': None, 'secontext': [None, None, None]}


def _directory(module, item):
    path = item['path']
    changed = False
    if not os.path.isdir(path):
        if os.path.lexists(path):
            module.fail_json(msg='%s exists and is not a directory' % path)
        changed = True
        if module.check_mode:
            return True
        os.makedirs(path)
    return module.set_fs_attributes_if_different(_attrs(path, item), changed)


def _write_new(module, item, data):
    """The new content in a temporary file beside dest, with dest's owner, group and mode, validated."""
    dest = item['dest']
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix='.%s.' % os.path.basename(dest))
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        module.set_fs_attributes_if_different(_attrs(tmp, item), False)
        if item.get('validate'):
            if '%s' not in item['validate']:
                raise ValueError('files[].validate of %s must contain %%s (the file to check)' % dest)
            rc, out, err = module.run_command(item['validate'] % tmp)
            if rc != 0:
                raise ValueError('%s: the new content failed validation (%s, exit code %d): %s'
                                 % (dest, item['validate'], rc, (err or out).strip()[-2000:]))
    except Exception:
        os.unlink(tmp)
        raise
    return tmp


def _file(module, item, backup, diffs):
    dest = item['dest']
    secret = item.get('secret_content') is not None
    text = item['secret_content'] if secret else item['content']
    data = to_bytes(text, errors='surrogate_or_strict')
    if os.path.isdir(dest):
        module.fail_json(msg='%s is a directory, not a file' % dest)
    existed = os.path.lexists(dest)
    old = None
    if existed:
        with open(dest, 'rb') as handle:
            old = handle.read()
    result = {'dest': dest, 'existed': existed, 'content_changed': old != data,
              'owner': item.get('owner'), 'group': item.get('group'), 'mode': item.get('mode')}
    if result['content_changed']:
        if not secret and item['diff'] and module._diff:
            diffs.append({'before_header': dest, 'after_header': dest,
                          'before': to_text(old, errors='surrogate_or_replace') if old is not None else '',
                          'after': text})
        if not module.check_mode:
            tmp = _write_new(module, item, data)
            if backup and existed:
                result['backup_file'] = module.backup_local(dest)
            os.rename(tmp, dest)
        result['changed'] = True
    else:
        result['changed'] = module.set_fs_attributes_if_different(_attrs(dest, item), False)
    return result


def main():
    entry = dict(owner=dict(type='str'), group=dict(type='str'), mode=dict(type='str'))
    module = AnsibleModule(
        argument_spec=dict(
            directories=dict(type='list', elements='dict', default=[],
                             options=dict(entry, path=dict(type='path', required=True))),
            files=dict(type='list', elements='dict', default=[],
                       options=dict(entry, dest=dict(type='path', required=True), content=dict(type='str'),
                                    secret_content=dict(type='str', no_log=True), validate=dict(type='str'),
                                    diff=dict(type='bool', default=True)),
                       mutually_exclusive=[('content', 'secret_content')],
                       required_one_of=[('content', 'secret_content')]),
            backup=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    try:
        directories = [d['path'] for d in module.params['directories'] if _directory(module, d)]
        diffs = []
        results = [_file(module, f, module.params['backup'], diffs) for f in module.params['files']]
    except (OSError, IOError, ValueError) as exc:
        module.fail_json(msg=to_native(exc))
    changed = bool(directories) or any(r['changed'] for r in results)
    module.exit_json(changed=changed, results=results, directories=directories, diff=diffs)


if __name__ == '__main__':
    main()
