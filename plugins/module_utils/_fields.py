# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What every JetStream resource shares: the option tables (option, wire field, kind), the reading of
module options into the config the server takes (``build_desired``), and the comparison of configs
(normalised, diffed, shown), with the Result a resource reports."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import re

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    api_prefix, format_duration, parse_duration, parse_size)


NAME_RE = re.compile(r'^[^.*>/\\\s]{1,255}$')


class ValidationError(Exception):
    pass


SERVER_METADATA_PREFIX = '_nats.'   # metadata keys the server sets (and reports); never the user's


def user_metadata(metadata):
    """``metadata`` without the keys the server owns (``_nats.*``)."""
    return dict((k, v) for k, v in (metadata or {}).items() if not k.startswith(SERVER_METADATA_PREFIX))


def check_replicas(replicas, allow_zero=False):
    """Raise ValidationError unless ``replicas`` is None or 1 to 5 (or 0, the stream's count, for a consumer)."""
    if replicas is None or 1 <= replicas <= 5 or (allow_zero and replicas == 0):
        return
    raise ValidationError('replicas: %d is not allowed; JetStream supports 1 to 5 replicas' % replicas)


# (option, wire field, kind, extra) -- kind: str, int, bool, enum, size, duration, list, dict, raw
STREAM_FIELDS = [
    ('subjects', 'subjects', 'list', None),
    ('description', 'description', 'str', None),
    ('retention', 'retention', 'enum', ['limits', 'interest', 'workqueue']),
    ('max_consumers', 'max_consumers', 'int', None),
    ('max_msgs', 'max_msgs', 'int', None),
    ('max_bytes', 'max_bytes', 'size', None),
    ('max_age', 'max_age', 'duration', None),
    ('max_msgs_per_subject', 'max_msgs_per_subject', 'int', None),
    ('max_msg_size', 'max_msg_size', 'size', None),
    ('discard', 'discard', 'enum', ['old', 'new']),
    ('discard_new_per_subject', 'discard_new_per_subject', 'bool', None),
    ('storage', 'storage', 'enum', ['file', 'memory']),
    ('replicas', 'num_replicas', 'int', None),
    ('no_ack', 'no_ack', 'bool', None),
    ('duplicate_window', 'duplicate_window', 'duration', None),
    ('placement', 'placement', 'dict', None),
    ('mirror', 'mirror', 'dict', None),
    ('sources', 'sources', 'list', None),
    ('compression', 'compression', 'enum', ['none', 's2']),
    ('first_seq', 'first_seq', 'int', None),
    ('subject_transform', 'subject_transform', 'dict', None),
    ('republish', 'republish', 'dict', None),
    ('allow_direct', 'allow_direct', 'bool', None),
    ('mirror_direct', 'mirror_direct', 'bool', None),
    ('allow_rollup', 'allow_rollup_hdrs', 'bool', None),
    ('deny_delete', 'deny_delete', 'bool', None),
    ('deny_purge', 'deny_purge', 'bool', None),
    ('sealed', 'sealed', 'bool', None),
    ('consumer_limits', 'consumer_limits', 'dict', None),
    ('metadata', 'metadata', 'dict', None),
    ('allow_msg_ttl', 'allow_msg_ttl', 'bool', None),
    ('subject_delete_marker_ttl', 'subject_delete_marker_ttl', 'duration', None),
    ('allow_msg_counter', 'allow_msg_counter', 'bool', None),
    ('allow_atomic', 'allow_atomic', 'bool', None),
    ('allow_msg_schedules', 'allow_msg_schedules', 'bool', None),
    ('persist_mode', 'persist_mode', 'enum', ['default', 'async']),
]


