#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: apply
short_description: Apply a whole set of streams, consumers, KV buckets and object stores, optionally pruning the rest
version_added: 0.1.0
description:
  - Applies every resource of the set over one connection, in dependency order (origins before the mirrors and
    sources that read them, streams before their consumers), and reports per resource whether it was created,
    updated, moved, recreated, deleted or unchanged, with a diff.
  - Each entry takes the options of the matching module (M(natsops.jetstream.stream),
    M(natsops.jetstream.consumer), M(natsops.jetstream.kv_bucket), M(natsops.jetstream.object_store)), including
    C(state) and C(recreate). Every entry is validated before anything is sent.
  - With O(prune=true), resources of a kind present in the set whose name starts with O(prune_prefix) but that are
    not declared are deleted (consumers only on the streams of the set). Check mode lists exactly what would go.
author: natsops maintainers (@natsops)
options:
  streams:
    description: Streams, each a dict of M(natsops.jetstream.stream) options (C(name) required).
    type: list
    elements: dict
    default: []
  consumers:
    description: Consumers, each a dict of M(natsops.jetstream.consumer) options (C(stream), C(name) required).
    type: list
    elements: dict
    default: []
  kv_buckets:
    description: KV buckets, each a dict of M(natsops.jetstream.kv_bucket) options (C(bucket) required).
    type: list
    elements: dict
    default: []
  object_stores:
    description: Object stores, each a dict of M(natsops.jetstream.object_store) options (C(bucket) required).
    type: list
    elements: dict
    default: []
  prune:
    description: Delete undeclared resources whose name starts with O(prune_prefix).
    type: bool
    default: false
  prune_prefix:
    description:
      - Name prefix of the resources this set owns; required with O(prune=true) so nobody deletes what they do not own.
      - For KV buckets and object stores it applies to the bucket name.
    type: str
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.attributes
attributes:
  action_group:
    description: Use C(group/natsops.jetstream.jetstream) in C(module_defaults) to set the connection once.
    support: full
    membership: [natsops.jetstream.jetstream]
seealso:
  - module: natsops.jetstream.stream
  - module: natsops.jetstream.consumer
'''

EXAMPLES = r'''
- name: Apply the team's JetStream resources and remove what is no longer declared
  natsops.jetstream.apply:
    prune: true
    prune_prefix: "SHOP_"
    streams:
      - name: SHOP_ORDERS
        subjects: ["shop.orders.>"]
        replicas: 3
        max_age: 30d
      - name: SHOP_ORDERS_DR
        mirror: {name: SHOP_ORDERS}
        placement: {cluster: c2}
        replicas: 3
    consumers:
      - {stream: SHOP_ORDERS, name: SHOP_billing, ack_wait: 30s, max_deliver: 5}
    kv_buckets:
      - {bucket: SHOP_carts, history: 5, ttl: 7d, replicas: 3}
  delegate_to: localhost
'''

RETURN = r'''
resources:
  description: One entry per resource handled, in the order applied.
  returned: always
  type: list
  elements: dict
  sample: [{kind: stream, name: SHOP_ORDERS, action: updated, changed: true, changes: [max_age]}]
summary:
  description: Count of resources per action.
  returned: always
  type: dict
  sample: {created: 1, updated: 1, unchanged: 3, deleted: 0}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    JetStreamAPIError, JetStreamClient, jetstream_argument_spec, nats_common_module_kwargs)
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream_resources import (
    CONSUMER_FIELDS, STREAM_FIELDS, ConsumerResource, StreamResource, ValidationError, build_desired,
    field_options, kv_stream_config, obj_stream_config)

COMMON = {'state', 'recreate'}
KV_OPTIONS = {'bucket', 'description', 'history', 'max_value_size', 'republish', 'limit_marker_ttl', 'ttl', 'max_bytes',
              'storage', 'replicas', 'placement', 'compression', 'metadata'}
OBJ_OPTIONS = {'bucket', 'description', 'ttl', 'max_bytes', 'storage', 'replicas', 'placement', 'compression',
               'metadata'}


