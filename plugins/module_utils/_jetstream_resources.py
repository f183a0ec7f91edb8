# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Streams, consumers, KV buckets and object stores: option specs, validation, normalisation,
diffing, immutable-field rules and the read -> compare -> apply cycle shared by the modules."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import re

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    JetStreamAPIError, JetStreamClient, format_duration, parse_duration, parse_size, subject_overlaps)

NAME_RE = re.compile(r'^[^.*>/\\\s]{1,255}$')
BUCKET_RE = re.compile(r'^[a-zA-Z0-9_-]+$')


class ValidationError(Exception):
    pass


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


def _clean(value):
    """Drop empty/zero/None members recursively, so {} / [] / "" / 0 / false all mean 'unset'."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _clean(v)
            if v in (None, '', 0, False, [], {}):
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_clean(v) for v in value]
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
        src['external'] = {'api': '$JS.%s.API' % src.pop('domain')}
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
            bad = [k for k in value if k.startswith('_nats.')]
            if bad:
                raise ValidationError('metadata: keys starting with _nats. belong to the server (%s)' % ', '.join(bad))
        if option == 'replicas' and not 1 <= value <= 5:
            if fields is CONSUMER_FIELDS and value == 0:
                pass
            else:
                raise ValidationError('replicas: %d is not allowed; JetStream supports 1 to 5 replicas' % value)
        desired[wire] = value
    return desired


def normalise(config):
    """Server config -> comparable form: server-owned metadata dropped, empty values removed."""
    cfg = copy.deepcopy(config or {})
    meta = dict((k, v) for k, v in (cfg.get('metadata') or {}).items() if not k.startswith('_nats.'))
    cfg['metadata'] = meta
    return _clean(cfg)


def diff_fields(current, desired):
    """Managed fields whose normalised values differ: {field: (current, desired)}."""
    cur = normalise(current)
    want = _clean(copy.deepcopy(desired))
    changes = {}
    for field, value in desired.items():
        a = cur.get(field)
        b = want.get(field)
        if field in ('subjects', 'filter_subjects') and a is not None and b is not None:
            if sorted(a) == sorted(b):
                continue
        if a != b:
            changes[field] = (current.get(field) if current else None, value)
    return changes


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
        if field in desired and _clean(desired[field]) not in (None, '', 0, False, [], {}) and version < minimum:
            raise ValidationError('%s: %s needs nats-server %s or later; the connected server runs %s'
                                  % (what, field, '.'.join(str(x) for x in minimum), '.'.join(str(x) for x in version)))
    placement = desired.get('placement') or {}
    if placement.get('preferred') and version < (2, 11, 0):
        raise ValidationError('%s: placement.preferred needs nats-server 2.11 or later' % what)


def strip_for_server(config):
    """A config read from the server, ready to be sent back: response-only metadata removed."""
    cfg = copy.deepcopy(config)
    if 'metadata' in cfg:
        cfg['metadata'] = dict((k, v) for k, v in (cfg.get('metadata') or {}).items() if not k.startswith('_nats.'))
        if not cfg['metadata']:
            del cfg['metadata']
    return cfg


# ---------------------------------------------------------------------------------------------
# Immutable rules
# ---------------------------------------------------------------------------------------------

def stream_immutable_changes(current, desired, version):
    """[(field, current, desired, why)] for changes JetStream cannot make in place."""
    out = []

    def cur(field, default=None):
        return current.get(field, default)

    def changed(field, default=None):
        return field in desired and _clean(desired[field]) != _clean(cur(field, default))

    if changed('storage', 'file'):
        out.append(('storage', cur('storage', 'file'), desired['storage'], 'the storage type of a stream cannot change'))
    if changed('retention', 'limits') and 'workqueue' in (cur('retention', 'limits'), desired['retention']):
        out.append(('retention', cur('retention', 'limits'), desired['retention'],
                    'retention cannot change to or from workqueue'))
    for field in ('sealed', 'deny_delete', 'deny_purge', 'allow_msg_ttl', 'allow_msg_schedules'):
        if cur(field) and field in desired and not desired[field]:
            out.append((field, True, False, '%s cannot be turned off once set' % field))
    if changed('allow_msg_counter', False):
        out.append(('allow_msg_counter', cur('allow_msg_counter', False), desired['allow_msg_counter'],
                    'allow_msg_counter cannot change'))
    if changed('persist_mode', 'default') and _clean(cur('persist_mode')) != _clean(desired.get('persist_mode') or 'default'):
        out.append(('persist_mode', cur('persist_mode', 'default'), desired['persist_mode'], 'persist_mode cannot change'))
    if 'mirror' in desired:
        a, b = _clean(cur('mirror')), _clean(desired['mirror'])
        if a != b and not (not b and version >= (2, 12, 0)):
            out.append(('mirror', cur('mirror'), desired['mirror'],
                        'the mirror of a stream cannot change (removing it, a promotion, needs nats-server 2.12+)'))
    if changed('max_consumers', -1) and version < (2, 12, 5):
        out.append(('max_consumers', cur('max_consumers'), desired['max_consumers'],
                    'max_consumers can only change on nats-server 2.12.5 or later'))
    return out


def consumer_immutable_changes(current, desired):
    out = []
    defaults = {'deliver_policy': 'all', 'ack_policy': 'none', 'replay_policy': 'instant', 'opt_start_seq': 0,
                'opt_start_time': None, 'idle_heartbeat': 0, 'flow_control': False, 'mem_storage': False}
    for field, default in defaults.items():
        if field in desired and _clean(desired[field]) != _clean(current.get(field, default)):
            out.append((field, current.get(field, default), desired[field], '%s of a consumer cannot change' % field))
    if 'max_waiting' in desired and not current.get('deliver_subject') \
            and desired['max_waiting'] != current.get('max_waiting', 512):
        out.append(('max_waiting', current.get('max_waiting'), desired['max_waiting'],
                    'max_waiting of a pull consumer cannot change'))
    if 'deliver_subject' in desired and bool(desired['deliver_subject']) != bool(current.get('deliver_subject')):
        out.append(('deliver_subject', current.get('deliver_subject') or '', desired['deliver_subject'] or '',
                    'a consumer cannot switch between pull and push'))
    return out


def immutable_message(kind, name, changes):
    parts = ['%s: %r -> %r (%s)' % (f, _show(f, a), _show(f, b), why) for f, a, b, why in changes]
    return ('%s %s cannot be updated in place: %s. Set recreate: true to delete and recreate it (its data and state '
            'are lost).' % (kind, name, '; '.join(parts)))


def _show(field, value):
    if field in DURATION_FIELDS and isinstance(value, int):
        return format_duration(value)
    return value


# ---------------------------------------------------------------------------------------------
# What the server stores: its defaults for zero values, and the rules between fields
# ---------------------------------------------------------------------------------------------

TWO_MINUTES = 120 * 1000 ** 3
THIRTY_SECONDS = 30 * 1000 ** 3
DEFAULT_MAX_ACK_PENDING = 1000
DEFAULT_MAX_WAITING = 512

# Stream limits where 0 (like leaving them out) means unlimited: the server stores -1.
STREAM_ZERO_UNLIMITED = ('max_msgs', 'max_bytes', 'max_msgs_per_subject', 'max_msg_size', 'max_consumers')


def default_duplicate_window(max_age):
    """The window nats-server picks for duplicate_window 0: two minutes, or max_age when that is shorter."""
    if max_age and max_age < TWO_MINUTES:
        return max_age
    return TWO_MINUTES


def predict_stream(body):
    """The stream config the server will store for ``body``: its defaults applied to zero and missing values
    (limits 0 -> -1, duplicate_window 0 -> 2m or max_age, replicas 0 -> 1)."""
    out = copy.deepcopy(body)
    for field in STREAM_ZERO_UNLIMITED:
        if not out.get(field):
            out[field] = -1
    if not out.get('duplicate_window') and not out.get('mirror'):
        out['duplicate_window'] = default_duplicate_window(out.get('max_age'))
    if not out.get('num_replicas'):
        out['num_replicas'] = 1
    for field, default in (('retention', 'limits'), ('storage', 'file'), ('discard', 'old')):
        if not out.get(field):
            out[field] = default
    return out


def predict_consumer(body, stream_cfg):
    """The consumer config the server will store for ``body`` on a stream with ``stream_cfg``: ack_wait is
    backoff[0] when there is a backoff (else 30s for acked consumers when 0), max_deliver 0 -> -1, and the
    stream's consumer_limits (or the server defaults) for max_ack_pending and inactive_threshold."""
    out = copy.deepcopy(body)
    ack = out.get('ack_policy') or 'none'
    limits = (stream_cfg or {}).get('consumer_limits') or {}
    for field, default in (('deliver_policy', 'all'), ('ack_policy', 'none'), ('replay_policy', 'instant')):
        if not out.get(field):
            out[field] = default
    if not out.get('deliver_subject') and not out.get('max_waiting'):
        out['max_waiting'] = DEFAULT_MAX_WAITING
    if out.get('backoff'):
        out['ack_wait'] = out['backoff'][0]
    elif not out.get('ack_wait') and ack != 'none':
        out['ack_wait'] = THIRTY_SECONDS
    if not out.get('max_deliver'):
        out['max_deliver'] = -1
    if not out.get('max_ack_pending'):
        if limits.get('max_ack_pending'):
            out['max_ack_pending'] = limits['max_ack_pending']
        elif ack != 'none':
            out['max_ack_pending'] = DEFAULT_MAX_ACK_PENDING
    if not out.get('inactive_threshold') and limits.get('inactive_threshold'):
        out['inactive_threshold'] = limits['inactive_threshold']
    if out.get('priority_policy') == 'pinned_client' and not out.get('priority_timeout'):
        out['priority_timeout'] = TWO_MINUTES
    return out


