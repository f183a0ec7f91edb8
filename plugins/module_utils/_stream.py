# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Streams: what the server stores for a config, the rules between fields, the changes it cannot make in
place, and the read -> compare -> apply cycle (``StreamResource``)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import format_duration, subject_overlaps
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import (
    NAME_RE, STREAM_FIELDS, TWO_MINUTES, Result, ValidationError, changed_fields, check_versions, clean, display,
    field_options, immutable_message, lifecycle_options, origin_note, strip_for_server)


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


def stream_rules(after, desired, what):
    """Rules between fields of the stream config the server would store (desired merged with the current
    config); raises ValidationError naming the fields, so nothing the server would refuse is sent."""
    max_age, window = after.get('max_age') or 0, after.get('duplicate_window') or 0
    if max_age and window > max_age:
        raise ValidationError('%s: max_age %s%s is shorter than duplicate_window %s%s; JetStream needs '
                              'duplicate_window <= max_age. Set duplicate_window to %s or less (or 0 for the default).'
                              % (what, format_duration(max_age), origin_note('max_age', desired), format_duration(window),
                                 origin_note('duplicate_window', desired), format_duration(max_age)))


def stream_immutable_changes(current, desired, version):
    """[(field, current, desired, why)] for changes JetStream cannot make in place."""
    out = []

    def cur(field, default=None):
        return current.get(field, default)

    def changed(field, default=None):
        return field in desired and clean(desired[field]) != clean(cur(field, default))

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
    if changed('persist_mode', 'default') and clean(cur('persist_mode')) != clean(desired.get('persist_mode') or 'default'):
        out.append(('persist_mode', cur('persist_mode', 'default'), desired['persist_mode'], 'persist_mode cannot change'))
    if 'mirror' in desired:
        a, b = clean(cur('mirror')), clean(desired['mirror'])
        if a != b and not (not b and version >= (2, 12, 0)):
            out.append(('mirror', cur('mirror'), desired['mirror'],
                        'the mirror of a stream cannot change (removing it, a promotion, needs nats-server 2.12+)'))
    if changed('max_consumers', -1) and version < (2, 12, 5):
        out.append(('max_consumers', cur('max_consumers'), desired['max_consumers'],
                    'max_consumers can only change on nats-server 2.12.5 or later'))
    return out


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
        if first_seq is not None and clean(first_seq) != clean(cur_cfg.get('first_seq')):
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
        moving = 'placement' in changes and clean(desired.get('placement'))
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


def stream_argument_spec():
    """Options of the stream module (and of apply's streams entries), connection options excluded."""
    spec = lifecycle_options(name=dict(type='str', required=True))
    spec.update(field_options(STREAM_FIELDS))
    return spec


STREAM_MUTUALLY_EXCLUSIVE = [('mirror', 'sources'), ('mirror', 'subjects')]
