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
  - Reads a backup made by M(natsops.jetstream.stream_backup) (with C(manifest.json)) or by the NATS CLI
    (C(nats stream backup) or C(nats backup stream), which write only C(backup.json) and the archive).
  - With C(manifest.json), verifies the archive's SHA-256 and size against it first; a corrupt backup is refused and
    nothing is created. Backups made before the archive was named per server version (C(stream.tar.s2) from any
    server) restore as before.
  - Without C(manifest.json) (a NATS CLI backup), C(backup.json) must be complete (the CLI writes it last, an
    interrupted CLI backup leaves it empty) and the directory must hold exactly one archive, C(stream.arc.s2)
    (natscli v0.5.0 with nats-server 2.15 or later) or C(stream.tar.s2) (older servers); a directory holding both
    is refused.
  - Restores through the JetStream restore API, optionally into another cluster or with other replicas, waits until
    every replica is current, and checks the restored stream's messages, first and last sequence and bytes against
    the state recorded in C(backup.json) (and the manifest's message count and sequence range when there is one).
  - Refuses to overwrite an existing stream unless O(replace=true); check mode then reports what would be lost.
author: natsops maintainers (@natsops)
options:
  src:
    description:
      - Backup directory. Either natsops' layout (C(manifest.json), C(backup.json) and the archive the manifest
        names) or the NATS CLI's (C(backup.json) and C(stream.arc.s2) or C(stream.tar.s2)).
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
  - natsops.jetstream.action_group
attributes:
  check_mode:
    description: Verifies the backup and reports what would be restored and replaced.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
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

- name: Restore a backup made with `nats stream backup ORDERS /srv/cli-backups/ORDERS`
  natsops.jetstream.stream_restore:
    src: /srv/cli-backups/ORDERS
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
layout:
  description: Layout of the backup, C(natsops) (with C(manifest.json)) or C(natscli) (C(backup.json) and the archive only).
  returned: when the backup was read
  type: str
  sample: natscli
archive:
  description: File name of the archive that was (or would be) restored, C(stream.arc.s2) or C(stream.tar.s2).
  returned: when the backup was read
  type: str
  sample: stream.arc.s2
manifest:
  description: The backup's C(manifest.json); null for a NATS CLI backup.
  returned: check mode
  type: dict
backup_state:
  description: The stream state the restore must reproduce (messages, first_seq, last_seq, bytes), from C(backup.json).
  returned: when the backup was read
  type: dict
'''

import os
import time

from ansible_collections.natsops.jetstream.plugins.module_utils._module import jetstream_module, run_module
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import MIN_VERSION, ValidationError, check_replicas, user_metadata
from ansible_collections.natsops.jetstream.plugins.module_utils._snapshot import (
    SnapshotError, expected_state, read_backup, restore, state_mismatches, wait_current)


def target_config(config, placement, replicas, version):
    cfg = dict(config)
    cfg['metadata'] = user_metadata(cfg.get('metadata'))
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


def read_source(module):
    """(the source directory, the backup read and verified from it); nothing is connected yet."""
    p = module.params
    check_replicas(p['replicas'])
    src = p['src'].rstrip('/') or '/'
    try:
        return src, read_backup(src)
    except (SnapshotError, IOError, OSError, ValueError) as exc:
        raise ValidationError('cannot restore from %s: %s' % (p['src'], exc))


def restore_stream(module, client, prepared):
    p = module.params
    src, backup = prepared
    meta, manifest = backup['meta'], backup['manifest']
    name = meta['config']['name']
    expected = expected_state(backup)
    found = dict(layout=backup['layout'], archive=backup['data_file'], backup_state=expected)
    cfg = target_config(meta['config'], p['placement'], p['replicas'], client.server_version())
    existing = client.stream_info(name)
    replaced = 0
    if existing:
        replaced = (existing.get('state') or {}).get('messages', 0)
        if not p['replace']:
            module.fail_json(msg='stream %s already exists with %d messages; set replace: true to delete it and '
                             'restore the backup in its place' % (name, replaced), replaced_messages=replaced, **found)
    if module.check_mode:
        return dict(changed=True, stream=name, replaced_messages=replaced, manifest=manifest, **found)
    if existing:
        client.delete_stream(name)
    start = time.time()
    restore(client, os.path.join(src, backup['data_file']), cfg, meta['state'], chunk_size=p['chunk_size'],
            timeout=p['timeout'])
    duration = time.time() - start
    info = wait_current(client, name, timeout=p['wait_timeout'])
    state = info.get('state') or {}
    mismatched = state_mismatches(expected, state)
    if mismatched:
        module.fail_json(msg='restored stream %s does not match the backup: %s' % (
            name, ', '.join('%s %s (backup %s)' % m for m in mismatched)), state=state, **found)
    out = dict(changed=True, stream=name, state=state, replaced_messages=replaced,
               mb_per_s=round(backup['bytes'] / 1e6 / max(duration, 0.001), 1), **found)
    if info.get('cluster'):
        out['cluster'] = info['cluster']
    return out


def main():
    module = jetstream_module(dict(
        src=dict(type='path', required=True),
        placement=dict(type='dict'),
        replicas=dict(type='int'),
        replace=dict(type='bool', default=False),
        chunk_size=dict(type='int', default=128 * 1024),
        timeout=dict(type='int', default=3600),
        wait_timeout=dict(type='int', default=120),
    ))
    run_module(module, restore_stream, lambda prepared: 'restore of stream %s failed' % prepared[1]['meta']['config']['name'],
               prepare=read_source, errors=(SnapshotError,))


if __name__ == '__main__':
    main()
