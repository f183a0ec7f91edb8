# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""KV buckets and object stores: the canonical ``KV_<bucket>`` and ``OBJ_<bucket>`` streams as nats.go and the
NATS CLI create them, their options, and the kv_bucket and object_store modules' work."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import parse_duration, parse_size
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import (
    TWO_MINUTES, ValidationError, check_replicas, lifecycle_options)
from ansible_collections.natsops.jetstream.plugins.module_utils._module import ensure_resource, run_module
from ansible_collections.natsops.jetstream.plugins.module_utils._stream import StreamResource


BUCKET_RE = re.compile(r'^[a-zA-Z0-9_-]+$')
KV_STREAM_PREFIX = 'KV_'
OBJ_STREAM_PREFIX = 'OBJ_'
BUCKET_KINDS = (('kv_bucket', KV_STREAM_PREFIX), ('object_store', OBJ_STREAM_PREFIX))


def bucket_stream_name(kind, bucket):
    """The stream that holds bucket ``bucket`` of ``kind`` (kv_bucket: KV_<bucket>, object_store: OBJ_<bucket>)."""
    return dict(BUCKET_KINDS)[kind] + bucket


def stream_kind(name):
    """(kind, short name) of stream ``name``: ('kv_bucket', bucket), ('object_store', bucket) or ('stream', name)."""
    for kind, prefix in BUCKET_KINDS:
        if name.startswith(prefix):
            return kind, name[len(prefix):]
    return 'stream', name


def _bucket_managed(bucket, p):
    """Validation and the stream fields every bucket kind manages (KV and object store alike)."""
    if not BUCKET_RE.match(bucket or ''):
        raise ValidationError('bucket: %r is not a valid bucket name (letters, digits, - and _)' % bucket)
    check_replicas(p.get('replicas'))
    try:
        ttl = parse_duration(p.get('ttl'), 'ttl')
        max_bytes = parse_size(p.get('max_bytes'), 'max_bytes')
    except ValueError as exc:
        raise ValidationError(str(exc))
    managed = {}
    if ttl is not None:
        managed['max_age'] = ttl
    if max_bytes is not None:
        managed['max_bytes'] = max_bytes
    for option, wire in (('replicas', 'num_replicas'), ('storage', 'storage'), ('description', 'description'),
                         ('placement', 'placement')):
        if p.get(option) is not None:
            managed[wire] = p[option]
    if p.get('compression') is not None:
        managed['compression'] = 's2' if p['compression'] else 'none'
    if p.get('metadata') is not None:
        managed['metadata'] = dict((str(k), str(v)) for k, v in p['metadata'].items())
    return managed


BUCKET_STREAM_DEFAULTS = {
    'retention': 'limits', 'max_consumers': -1, 'max_msgs': -1, 'max_bytes': -1, 'max_msg_size': -1, 'max_age': 0,
    'storage': 'file', 'num_replicas': 1, 'discard': 'new', 'duplicate_window': TWO_MINUTES,
    'allow_rollup_hdrs': True, 'allow_direct': True, 'compression': 'none',
}


def kv_stream_config(bucket, p):
    """(create config, managed update fields) of the KV_<bucket> stream for kv_bucket options."""
    history = p.get('history')
    if history is not None and not 1 <= history <= 64:
        raise ValidationError('history: %d is not allowed; a KV bucket keeps 1 to 64 values per key' % history)
    managed = _bucket_managed(bucket, p)
    try:
        max_value_size = parse_size(p.get('max_value_size'), 'max_value_size')
        marker_ttl = parse_duration(p.get('limit_marker_ttl'), 'limit_marker_ttl')
    except ValueError as exc:
        raise ValidationError(str(exc))
    if history is not None:
        managed['max_msgs_per_subject'] = history
    if 'max_age' in managed:
        managed['duplicate_window'] = min(TWO_MINUTES, managed['max_age']) if managed['max_age'] else TWO_MINUTES
    if max_value_size is not None:
        managed['max_msg_size'] = max_value_size
    if p.get('republish') is not None:
        managed['republish'] = p['republish']
    if marker_ttl:
        managed['allow_msg_ttl'] = True
        managed['subject_delete_marker_ttl'] = marker_ttl
    create = dict(BUCKET_STREAM_DEFAULTS, name=bucket_stream_name('kv_bucket', bucket), subjects=['$KV.%s.>' % bucket],
                  max_msgs_per_subject=1, deny_delete=True, deny_purge=False)
    create.update(managed)
    return create, managed


def obj_stream_config(bucket, p):
    """(create config, managed update fields) of the OBJ_<bucket> stream for object_store options."""
    managed = _bucket_managed(bucket, p)
    create = dict(BUCKET_STREAM_DEFAULTS, name=bucket_stream_name('object_store', bucket),
                  subjects=['$O.%s.C.>' % bucket, '$O.%s.M.>' % bucket], max_msgs_per_subject=-1)
    create.update(managed)
    return create, managed


def bucket_argument_spec():
    """Options shared by the kv_bucket and object_store modules (connection options excluded)."""
    spec = lifecycle_options(bucket=dict(type='str', required=True))
    spec.update(
        description=dict(type='str'),
        ttl=dict(type='raw'),
        max_bytes=dict(type='raw'),
        storage=dict(type='str', choices=['file', 'memory']),
        replicas=dict(type='int'),
        placement=dict(type='dict'),
        compression=dict(type='bool'),
        metadata=dict(type='dict'),
    )
    return spec


def kv_argument_spec():
    """Options of the kv_bucket module (and of apply's kv_buckets entries), connection options excluded."""
    spec = bucket_argument_spec()
    spec.update(
        history=dict(type='int'),
        max_value_size=dict(type='raw'),
        republish=dict(type='dict'),
        limit_marker_ttl=dict(type='raw'),
    )
    return spec


def object_store_argument_spec():
    """Options of the object_store module (and of apply's object_stores entries), connection options excluded."""
    return bucket_argument_spec()


def run_bucket_module(module, stream_config):
    """kv_bucket and object_store: the bucket's stream (``stream_config(bucket, params)`` -> create config and
    managed fields) ensured as the stream module ensures a stream."""
    def prepare(module):
        return stream_config(module.params['bucket'], module.params)

    def body(module, client, prepared):
        create, managed = prepared
        out = ensure_resource(module, StreamResource(client, create['name']), managed, create_defaults=create)[1]
        out['stream'] = create['name']
        return out

    run_module(module, body, 'JetStream refused the request for bucket %s' % module.params['bucket'], prepare=prepare)