def _check_keys(kind, index, entry, allowed, required):
    if not isinstance(entry, dict):
        raise ValidationError('%s[%d]: must be a dict of options, got %r' % (kind, index, entry))
    unknown = sorted(set(entry) - set(allowed) - COMMON)
    if unknown:
        raise ValidationError('%s[%d]: unknown option(s) %s' % (kind, index, ', '.join(unknown)))
    for key in required:
        if not entry.get(key):
            raise ValidationError('%s[%d]: %s is required' % (kind, index, key))
    if entry.get('state', 'present') not in ('present', 'absent'):
        raise ValidationError('%s[%d]: state must be one of present, absent, got %r' % (kind, index, entry.get('state')))
    spec = field_options(STREAM_FIELDS if kind == 'streams' else CONSUMER_FIELDS) if kind in ('streams', 'consumers') else {}
    for key, value in entry.items():
        choices = (spec.get(key) or {}).get('choices')
        if choices and value is not None and value not in choices:
            raise ValidationError('%s[%d].%s: %r is not one of %s' % (kind, index, key, value, ', '.join(choices)))


def order_streams(entries):
    """Origins before the mirrors and sources that read them (within the set)."""
    by_name = dict((e['name'], e) for e in entries)
    done, ordered, visiting = set(), [], set()

    def visit(entry):
        name = entry['name']
        if name in done:
            return
        if name in visiting:
            raise ValidationError('streams: %s is part of a mirror/source cycle' % name)
        visiting.add(name)
        deps = [(entry.get('mirror') or {}).get('name')] + [s.get('name') for s in entry.get('sources') or []]
        for dep in deps:
            if dep in by_name:
                visit(by_name[dep])
        visiting.discard(name)
        done.add(name)
        ordered.append(entry)

    for entry in entries:
        visit(entry)
    return ordered


