# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Consumers: what the server stores for a config on its stream, the rules between fields, the changes it
cannot make in place, and the read -> compare -> apply cycle (``ConsumerResource``)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import format_duration
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import (
    CONSUMER_FIELDS, NAME_RE, TWO_MINUTES, Result, ValidationError, changed_fields, check_versions, clean, display,
    field_options, immutable_message, lifecycle_options, origin_note, strip_for_server)


THIRTY_SECONDS = 30 * 1000 ** 3
DEFAULT_MAX_ACK_PENDING = 1000
DEFAULT_MAX_WAITING = 512


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


def consumer_rules(after, desired, what):
    """Rules between fields of the consumer config the server would store; raises ValidationError naming the
    fields (backoff longer than max_deliver, ack_wait other than backoff[0], both filter options)."""
    if desired.get('filter_subject') and clean(desired.get('filter_subjects')):
        raise ValidationError('%s: filter_subject and filter_subjects are mutually exclusive' % what)
    backoff = after.get('backoff') or []
    max_deliver = after.get('max_deliver')
    if backoff and max_deliver not in (None, 0, -1) and len(backoff) > max_deliver:
        raise ValidationError('%s: backoff has %d entries%s, more than max_deliver %d%s; JetStream needs max_deliver '
                              '>= the number of backoff delays (or -1)'
                              % (what, len(backoff), origin_note('backoff', desired), max_deliver,
                                 origin_note('max_deliver', desired)))
    if backoff and desired.get('ack_wait') and desired['ack_wait'] != backoff[0]:
        raise ValidationError('%s: ack_wait: %s differs from the first backoff delay %s%s; with backoff JetStream '
                              'uses backoff[0] as ack_wait. Drop ack_wait or make it equal.'
                              % (what, format_duration(desired['ack_wait']), format_duration(backoff[0]),
                                 origin_note('backoff', desired)))


def consumer_immutable_changes(current, desired):
    out = []
    defaults = {'deliver_policy': 'all', 'ack_policy': 'none', 'replay_policy': 'instant', 'opt_start_seq': 0,
                'opt_start_time': None, 'idle_heartbeat': 0, 'flow_control': False, 'mem_storage': False}
    for field, default in defaults.items():
        if field in desired and clean(desired[field]) != clean(current.get(field, default)):
            out.append((field, current.get(field, default), desired[field], '%s of a consumer cannot change' % field))
    if 'max_waiting' in desired and not current.get('deliver_subject') \
            and desired['max_waiting'] != current.get('max_waiting', 512):
        out.append(('max_waiting', current.get('max_waiting'), desired['max_waiting'],
                    'max_waiting of a pull consumer cannot change'))
    if 'deliver_subject' in desired and bool(desired['deliver_subject']) != bool(current.get('deliver_subject')):
        out.append(('deliver_subject', current.get('deliver_subject') or '', desired['deliver_subject'] or '',
                    'a consumer cannot switch between pull and push'))
    return out


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

    def info(self, refresh=False):
        if self.listing is not None and self.listing.knows_consumers(self.stream) and not refresh:
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
        if clean(desired.get('filter_subjects')):
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


def consumer_argument_spec():
    """Options of the consumer module (and of apply's consumers entries), connection options excluded."""
    spec = lifecycle_options(stream=dict(type='str', required=True), name=dict(type='str', required=True))
    spec.update(field_options(CONSUMER_FIELDS))
    return spec


CONSUMER_MUTUALLY_EXCLUSIVE = [('filter_subject', 'filter_subjects')]
