# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""JetStream stream snapshot (backup) and restore through the JetStream API, in the NATS CLI's on-disk layout
(the archive and backup.json) plus a manifest with the data's SHA-256 and the message range.

The layout follows natscli v0.5.0 (jsm.go v0.5.0, snapshots.go): the archive is named stream.arc.s2 when the
connected server is 2.15.0 or newer (its NATSARC1 snapshot format) and stream.tar.s2 for older servers;
backup.json holds {"config": ..., "state": ...} from the snapshot response and is written only once every chunk
has arrived, so an empty one is left by an interrupted CLI backup. A directory holding both archive names is
refused, as the CLI does."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os
import shutil
import time

try:
    import asyncio
except ImportError:  # pragma: no cover
    asyncio = None

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import version_tuple

DATA_FILE = 'stream.arc.s2'             # what natscli v0.5.0 writes for nats-server 2.15.0 and newer
LEGACY_DATA_FILE = 'stream.tar.s2'      # ... and for older servers (the tar snapshot format)
DATA_FILES = (DATA_FILE, LEGACY_DATA_FILE)
ARCHIVE_FORMAT_VERSION = (2, 15, 0)
META_FILE = 'backup.json'
MANIFEST_FILE = 'manifest.json'
PARTIAL_SUFFIX = '.partial'
LAYOUT_NATSOPS = 'natsops'
LAYOUT_NATSCLI = 'natscli'
# The stream state checked after a restore, as backup.json records it.
STATE_KEYS = ('messages', 'first_seq', 'last_seq', 'bytes')


class SnapshotError(Exception):
    pass


def data_file_for(version):
    """The archive name natscli v0.5.0 uses for a server of `version` (a version string or tuple)."""
    if not isinstance(version, tuple):
        version = version_tuple(version)
    return DATA_FILE if version >= ARCHIVE_FORMAT_VERSION else LEGACY_DATA_FILE


def find_data_file(path):
    """The archive of a backup directory: stream.arc.s2 or stream.tar.s2, never both."""
    present = [name for name in DATA_FILES if os.path.isfile(os.path.join(path, name))]
    if len(present) > 1:
        raise SnapshotError('%s holds both %s and %s; remove the one that does not belong to this backup'
                            % (path, DATA_FILE, LEGACY_DATA_FILE))
    if not present:
        raise SnapshotError('%s holds no archive (%s or %s)' % (path, DATA_FILE, LEGACY_DATA_FILE))
    return present[0]


def is_complete(path):
    """A complete backup: natsops' manifest, or the CLI's layout with a non-empty backup.json and an archive."""
    if os.path.exists(os.path.join(path, MANIFEST_FILE)):
        return True
    meta = os.path.join(path, META_FILE)
    return os.path.isfile(meta) and os.path.getsize(meta) > 0 and \
        any(os.path.isfile(os.path.join(path, name)) for name in DATA_FILES)


def file_blocks(path, size):
    """The content of the file at ``path``, ``size`` bytes at a time."""
    with open(path, 'rb') as f:
        while True:
            block = f.read(size)
            if not block:
                return
            yield block


def sha256_file(path, bufsize=4 * 1024 * 1024):
    digest = hashlib.sha256()
    size = 0
    for block in file_blocks(path, bufsize):
        size += len(block)
        digest.update(block)
    return digest.hexdigest(), size


def _larger_reads(size=256 * 1024):
    """nats-py reads its socket 32 KiB at a time; a snapshot streams hundreds of MB, so read more per call."""
    try:
        import nats.aio.client as nats_client
        if getattr(nats_client, 'DEFAULT_BUFFER_SIZE', size) < size:
            nats_client.DEFAULT_BUFFER_SIZE = size
    except ImportError:  # pragma: no cover
        pass