def main():
    argument_spec = jetstream_argument_spec()
    argument_spec.update(
        streams=dict(type='list', elements='dict', default=[]),
        consumers=dict(type='list', elements='dict', default=[]),
        kv_buckets=dict(type='list', elements='dict', default=[]),
        object_stores=dict(type='list', elements='dict', default=[]),
        prune=dict(type='bool', default=False),
        prune_prefix=dict(type='str'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True,
                           required_if=[('prune', True, ['prune_prefix'])], **nats_common_module_kwargs())
    p = module.params
    stream_opts = set(field_options(STREAM_FIELDS)) | {'name'}
    consumer_opts = set(field_options(CONSUMER_FIELDS)) | {'stream', 'name'}
    plan = []
    try:
        for i, e in enumerate(p['streams']):
            _check_keys('streams', i, e, stream_opts, ['name'])
        for i, e in enumerate(p['consumers']):
            _check_keys('consumers', i, e, consumer_opts, ['stream', 'name'])
        for i, e in enumerate(p['kv_buckets']):
            _check_keys('kv_buckets', i, e, KV_OPTIONS, ['bucket'])
        for i, e in enumerate(p['object_stores']):
            _check_keys('object_stores', i, e, OBJ_OPTIONS, ['bucket'])
        if p['prune'] and not p['prune_prefix'].strip():
            raise ValidationError('prune_prefix: must not be empty when prune is true')
        for e in order_streams(p['streams']):
            plan.append(('stream', e, None, build_desired(STREAM_FIELDS, e)))
        for e in p['kv_buckets']:
            create, managed = kv_stream_config(e['bucket'], e)
            plan.append(('kv_bucket', e, create, managed))
        for e in p['object_stores']:
            create, managed = obj_stream_config(e['bucket'], e)
            plan.append(('object_store', e, create, managed))
        for e in p['consumers']:
            plan.append(('consumer', e, None, build_desired(CONSUMER_FIELDS, e)))
    except ValidationError as exc:
        module.fail_json(msg=str(exc))

    # Deletions go in reverse dependency order: consumers, then buckets and streams.
    present = [x for x in plan if x[1].get('state', 'present') == 'present']
    absent = [x for x in plan if x[1].get('state', 'present') == 'absent']
    absent.sort(key=lambda x: 0 if x[0] == 'consumer' else 1)

    client = JetStreamClient(module)
    client.connect()
    results = []
    try:
        # One listing of every stream (and of the consumers of the streams in the set) instead of an INFO
        # request per resource; the resources keep it current as they change things.
        client.stream_listing = dict((s['config']['name'], s) for s in client.paged('STREAM.LIST', 'streams'))
        client.consumer_listing = {}
        for stream in sorted(set(e['stream'] for e in p['consumers'])):
            if stream in client.stream_listing:
                client.consumer_listing[stream] = dict(
                    (c['name'], c) for c in client.paged('CONSUMER.LIST.%s' % stream, 'consumers'))
        for kind, entry, create, desired in present + absent:
            state = entry.get('state', 'present')
            recreate = bool(entry.get('recreate', False))
            if kind == 'consumer':
                res = ConsumerResource(client, entry['stream'], entry['name']).ensure(
                    desired, state=state, recreate=recreate, check_mode=module.check_mode)
            else:
                name = create['name'] if create else entry['name']
                res = StreamResource(client, name).ensure(desired, state=state, recreate=recreate,
                                                          check_mode=module.check_mode, create_defaults=create)
                res.kind = kind
            results.append(res)

        if p['prune']:
            prefix = p['prune_prefix']
            client.stream_listing = None
            client.consumer_listing = None
            existing = [s['config']['name'] for s in client.paged('STREAM.LIST', 'streams')]
            kinds = {'stream': bool(p['streams']), 'kv_bucket': bool(p['kv_buckets']),
                     'object_store': bool(p['object_stores'])}
            declared = set(e['name'] for e in p['streams']) | set('KV_' + e['bucket'] for e in p['kv_buckets']) | \
                set('OBJ_' + e['bucket'] for e in p['object_stores'])
            doomed = []
            for name in existing:
                if name.startswith('KV_'):
                    kind, short = 'kv_bucket', name[3:]
                elif name.startswith('OBJ_'):
                    kind, short = 'object_store', name[4:]
                else:
                    kind, short = 'stream', name
                if kinds[kind] and short.startswith(prefix) and name not in declared:
                    doomed.append((kind, name))
            if p['consumers']:
                declared_c = set((e['stream'], e['name']) for e in p['consumers'])
                for stream in sorted(set(e['stream'] for e in p['consumers'])):
                    if stream in [d[1] for d in doomed]:
                        continue
                    for c in client.paged('CONSUMER.LIST.%s' % stream, 'consumers'):
                        cname = c['name']
                        if cname.startswith(prefix) and (stream, cname) not in declared_c:
                            res = ConsumerResource(client, stream, cname).ensure({}, state='absent',
                                                                                 check_mode=module.check_mode)
                            results.append(res)
            for kind, name in doomed:
                res = StreamResource(client, name).ensure({}, state='absent', check_mode=module.check_mode)
                res.kind = kind
                results.append(res)
    except ValidationError as exc:
        module.fail_json(msg=str(exc), resources=[r.as_dict() for r in results])
    except JetStreamAPIError as exc:
        module.fail_json(msg='JetStream refused a request: %s' % exc, err_code=exc.err_code,
                         resources=[r.as_dict() for r in results])
    finally:
        client.close()

    summary = {}
    for r in results:
        summary[r.action] = summary.get(r.action, 0) + 1
    out = dict(changed=any(r.changed for r in results), resources=[r.as_dict() for r in results], summary=summary)
    if module._diff:
        out['diff'] = [{'before_header': '%s %s' % (r.kind, r.name), 'after_header': '%s %s' % (r.kind, r.name),
                        'before': r.before, 'after': r.after} for r in results if r.changed]
    for r in results:
        for warning in r.warnings:
            module.warn(warning)
    module.exit_json(**out)


if __name__ == '__main__':
    main()