def _origin(field, desired):
    return '' if field in desired else ' (the value on the server)'


def stream_rules(after, desired, what):
    """Rules between fields of the stream config the server would store (desired merged with the current
    config); raises ValidationError naming the fields, so nothing the server would refuse is sent."""
    max_age, window = after.get('max_age') or 0, after.get('duplicate_window') or 0
    if max_age and window > max_age:
        raise ValidationError('%s: max_age %s%s is shorter than duplicate_window %s%s; JetStream needs '
                              'duplicate_window <= max_age. Set duplicate_window to %s or less (or 0 for the default).'
                              % (what, format_duration(max_age), _origin('max_age', desired), format_duration(window),
                                 _origin('duplicate_window', desired), format_duration(max_age)))


def consumer_rules(after, desired, what):
    """Rules between fields of the consumer config the server would store; raises ValidationError naming the
    fields (backoff longer than max_deliver, ack_wait other than backoff[0], both filter options)."""
    if desired.get('filter_subject') and _clean(desired.get('filter_subjects')):
        raise ValidationError('%s: filter_subject and filter_subjects are mutually exclusive' % what)
    backoff = after.get('backoff') or []
    max_deliver = after.get('max_deliver')
    if backoff and max_deliver not in (None, 0, -1) and len(backoff) > max_deliver:
        raise ValidationError('%s: backoff has %d entries%s, more than max_deliver %d%s; JetStream needs max_deliver '
                              '>= the number of backoff delays (or -1)'
                              % (what, len(backoff), _origin('backoff', desired), max_deliver,
                                 _origin('max_deliver', desired)))
    if backoff and desired.get('ack_wait') and desired['ack_wait'] != backoff[0]:
        raise ValidationError('%s: ack_wait: %s differs from the first backoff delay %s%s; with backoff JetStream '
                              'uses backoff[0] as ack_wait. Drop ack_wait or make it equal.'
                              % (what, format_duration(desired['ack_wait']), format_duration(backoff[0]),
                                 _origin('backoff', desired)))


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