def backup(client, stream, dest, consumers=True, check_msgs=False, chunk_size=None, window_size=None,
           timeout=3600, progress_file=None):
    """Snapshot `stream` into directory `dest` (written as dest.partial, renamed once complete)."""
    info = client.stream_info(stream)
    if info is None:
        raise SnapshotError('stream %s does not exist' % stream)
    config = info.get('config') or {}
    if config.get('storage') == 'memory':
        raise SnapshotError('stream %s uses memory storage; JetStream can only snapshot file-storage streams' % stream)
    _larger_reads()
    partial = dest + PARTIAL_SUFFIX
    if os.path.exists(partial):
        shutil.rmtree(partial)
    os.makedirs(partial)
    data_file = data_file_for(client.server_version())
    try:
        result = client.run(_backup(client, stream, os.path.join(partial, data_file), consumers, check_msgs,
                                    chunk_size, window_size, timeout, progress_file))
        digest = result['sha256']
        size = os.path.getsize(os.path.join(partial, data_file))
        if size != result['bytes']:
            raise SnapshotError('the snapshot file on disk has %d bytes, %d were received' % (size, result['bytes']))
        state = result['state']
        with open(os.path.join(partial, META_FILE), 'w') as f:
            json.dump({'config': result['config'], 'state': state}, f, indent=2)
        manifest = {
            'format': 'natsops.jetstream/backup-v1',
            'stream': stream,
            'data_file': data_file,
            'sha256': digest,
            'bytes': size,
            'chunks': result['chunks'],
            'messages': state.get('messages', 0),
            'first_seq': state.get('first_seq', 0),
            'last_seq': state.get('last_seq', 0),
            'num_deleted': state.get('num_deleted', 0),
            'consumers_included': bool(consumers),
            'consumer_count': state.get('consumer_count', 0),
            'server_version': client.server_info().get('version'),
            'created': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
            'duration_s': round(result['duration'], 3),
        }
        with open(os.path.join(partial, MANIFEST_FILE), 'w') as f:
            json.dump(manifest, f, indent=2)
        if os.path.exists(dest):
            shutil.rmtree(dest)
        os.rename(partial, dest)
        return manifest
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


class _Writer(object):
    """Writes and hashes each chunk as it arrives. (A writer thread was measured slower on 2 cores: the event
    loop, nats-server and the thread compete for the same CPUs.)"""

    def __init__(self, path):
        self.file = open(path, 'wb')
        self.digest = hashlib.sha256()
        self.bytes = 0

    def put(self, block):
        self.file.write(block)
        self.digest.update(block)
        self.bytes += len(block)

    def finish(self):
        self.file.close()


async def _backup(client, stream, data_path, consumers, check_msgs, chunk_size, window_size, timeout, progress_file):
    nc = client.nc
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    counters = {'bytes': 0, 'chunks': 0, 'last_progress': 0}
    writer = _Writer(data_path)
    inbox = nc.new_inbox()

    async def on_chunk(msg):
        if done.done():
            return
        if not msg.data:
            headers = msg.headers or {}
            status = headers.get('Status')
            if status in (None, '', '204'):
                done.set_result(None)
            else:
                done.set_exception(SnapshotError('the server aborted the snapshot: %s %s'
                                                 % (status, headers.get('Description', ''))))
            return
        if msg.reply:
            await nc.publish(msg.reply, b'')        # flow control: ack before writing
        writer.put(msg.data)
        counters['bytes'] += len(msg.data)
        counters['chunks'] += 1
        if progress_file and counters['bytes'] - counters['last_progress'] >= 64 * 1024 * 1024:
            counters['last_progress'] = counters['bytes']
            with open(progress_file, 'w') as pf:
                pf.write('%s %d bytes %d chunks\n' % (stream, counters['bytes'], counters['chunks']))

    sub = await nc.subscribe(inbox, cb=on_chunk, pending_bytes_limit=512 * 1024 * 1024)
    start = time.time()
    try:
        body = {'deliver_subject': inbox, 'no_consumers': not consumers, 'jsck': bool(check_msgs)}
        if chunk_size:
            body['chunk_size'] = int(chunk_size)
        if window_size:
            body['window_size'] = int(window_size)
        reply = await client.snapshot_stream(
            stream, body, timeout=client.request_timeout if not check_msgs else max(client.request_timeout, 600))
        await asyncio.wait_for(done, timeout)
    finally:
        try:
            await sub.unsubscribe()
        finally:
            writer.finish()
    if writer.bytes != counters['bytes']:
        raise SnapshotError('wrote %d bytes of the %d received' % (writer.bytes, counters['bytes']))
    return {'config': reply.get('config') or {}, 'state': reply.get('state') or {}, 'sha256': writer.digest.hexdigest(),
            'bytes': counters['bytes'], 'chunks': counters['chunks'], 'duration': time.time() - start}