CONSUMER_FIELDS = [
    ('description', 'description', 'str', None),
    ('deliver_policy', 'deliver_policy', 'enum',
     ['all', 'last', 'new', 'by_start_sequence', 'by_start_time', 'last_per_subject']),
    ('opt_start_seq', 'opt_start_seq', 'int', None),
    ('opt_start_time', 'opt_start_time', 'str', None),
    ('ack_policy', 'ack_policy', 'enum', ['none', 'all', 'explicit']),
    ('ack_wait', 'ack_wait', 'duration', None),
    ('max_deliver', 'max_deliver', 'int', None),
    ('backoff', 'backoff', 'durations', None),
    ('filter_subject', 'filter_subject', 'str', None),
    ('filter_subjects', 'filter_subjects', 'list', None),
    ('replay_policy', 'replay_policy', 'enum', ['instant', 'original']),
    ('rate_limit_bps', 'rate_limit_bps', 'int', None),
    ('sample_freq', 'sample_freq', 'str', None),
    ('max_waiting', 'max_waiting', 'int', None),
    ('max_ack_pending', 'max_ack_pending', 'int', None),
    ('flow_control', 'flow_control', 'bool', None),
    ('headers_only', 'headers_only', 'bool', None),
    ('max_batch', 'max_batch', 'int', None),
    ('max_expires', 'max_expires', 'duration', None),
    ('max_bytes', 'max_bytes', 'size', None),
    ('deliver_subject', 'deliver_subject', 'str', None),
    ('deliver_group', 'deliver_group', 'str', None),
    ('idle_heartbeat', 'idle_heartbeat', 'duration', None),
    ('inactive_threshold', 'inactive_threshold', 'duration', None),
    ('replicas', 'num_replicas', 'int', None),
    ('mem_storage', 'mem_storage', 'bool', None),
    ('metadata', 'metadata', 'dict', None),
    ('priority_policy', 'priority_policy', 'enum', ['none', 'overflow', 'pinned_client', 'prioritized']),
    ('priority_groups', 'priority_groups', 'list', None),
    ('priority_timeout', 'priority_timeout', 'duration', None),
]


# Fields a server older than this version does not know (2.11+ rejects unknown fields).
MIN_VERSION = {
    'allow_msg_ttl': (2, 11, 0), 'subject_delete_marker_ttl': (2, 11, 0),
    'allow_msg_counter': (2, 12, 0), 'allow_atomic': (2, 12, 0), 'allow_msg_schedules': (2, 12, 0),
    'persist_mode': (2, 12, 0), 'priority_policy': (2, 11, 0), 'priority_groups': (2, 11, 0),
    'priority_timeout': (2, 11, 0),
}


DURATION_FIELDS = set(w for _o, w, k, _e in STREAM_FIELDS + CONSUMER_FIELDS if k == 'duration')


TWO_MINUTES = 120 * 1000 ** 3


def lifecycle_options(**identity):
    """The options that name a resource (``identity``) and say what to do with it: state and recreate."""
    spec = dict(identity)
    spec.update(
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        recreate=dict(type='bool', default=False),
    )
    return spec


def field_options(fields, skip=()):
    """AnsibleModule argument spec for a field table."""
    spec = {}
    for option, _wire, kind, extra in fields:
        if option in skip:
            continue
        if kind == 'enum':
            spec[option] = dict(type='str', choices=extra)
        elif kind in ('size', 'duration'):
            spec[option] = dict(type='raw')
        elif kind == 'durations':
            spec[option] = dict(type='list', elements='raw')
        elif kind == 'list':
            spec[option] = dict(type='list', elements='raw' if option in ('sources', 'priority_groups') else 'str')
        else:
            spec[option] = dict(type=kind)
    return spec