# ---------------------------------------------------------------------------------------------
# Resources: read -> compare -> apply
# ---------------------------------------------------------------------------------------------

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


class StreamResource(object):
    """A stream. With a ``Listing`` (``_listing``, as apply passes one), the listing is read instead of the
    server and kept current with every change made, or planned in check mode, so later resources of the same
    run see the planned state."""

    kind = 'stream'

    def __init__(self, client, name, listing=None):
        if not NAME_RE.match(name or ''):
            raise ValidationError("name: %r is not a valid stream name (1-255 characters, no '.', '*', '>', "
                                  "'/', '\\\\' or whitespace)" % name)
        self.client = client
        self.name = name
        self.listing = listing
        self._info = None
        self._loaded = False

    # -- reading --------------------------------------------------------------------------------
    def info(self, refresh=False):
        if self._loaded and not refresh:
            return self._info
        if self.listing is not None and not refresh:
            self._info = self.listing.stream(self.name)
            self._loaded = True
            return self._info
        self._info = self.client.stream_info(self.name)
        self._loaded = True
        return self._info

    def config(self):
        info = self.info()
        return (info or {}).get('config') or {}

    def _remember(self, info, consumers_gone=False):
        if self.listing is not None:
            self.listing.put_stream(self.name, info, consumers_gone)

    def _forget(self):
        if self.listing is not None:
            self.listing.drop_stream(self.name)

    # -- validation against the live system -----------------------------------------------------
    def validate(self, desired, creating):
        version = self.client.server_version()
        check_versions(desired, version, 'stream %s' % self.name)
        replicas = desired.get('num_replicas')
        if replicas and replicas > 1:
            sinfo = self.client.server_info()
            if not sinfo.get('cluster'):
                raise ValidationError('replicas: %d needs a clustered JetStream; the connected server %s is not in a '
                                      'cluster' % (replicas, sinfo.get('server_name', '')))
            placement_cluster = (desired.get('placement') or {}).get('cluster')
            if not placement_cluster or placement_cluster == sinfo.get('cluster'):
                size = len(set(sinfo.get('connect_urls') or [])) or None
                if size and replicas > size:
                    raise ValidationError('replicas: %d is more than the %d servers of cluster %s'
                                          % (replicas, size, sinfo.get('cluster')))
        subjects = desired.get('subjects')
        if subjects:
            if self.listing is not None:
                others = self.listing.stream_configs()
            else:
                others = [s.get('config') or {} for s in self.client.streams()]
            for ocfg in others:
                if ocfg.get('name') == self.name:
                    continue
                for mine in subjects:
                    for theirs in ocfg.get('subjects') or []:
                        if subject_overlaps(mine, theirs):
                            raise ValidationError('subjects: %r overlaps %r of stream %s; a subject can belong to '
                                                  'one stream only' % (mine, theirs, ocfg.get('name')))

    # -- planning and applying ------------------------------------------------------------------
    def ensure(self, desired, state='present', recreate=False, check_mode=False, create_defaults=None):
        res = Result(self.kind, self.name)
        current = self.info()
        cur_cfg = (current or {}).get('config') or {}
        res.before = display(cur_cfg) if current else {}
        what = 'stream %s' % self.name
        if state == 'absent':
            if current:
                res.action, res.changed = 'deleted', True
                res.after = {}
                res.changes = ['delete (%d messages)' % ((current.get('state') or {}).get('messages', 0))]
                if not check_mode:
                    self.client.delete_stream(self.name)
                self._forget()
            else:
                res.action = 'absent'
            return res

        if not current:
            body = dict(create_defaults or {})
            body.update(desired)
            body['name'] = self.name
            after = predict_stream(body)
            stream_rules(after, desired, what)
            self.validate(body, creating=True)
            res.action, res.changed = 'created', True
            res.after = display(after)
            res.changes = sorted(desired)
            if not check_mode:
                res.info = self.client.create_stream(self.name, body)
                res.after = display(res.info.get('config') or after)
            self._remember(res.info or {'config': after, 'state': {'messages': 0}}, consumers_gone=True)
            return res

        # first_seq only means something when the stream is created: never sent with an update (the server would
        # move the stream's first sequence).
        desired = dict(desired)
        first_seq = desired.pop('first_seq', None)
        if first_seq is not None and _clean(first_seq) != _clean(cur_cfg.get('first_seq')):
            kept = cur_cfg.get('first_seq') or 0
            res.warnings.append('stream %s: first_seq %s ignored; it is only used when the stream is created (the '
                                'existing stream keeps first_seq %s)' % (self.name, first_seq, kept))
        body = strip_for_server(cur_cfg)
        body.update(desired)
        if 'first_seq' in cur_cfg:
            body['first_seq'] = cur_cfg['first_seq']
        after = predict_stream(body)
        stream_rules(after, desired, what)
        changes = changed_fields(cur_cfg, after, set(desired) | {'duplicate_window'})
        if not changes:
            res.after = res.before
            res.info = current
            return res
        version = self.client.server_version()
        res.changes = sorted(changes)
        immutable = stream_immutable_changes(cur_cfg, dict((k, after.get(k)) for k in changes), version)
        if immutable:
            if not recreate:
                raise ValidationError(immutable_message('stream', self.name, immutable))
            # The new stream keeps every setting of the old one that is not managed here (first_seq included).
            self.validate(dict((k, after.get(k)) for k in changes), creating=True)
            res.action, res.changed = 'recreated', True
            res.after = display(after)
            res.warnings.append('stream %s recreated: %d messages deleted' % (
                self.name, (current.get('state') or {}).get('messages', 0)))
            if not check_mode:
                self.client.delete_stream(self.name)
                res.info = self.client.create_stream(self.name, body)
                res.after = display(res.info.get('config') or after)
            # its consumers went with the old stream
            self._remember(res.info or {'config': after, 'state': {'messages': 0}}, consumers_gone=True)
            return res
        moving = 'placement' in changes and _clean(desired.get('placement'))
        if moving and 'num_replicas' in changes:
            raise ValidationError('stream %s: placement (%r -> %r) and replicas (%r -> %r) cannot change in one update; '
                                  'JetStream moves a stream or rescales it, not both at once. Change replicas first, '
                                  'then placement in a later run.' % (
                                      self.name, cur_cfg.get('placement'), desired.get('placement'),
                                      cur_cfg.get('num_replicas'), desired.get('num_replicas')))
        self.validate(dict((k, after.get(k)) for k in changes), creating=False)
        res.action, res.changed = ('moved' if moving else 'updated'), True
        res.after = display(after)
        if not check_mode:
            res.info = self.client.update_stream(self.name, body)
            res.after = display(res.info.get('config') or after)
        self._remember(res.info or dict(current, config=after))
        return res