def _load_json(path):
    with open(path) as f:
        try:
            return json.load(f)
        except ValueError as exc:
            raise SnapshotError('%s is not valid JSON: %s' % (path, exc))


def _check_meta(meta_path, meta):
    """What jsm.go checks of a backup.json before a restore: a named, file-storage stream and its state."""
    config = meta.get('config') if isinstance(meta, dict) else None
    if not isinstance(config, dict) or not config.get('name'):
        raise SnapshotError('%s has no stream config with a name' % meta_path)
    if config.get('storage') == 'memory':
        raise SnapshotError('%s describes a memory-storage stream, which JetStream cannot restore' % meta_path)
    if not isinstance(meta.get('state'), dict):
        raise SnapshotError('%s has no stream state' % meta_path)


def read_backup(path):
    """Load and verify a backup directory. Returns a dict: layout (natsops or natscli), manifest (None for a NATS
    CLI backup), meta (backup.json: config and state), data_file (the archive's name) and bytes (its size).

    natsops layout (manifest.json present): the archive the manifest names must have the recorded SHA-256 and size.
    NATS CLI layout (no manifest.json): backup.json must be complete (the CLI writes it last) and the directory must
    hold exactly one of stream.arc.s2 and stream.tar.s2."""
    manifest_path = os.path.join(path, MANIFEST_FILE)
    meta_path = os.path.join(path, META_FILE)
    if path.endswith(PARTIAL_SUFFIX):
        raise SnapshotError('%s is not a complete backup (no %s); an interrupted backup leaves only a %s directory'
                            % (path, MANIFEST_FILE, PARTIAL_SUFFIX))
    if not os.path.isdir(path):
        raise SnapshotError('%s is not a backup directory' % path)
    if os.path.exists(manifest_path):
        manifest = _load_json(manifest_path)
        # Backups written before the archive was named per server version record stream.tar.s2 (or nothing).
        data_file = manifest.get('data_file') or LEGACY_DATA_FILE
        if data_file not in DATA_FILES:
            raise SnapshotError('%s names the archive %r; expected %s or %s'
                                % (manifest_path, data_file, DATA_FILE, LEGACY_DATA_FILE))
        other = [n for n in DATA_FILES if n != data_file and os.path.exists(os.path.join(path, n))]
        if other:
            raise SnapshotError('%s holds both %s and %s; the manifest names %s'
                                % (path, DATA_FILE, LEGACY_DATA_FILE, data_file))
        data_path = os.path.join(path, data_file)
        if not os.path.isfile(data_path):
            raise SnapshotError('%s is missing the archive %s that its manifest names' % (path, data_file))
        meta = _load_json(meta_path)
        _check_meta(meta_path, meta)
        digest, size = sha256_file(data_path)
        if digest != manifest['sha256'] or size != manifest['bytes']:
            raise SnapshotError('checksum mismatch for %s: the manifest records sha256 %s (%d bytes) but the file has '
                                '%s (%d bytes); the backup is corrupt and was not restored'
                                % (data_path, manifest['sha256'], manifest['bytes'], digest, size))
        if meta['config']['name'] != manifest.get('stream'):
            raise SnapshotError('%s names stream %s but the manifest %s'
                                % (META_FILE, meta['config']['name'], manifest.get('stream')))
        return {'layout': LAYOUT_NATSOPS, 'manifest': manifest, 'meta': meta, 'data_file': data_file, 'bytes': size}

    # The NATS CLI's layout: backup.json and the archive, no manifest.
    if not os.path.exists(meta_path):
        raise SnapshotError('%s is not a complete backup (neither %s nor %s)' % (path, MANIFEST_FILE, META_FILE))
    if os.path.getsize(meta_path) == 0:
        raise SnapshotError('%s is not a complete backup: %s is empty, as an interrupted NATS CLI backup leaves it'
                            % (path, META_FILE))
    data_file = find_data_file(path)
    size = os.path.getsize(os.path.join(path, data_file))
    if size == 0:
        raise SnapshotError('%s is not a complete backup: %s is empty' % (path, data_file))
    meta = _load_json(meta_path)
    _check_meta(meta_path, meta)
    return {'layout': LAYOUT_NATSCLI, 'manifest': None, 'meta': meta, 'data_file': data_file, 'bytes': size}