def clean(value):
    """Drop empty/zero/None members recursively, so {} / [] / "" / 0 / false all mean 'unset'."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = clean(v)
            if v in (None, '', 0, False, [], {}):
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def _nested_durations(value, field):
    """Convert the duration members of nested option dicts (consumer_limits, sources[].opt_start_time stays)."""
    if field == 'consumer_limits' and isinstance(value, dict):
        value = dict(value)
        if value.get('inactive_threshold') is not None:
            value['inactive_threshold'] = parse_duration(value['inactive_threshold'], 'consumer_limits.inactive_threshold')
        return value
    return value


def _check_source(src, field):
    if not isinstance(src, dict) or not src.get('name'):
        raise ValidationError('%s: every entry needs a name (the origin stream), got %r' % (field, src))
    allowed = {'name', 'opt_start_seq', 'opt_start_time', 'filter_subject', 'subject_transforms', 'external', 'domain'}
    unknown = sorted(set(src) - allowed)
    if unknown:
        raise ValidationError('%s: unknown key(s) %s; allowed: %s' % (field, ', '.join(unknown), ', '.join(sorted(allowed))))
    src = dict(src)
    if src.get('domain'):
        src['external'] = {'api': api_prefix(domain=src.pop('domain'))}
    else:
        src.pop('domain', None)
    return src


def build_desired(fields, params):
    """Module params -> {wire_field: value} for every option the user set. Raises ValidationError."""
    desired = {}
    for option, wire, kind, extra in fields:
        value = params.get(option)
        if value is None:
            continue
        try:
            if kind == 'size':
                value = parse_size(value, option)
            elif kind == 'duration':
                value = parse_duration(value, option)
            elif kind == 'durations':
                value = [parse_duration(v, '%s[%d]' % (option, i)) for i, v in enumerate(value)]
            elif kind == 'int' and isinstance(value, int) and value < -1:
                raise ValueError('%s: %d is not allowed; use -1 for unlimited or a value of 0 or more' % (option, value))
        except ValueError as exc:
            raise ValidationError(str(exc))
        if option == 'placement':
            unknown = sorted(set(value) - {'cluster', 'tags', 'preferred'})
            if unknown:
                raise ValidationError('placement: unknown key(s) %s; allowed: cluster, tags, preferred' % ', '.join(unknown))
        if option == 'mirror':
            value = _check_source(value, 'mirror')
        if option == 'sources':
            value = [_check_source(s, 'sources[%d]' % i) for i, s in enumerate(value)]
        if option in ('subject_transform', 'republish'):
            unknown = sorted(set(value) - ({'src', 'dest'} | ({'headers_only'} if option == 'republish' else set())))
            if unknown or not value.get('dest'):
                raise ValidationError('%s: needs src and dest (got %r)' % (option, value))
        if option == 'consumer_limits':
            unknown = sorted(set(value) - {'inactive_threshold', 'max_ack_pending'})
            if unknown:
                raise ValidationError('consumer_limits: unknown key(s) %s; allowed: inactive_threshold, max_ack_pending'
                                      % ', '.join(unknown))
            value = _nested_durations(value, option)
        if option == 'metadata':
            value = dict((str(k), str(v)) for k, v in value.items())
            kept = user_metadata(value)
            bad = [k for k in value if k not in kept]
            if bad:
                raise ValidationError('metadata: keys starting with %s belong to the server (%s)'
                                      % (SERVER_METADATA_PREFIX, ', '.join(bad)))
        if option == 'replicas':
            check_replicas(value, allow_zero=fields is CONSUMER_FIELDS)
        desired[wire] = value
    return desired


def normalise(config):
    """Server config -> comparable form: server-owned metadata dropped, empty values removed."""
    cfg = copy.deepcopy(config or {})
    cfg['metadata'] = user_metadata(cfg.get('metadata'))
    return clean(cfg)


def display(config):
    """Readable form for diffs: durations as 1h/30s, server metadata hidden."""
    out = {}
    for k, v in sorted(normalise(config).items()):
        if k in DURATION_FIELDS and isinstance(v, int):
            v = format_duration(v)
        elif k == 'backoff' and isinstance(v, list):
            v = [format_duration(x) for x in v]
        out[k] = v
    return out


def check_versions(desired, version, what):
    for field, minimum in MIN_VERSION.items():
        if field in desired and clean(desired[field]) not in (None, '', 0, False, [], {}) and version < minimum:
            raise ValidationError('%s: %s needs nats-server %s or later; the connected server runs %s'
                                  % (what, field, '.'.join(str(x) for x in minimum), '.'.join(str(x) for x in version)))
    placement = desired.get('placement') or {}
    if placement.get('preferred') and version < (2, 11, 0):
        raise ValidationError('%s: placement.preferred needs nats-server 2.11 or later' % what)


def strip_for_server(config):
    """A config read from the server, ready to be sent back: response-only metadata removed."""
    cfg = copy.deepcopy(config)
    if 'metadata' in cfg:
        cfg['metadata'] = user_metadata(cfg.get('metadata'))
        if not cfg['metadata']:
            del cfg['metadata']
    return cfg


def immutable_message(kind, name, changes):
    parts = ['%s: %r -> %r (%s)' % (f, _show(f, a), _show(f, b), why) for f, a, b, why in changes]
    return ('%s %s cannot be updated in place: %s. Set recreate: true to delete and recreate it (its data and state '
            'are lost).' % (kind, name, '; '.join(parts)))


def _show(field, value):
    if field in DURATION_FIELDS and isinstance(value, int):
        return format_duration(value)
    return value


def origin_note(field, desired):
    return '' if field in desired else ' (the value on the server)'


def changed_fields(current, after, candidates):
    """{field: (current, after)} for the candidate fields whose normalised values differ."""
    cur, aft = normalise(current), normalise(after)
    changes = {}
    for field in sorted(candidates):
        a, b = cur.get(field), aft.get(field)
        if field in ('subjects', 'filter_subjects') and a is not None and b is not None and sorted(a) == sorted(b):
            continue
        if a != b:
            changes[field] = (current.get(field), after.get(field))
    return changes


class Result(object):
    def __init__(self, kind, name):
        self.kind = kind
        self.name = name
        self.action = 'unchanged'   # created | updated | recreated | moved | deleted | unchanged | absent
        self.changed = False
        self.before = {}
        self.after = {}
        self.changes = []
        self.info = None
        self.warnings = []

    def as_dict(self):
        return {'kind': self.kind, 'name': self.name, 'action': self.action, 'changed': self.changed,
                'changes': self.changes}