class ConsumerResource(object):
    kind = 'consumer'

    def __init__(self, client, stream, name, listing=None):
        for label, value in (('stream', stream), ('name', name)):
            if not NAME_RE.match(value or ''):
                raise ValidationError('%s: %r is not a valid name' % (label, value))
        self.client = client
        self.stream = stream
        self.name = name
        self.listing = listing

    def _missing_stream(self):
        return ValidationError('stream: %s does not exist; create it before its consumers' % self.stream)

    def stream_config(self):
        """Config of the consumer's stream (its consumer_limits give defaults); fails when it does not exist."""
        if self.listing is not None:   # every stream (apply), kept current with what the run changes
            if self.stream in self.listing.streams:
                return (self.listing.stream(self.stream) or {}).get('config') or {}
            raise self._missing_stream()
        info = self.client.stream_info(self.stream)
        if info is None:
            raise self._missing_stream()
        return info.get('config') or {}

    def info(self):
        if self.listing is not None and self.listing.knows_consumers(self.stream):
            return self.listing.consumer(self.stream, self.name)
        # None for no consumer, and for no stream (ensure reports that through stream_config)
        return self.client.consumer_info(self.stream, self.name)

    def _remember(self, info):
        if self.listing is not None:
            self.listing.put_consumer(self.stream, self.name, info)

    def _send(self, config):
        return self.client.create_consumer(self.stream, self.name, config)

    def ensure(self, desired, state='present', recreate=False, check_mode=False):
        res = Result(self.kind, '%s/%s' % (self.stream, self.name))
        what = 'consumer %s/%s' % (self.stream, self.name)
        stream_cfg = self.stream_config() if state != 'absent' else None
        current = self.info()
        cur_cfg = (current or {}).get('config') or {}
        res.before = display(cur_cfg) if current else {}
        if state == 'absent':
            if current:
                res.action, res.changed = 'deleted', True
                res.changes = ['delete']
                if not check_mode:
                    self.client.delete_consumer(self.stream, self.name)
                self._remember(None)
            else:
                res.action = 'absent'
            return res
        check_versions(desired, self.client.server_version(), what)
        if not current:
            body = dict(desired)
            body.setdefault('ack_policy', 'explicit')   # documented default of a new consumer
            body['durable_name'] = self.name
            after = predict_consumer(body, stream_cfg)
            consumer_rules(after, desired, what)
            res.action, res.changed = 'created', True
            res.changes = sorted(desired)
            res.after = display(after)
            if not check_mode:
                res.info = self._send(body)
                res.after = display(res.info.get('config') or after)
            self._remember(res.info or {'name': self.name, 'config': after})
            return res
        # An option left out keeps its current value: the update carries the full current config.
        body = strip_for_server(cur_cfg)
        if _clean(desired.get('filter_subjects')):
            body.pop('filter_subject', None)
        if desired.get('filter_subject'):
            body.pop('filter_subjects', None)
        body.update(desired)
        after = predict_consumer(body, stream_cfg)
        consumer_rules(after, desired, what)
        changes = changed_fields(cur_cfg, after, set(desired) | {'ack_wait', 'filter_subject', 'filter_subjects'})
        if not changes:
            res.after = res.before
            res.info = current
            return res
        res.changes = sorted(changes)
        immutable = consumer_immutable_changes(cur_cfg, dict((k, after.get(k)) for k in changes))
        if immutable:
            if not recreate:
                raise ValidationError(immutable_message('consumer', '%s/%s' % (self.stream, self.name), immutable))
            res.action, res.changed = 'recreated', True
            res.after = display(after)
            if not check_mode:
                self.client.delete_consumer(self.stream, self.name)
                res.info = self._send(body)
                res.after = display(res.info.get('config') or after)
            self._remember(res.info or dict(current, config=after))
            return res
        res.action, res.changed = 'updated', True
        res.after = display(after)
        if not check_mode:
            res.info = self._send(body)
            res.after = display(res.info.get('config') or after)
        self._remember(res.info or dict(current, config=after))
        return res