def expected_state(backup_info):
    """The stream state a restore must produce: backup.json's state (the snapshot's), and for a natsops backup
    the manifest's message count and sequence range too. Bytes are skipped when backup.json records 0 bytes for
    messages (the declared counts are advisory then, e.g. in an obfuscated `nats backup edit` copy)."""
    state = backup_info['meta'].get('state') or {}
    expected = dict((k, state.get(k, 0)) for k in STATE_KEYS)
    if expected['messages'] and not expected['bytes']:
        expected.pop('bytes')
    manifest = backup_info.get('manifest')
    if manifest:
        for k in ('messages', 'first_seq', 'last_seq'):
            if k in manifest:
                expected[k] = manifest[k]
    return expected


def state_mismatches(expected, state):
    """[(key, restored, backup)] for every key of `expected` the restored `state` differs in."""
    return [(k, state.get(k), v) for k, v in sorted(expected.items()) if state.get(k) != v]


def restore(client, data_path, config, state, chunk_size=64 * 1024, timeout=3600):
    """Restore the archive at `data_path` (a file) as the stream `config` describes."""
    return client.run(_restore(client, data_path, config, state, chunk_size, timeout))


async def _request_when_routed(nc, subject, payload, timeout, wait=10.0):
    """A request to the restore subject, retried while no server answers it yet: the peer that receives the
    data can sit in another cluster, and its interest takes a moment to cross the gateways."""
    import nats.errors
    deadline = time.time() + wait
    while True:
        try:
            return await nc.request(subject, payload, timeout=timeout)
        except nats.errors.NoRespondersError:
            if time.time() >= deadline:
                raise SnapshotError('no server answers the restore subject %s (interest did not reach this '
                                    'cluster within %.0fs)' % (subject, wait))
            await asyncio.sleep(0.2)


async def _restore(client, data_path, config, state, chunk_size, timeout):
    nc = client.nc
    name = config['name']
    reply = await client.restore_stream(config, state)
    deliver = reply['deliver_subject']
    max_payload = int(nc.max_payload or 1024 * 1024)
    chunk_size = min(chunk_size, max_payload)
    sent = 0
    for block in file_blocks(data_path, chunk_size):
        ack = await _request_when_routed(nc, deliver, block, client.request_timeout)
        if ack.data:
            raise SnapshotError('the server rejected restore data at byte %d: %s' % (sent, ack.data.decode()))
        sent += len(block)
    final = await _request_when_routed(nc, deliver, b'', timeout)
    return client.restore_result(final.data, name)


def wait_current(client, stream, timeout=120):
    """Poll until the stream has a leader and every replica is current (several good polls in a row)."""
    deadline = time.time() + timeout
    good = 0
    info = {}
    while time.time() < deadline:
        info = client.stream_info(stream) or {}
        cluster = info.get('cluster') or {}
        replicas = cluster.get('replicas') or []
        expected = int((info.get('config') or {}).get('num_replicas', 1)) - 1
        if info and (not cluster or cluster.get('leader')) and len(replicas) >= expected and \
                all(r.get('current') and not r.get('offline') for r in replicas):
            good += 1
            if good >= 3:
                return info
        else:
            good = 0
        time.sleep(0.3)
    raise SnapshotError('stream %s: replicas did not become current within %ds: %s'
                        % (stream, timeout, json.dumps(info.get('cluster'))))
