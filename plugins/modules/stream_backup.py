#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: stream_backup
short_description: Back up a JetStream stream through the snapshot API
version_added: 0.1.0
description:
  - Snapshots a file-storage stream (messages and, by default, consumers with their ack state) with flow control,
    on the host that runs the module (the controller by default, or a dedicated backup host).
  - Writes the layout the NATS CLI (natscli v0.5.0) writes, so backups interoperate both ways - the archive and
    C(backup.json) with config and state - plus C(manifest.json) with the archive's name, SHA-256 and size and the
    message count and sequence range.
  - The archive is named as natscli names it for the connected server, C(stream.arc.s2) for nats-server 2.15.0 and
    later (their new snapshot format) and C(stream.tar.s2) for older servers.
  - Data goes to C(<dest>.partial) and is renamed to O(dest) only after the end-of-snapshot marker arrived and the
    checksum is recorded; a failed or interrupted backup never leaves a directory that looks complete.
  - A complete backup already in O(dest) (natsops' with C(manifest.json), or a NATS CLI backup with a non-empty
    C(backup.json) and its archive) is kept (no change) unless O(force=true).
author: natsops maintainers (@natsops)
options:
  stream:
    description: Stream to back up. KV buckets are streams named C(KV_<bucket>), object stores C(OBJ_<bucket>).
    type: str
    required: true
  dest:
    description: Directory of this backup (created; its parent must exist and be writable).
    type: path
    required: true
  consumers:
    description: Include consumers and their delivery and ack state.
    type: bool
    default: true
  check_msgs:
    description: Have the server verify every message checksum before the snapshot (slow on large streams).
    type: bool
    default: false
  chunk_size:
    description: Snapshot chunk size (size, 1KiB to 1MiB); the server default (128KiB) when unset.
    type: raw
  window_size:
    description:
      - Flow-control window (size, up to 32MiB). Only nats-server 2.12.5 and later understand it; setting it for an
        older server fails before the snapshot starts.
    type: raw
  timeout:
    description: Seconds to wait for the whole snapshot.
    type: int
    default: 3600
  progress_file:
    description: File rewritten every 64 MiB with the bytes received so far, to follow long backups.
    type: path
  force:
    description: Replace a complete backup already in O(dest).
    type: bool
    default: false
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.action_group
attributes:
  check_mode:
    description: Checks the stream can be backed up and reports its size without writing anything.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
seealso:
  - module: natsops.jetstream.stream_restore
'''

EXAMPLES = r'''
- name: Back up ORDERS into tonight's run directory
  natsops.jetstream.stream_backup:
    stream: ORDERS
    dest: /srv/nats-backups/2026-11-22T0200Z/ORDERS
  delegate_to: localhost
'''

RETURN = r'''
manifest:
  description:
    - The backup's manifest (data_file, sha256, bytes, chunks, messages, first_seq, last_seq, consumer_count, duration_s).
    - C(data_file) is the archive's name, C(stream.arc.s2) or C(stream.tar.s2).
  returned: success, not in check mode
  type: dict
path:
  description: Directory of the backup.
  returned: always
  type: str
messages:
  description: Messages in the stream (at the snapshot, or now in check mode).
  returned: always
  type: int
bytes:
  description: Size of the snapshot data (or of the stream in check mode).
  returned: always
  type: int
mb_per_s:
  description: Throughput of the snapshot in MB/s.
  returned: success, not in check mode
  type: float
'''

import os

from ansible_collections.natsops.jetstream.plugins.module_utils._module import jetstream_module, run_module
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import parse_size
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import ValidationError
from ansible_collections.natsops.jetstream.plugins.module_utils._snapshot import (
    SnapshotError, backup, is_complete)


def check_options(module):
    """(dest, chunk size, window size) once the options are checked; exits unchanged when a complete backup is
    already there."""
    p = module.params
    dest = p['dest'].rstrip('/')
    try:
        chunk = parse_size(p['chunk_size'], 'chunk_size', allow_unlimited=False)
        window = parse_size(p['window_size'], 'window_size', allow_unlimited=False)
    except ValueError as exc:
        raise ValidationError(str(exc))
    if chunk is not None and not 1024 <= chunk <= 1024 * 1024:
        raise ValidationError('chunk_size: %d is outside 1KiB..1MiB' % chunk)
    if window is not None and not 1024 <= window <= 32 * 1024 * 1024:
        raise ValidationError('window_size: %d is outside 1KiB..32MiB' % window)
    parent = os.path.dirname(dest) or '.'
    if not os.path.isdir(parent):
        raise ValidationError('dest: the parent directory %s does not exist' % parent)
    if is_complete(dest) and not p['force']:
        module.exit_json(changed=False, path=dest, messages=0, bytes=0,
                         msg='a complete backup is already in %s (force: true replaces it)' % dest)
    return dest, chunk, window


def back_up(module, client, prepared):
    p = module.params
    dest, chunk, window = prepared
    if window is not None and client.server_version() < (2, 12, 5):
        raise ValidationError('window_size: needs nats-server 2.12.5 or later; the connected server runs %s'
                              % client.server_info().get('version'))
    info = client.stream_info(p['stream'])
    if info is None:
        raise ValidationError('stream %s does not exist' % p['stream'])
    state = info.get('state') or {}
    if (info.get('config') or {}).get('storage') == 'memory':
        raise ValidationError('stream %s uses memory storage; JetStream can only snapshot file-storage streams'
                              % p['stream'])
    if module.check_mode:
        return dict(changed=True, path=dest, messages=state.get('messages', 0), bytes=state.get('bytes', 0))
    try:
        manifest = backup(client, p['stream'], dest, consumers=p['consumers'], check_msgs=p['check_msgs'],
                          chunk_size=chunk, window_size=window, timeout=p['timeout'], progress_file=p['progress_file'])
    except (IOError, OSError) as exc:
        module.fail_json(msg='backup of stream %s failed writing %s: %s' % (p['stream'], dest, exc))
    duration = manifest['duration_s'] or 0.001
    return dict(changed=True, path=dest, manifest=manifest, messages=manifest['messages'], bytes=manifest['bytes'],
                mb_per_s=round(manifest['bytes'] / 1e6 / duration, 1))


def main():
    module = jetstream_module(dict(
        stream=dict(type='str', required=True),
        dest=dict(type='path', required=True),
        consumers=dict(type='bool', default=True),
        check_msgs=dict(type='bool', default=False),
        chunk_size=dict(type='raw'),
        window_size=dict(type='raw'),
        timeout=dict(type='int', default=3600),
        progress_file=dict(type='path'),
        force=dict(type='bool', default=False),
    ))
    run_module(module, back_up, 'backup of stream %s failed' % module.params['stream'], prepare=check_options,
               errors=(SnapshotError,))


if __name__ == '__main__':
    main()