# ---------------------------------------------------------------------------------------------
# KV buckets and object stores: canonical streams as nats.go and the NATS CLI create them
# ---------------------------------------------------------------------------------------------

def _bucket_managed(bucket, p):
    """Validation and the stream fields every bucket kind manages (KV and object store alike)."""
    if not BUCKET_RE.match(bucket or ''):
        raise ValidationError('bucket: %r is not a valid bucket name (letters, digits, - and _)' % bucket)
    replicas = p.get('replicas')
    if replicas is not None and not 1 <= replicas <= 5:
        raise ValidationError('replicas: %d is not allowed; JetStream supports 1 to 5 replicas' % replicas)
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
    return dict(
        bucket=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        recreate=dict(type='bool', default=False),
        description=dict(type='str'),
        ttl=dict(type='raw'),
        max_bytes=dict(type='raw'),
        storage=dict(type='str', choices=['file', 'memory']),
        replicas=dict(type='int'),
        placement=dict(type='dict'),
        compression=dict(type='bool'),
        metadata=dict(type='dict'),
    )


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


def stream_argument_spec():
    """Options of the stream module (and of apply's streams entries), connection options excluded."""
    spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        recreate=dict(type='bool', default=False),
    )
    spec.update(field_options(STREAM_FIELDS))
    return spec


