#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: stream_restore
short_description: Restore a JetStream stream from a backup made by stream_backup or the NATS CLI
version_added: 0.1.0
description:
  - Verifies the backup's manifest checksum first; a corrupt backup is refused and nothing is created.
  - Restores through the JetStream restore API, optionally into another cluster or with other replicas, waits until
    every replica is current, and checks the restored state against the manifest.
  - Refuses to overwrite an existing stream unless O(replace=true); check mode then reports what would be lost.
author: natsops maintainers (@natsops)
options:
  src:
    description: Backup directory (with C(manifest.json), C(backup.json) and C(stream.tar.s2)).
    type: path
    required: true
  placement:
    description: Placement of the restored stream (C(cluster), C(tags)); the backup's placement when unset.
    type: dict
  replicas:
    description: Replicas of the restored stream; the backup's when unset.
    type: int
  replace:
    description: Delete an existing stream of the same name first (its data is lost).
    type: bool
    default: false
  chunk_size:
    description: Bytes sent per restore request (at most the server's max_payload).
    type: int
    default: 131072
  timeout:
    description: Seconds to wait for the server to finish the restore.
    type: int
    default: 3600
  wait_timeout:
    description: Seconds to wait for every replica to become current after the restore.
    type: int
    default: 120
extends_documentation_fragment:
  - natsops.jetstream.connection
attributes:
  check_mode:
    description: Verifies the backup and reports what would be restored and replaced.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
  action_group:
    description: Use C(group/natsops.jetstream.jetstream) in C(module_defaults) to set the connection once.
    support: full
    membership: [natsops.jetstream.jetstream]
seealso:
  - module: natsops.jetstream.stream_backup
'''

EXAMPLES = r'''
- name: Restore ORDERS into cluster c2 with three replicas
  natsops.jetstream.stream_restore:
    src: /srv/nats-backups/2026-11-22T0200Z/ORDERS
    placement:
      cluster: c2
    replicas: 3
  delegate_to: localhost
'''

RETURN = r'''
stream:
  description: Name of the restored stream.
  returned: always
  type: str
state:
  description: State of the restored stream (messages, bytes, first_seq, last_seq, consumer_count).
  returned: success, not in check mode
  type: dict
cluster:
  description: Cluster, leader and replicas of the restored stream.
  returned: success, not in check mode, clustered
  type: dict
replaced_messages:
  description: Messages of the existing stream that were (or would be) deleted by O(replace).
  returned: always
  type: int
mb_per_s:
  description: Restore throughput in MB/s (upload and server-side restore).
  returned: success, not in check mode
  type: float
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    JetStreamAPIError, JetStreamClient, jetstream_argument_spec, nats_common_module_kwargs)
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream_resources import MIN_VERSION
from ansible_collections.natsops.jetstream.plugins.module_utils._snapshot import (
    SnapshotError, read_backup, restore, wait_current)


def target_config(config, placement, replicas, version):
    cfg = dict(config)
    cfg['metadata'] = dict((k, v) for k, v in (cfg.get('metadata') or {}).items() if not k.startswith('_nats.'))
    if not cfg['metadata']:
        cfg.pop('metadata')
    if placement is not None:
        cfg['placement'] = placement
    if replicas is not None:
        cfg['num_replicas'] = replicas
    for field, minimum in MIN_VERSION.items():
        if field in cfg and version < minimum:
            if cfg[field] in (None, False, 0, '', 'default', [], {}):
                cfg.pop(field)
            else:
                raise SnapshotError('the backup uses %s, which nats-server %s does not support (needs %s)'
                                    % (field, '.'.join(map(str, version)), '.'.join(map(str, minimum))))
    return cfg


def main():
    argument_spec = jetstream_argument_spec()
    argument_spec.update(
        src=dict(type='path', required=True),
        placement=dict(type='dict'),
        replicas=dict(type='int'),
        replace=dict(type='bool', default=False),
        chunk_size=dict(type='int', default=128 * 1024),
        timeout=dict(type='int', default=3600),
        wait_timeout=dict(type='int', default=120),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **nats_common_module_kwargs())
    p = module.params
    if p['replicas'] is not None and not 1 <= p['replicas'] <= 5:
        module.fail_json(msg='replicas: %d is not allowed; JetStream supports 1 to 5 replicas' % p['replicas'])
    try:
        manifest, meta = read_backup(p['src'].rstrip('/'))
    except (SnapshotError, IOError, OSError, ValueError) as exc:
        module.fail_json(msg='cannot restore from %s: %s' % (p['src'], exc))
    name = meta['config']['name']
    if name != manifest['stream']:
        module.fail_json(msg='backup.json names stream %s but the manifest %s' % (name, manifest['stream']))

    client = JetStreamClient(module)
    client.connect()
    replaced = 0
    try:
        cfg = target_config(meta['config'], p['placement'], p['replicas'], client.server_version())
        try:
            existing = client.api('STREAM.INFO.%s' % name)
        except JetStreamAPIError as exc:
            if exc.err_code != 10059:
                raise
            existing = None
        if existing:
            replaced = (existing.get('state') or {}).get('messages', 0)
            if not p['replace']:
                module.fail_json(msg='stream %s already exists with %d messages; set replace: true to delete it and '
                                 'restore the backup in its place' % (name, replaced), replaced_messages=replaced)
        if module.check_mode:
            module.exit_json(changed=True, stream=name, replaced_messages=replaced, manifest=manifest)
        if existing:
            client.api('STREAM.DELETE.%s' % name)
        start = time.time()
        result = restore(client, p['src'], cfg, meta['state'], chunk_size=p['chunk_size'], timeout=p['timeout'])
        duration = time.time() - start
        info = wait_current(client, name, timeout=p['wait_timeout'])
        state = info.get('state') or {}
        mismatched = [k for k in ('messages', 'first_seq', 'last_seq') if state.get(k) != manifest.get(k)]
        if mismatched:
            module.fail_json(msg='restored stream %s does not match the backup: %s' % (
                name, ', '.join('%s %s (backup %s)' % (k, state.get(k), manifest.get(k)) for k in mismatched)),
                state=state)
    except SnapshotError as exc:
        module.fail_json(msg='restore of stream %s failed: %s' % (name, exc))
    except JetStreamAPIError as exc:
        module.fail_json(msg='restore of stream %s failed: %s' % (name, exc), err_code=exc.err_code)
    finally:
        client.close()
    out = dict(changed=True, stream=name, state=state, replaced_messages=replaced,
               mb_per_s=round(manifest['bytes'] / 1e6 / max(duration, 0.001), 1))
    if info.get('cluster'):
        out['cluster'] = info['cluster']
    module.exit_json(**out)


if __name__ == '__main__':
    main()