def consumer_argument_spec():
    """Options of the consumer module (and of apply's consumers entries), connection options excluded."""
    spec = dict(
        stream=dict(type='str', required=True),
        name=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        recreate=dict(type='bool', default=False),
    )
    spec.update(field_options(CONSUMER_FIELDS))
    return spec


STREAM_MUTUALLY_EXCLUSIVE = [('mirror', 'sources'), ('mirror', 'subjects')]
CONSUMER_MUTUALLY_EXCLUSIVE = [('filter_subject', 'filter_subjects')]


def module_result(module, res, **extra):
    """The return values every single-resource module shares, from a Result."""
    out = dict(changed=res.changed, operation=res.action, changes=res.changes, **extra)
    if module._diff:
        out['diff'] = {'before': res.before, 'after': res.after}
    if module.params['state'] == 'present':
        out['config'] = res.after
    for warning in res.warnings:
        module.warn(warning)
    return out


def run_bucket_module(module, stream_config):
    """Body of kv_bucket and object_store: validate, connect, ensure the bucket's stream, exit."""
    try:
        create, managed = stream_config(module.params['bucket'], module.params)
    except ValidationError as exc:
        module.fail_json(msg=str(exc))
    client = JetStreamClient(module)
    client.connect()
    try:
        res = StreamResource(client, create['name']).ensure(
            managed, state=module.params['state'], recreate=module.params['recreate'],
            check_mode=module.check_mode, create_defaults=create)
        out = module_result(module, res, stream=create['name'])
    except ValidationError as exc:
        module.fail_json(msg=str(exc))
    except JetStreamAPIError as exc:
        module.fail_json(msg='JetStream refused the request for bucket %s: %s' % (module.params['bucket'], exc),
                         err_code=exc.err_code)
    finally:
        client.close()
    module.exit_json(**out)
