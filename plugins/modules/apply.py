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
    C(state) and C(recreate), and is read with that module's argument spec, so values are converted the same way
    (for example C(max_msgs="5000") from extra vars is the integer 5000).
  - Every entry is validated before anything is sent, including the rules that depend on what is on the server;
    the whole set is planned first, exactly as check mode plans it, and only then applied.
  - Consumers are planned against the state their stream will have; a stream created or recreated in the same run
    has no consumers yet, so its declared consumers are created (in check mode too).
  - With O(prune=true), resources of a kind present in the set whose name starts with O(prune_prefix) but that are
    not declared are deleted. Consumers are pruned only when the set declares at least one consumer, and
    only on the streams declared (C(state=present)) in O(streams) of the same set, including those of them that
    declare no consumer; consumers of streams the set does not declare (even when one of their consumers is
    declared) and of KV and object store streams are never pruned. Check mode lists exactly what would go.
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
    description:
      - Delete undeclared resources whose name starts with O(prune_prefix), for the kinds the set declares.
      - Undeclared consumers are deleted only on the streams declared in O(streams), and only when O(consumers) is
        not empty.
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
  - natsops.jetstream.units
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

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    JetStreamAPIError, JetStreamClient, jetstream_argument_spec, nats_common_module_kwargs)
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream_resources import (
    CONSUMER_FIELDS, CONSUMER_MUTUALLY_EXCLUSIVE, STREAM_FIELDS, STREAM_MUTUALLY_EXCLUSIVE, ConsumerResource,
    StreamResource, ValidationError, build_desired, consumer_argument_spec, kv_argument_spec, kv_stream_config,
    obj_stream_config, object_store_argument_spec, stream_argument_spec)

# Each kind of entry is read with the argument spec of its module, so types are converted (max_msgs: "5000"
# from extra vars becomes 5000) and choices, required options and exclusions are checked exactly as there.
ENTRY_SPECS = {
    'streams': (stream_argument_spec, STREAM_MUTUALLY_EXCLUSIVE),
    'consumers': (consumer_argument_spec, CONSUMER_MUTUALLY_EXCLUSIVE),
    'kv_buckets': (kv_argument_spec, []),
    'object_stores': (object_store_argument_spec, []),
}


def validate_entry(kind, index, entry):
    """An entry's options converted and checked with its module's argument spec; raises ValidationError."""
    if not isinstance(entry, dict):
        raise ValidationError('%s[%d]: must be a dict of options, got %r' % (kind, index, entry))
    spec_fn, exclusive = ENTRY_SPECS[kind]
    spec = spec_fn()
    unknown = sorted(set(entry) - set(spec))
    if unknown:
        raise ValidationError('%s[%d]: unknown option(s) %s' % (kind, index, ', '.join(unknown)))
    result = ArgumentSpecValidator(spec, mutually_exclusive=exclusive).validate(dict(entry))
    if result.error_messages:
        raise ValidationError('%s[%d]: %s' % (kind, index, '; '.join(result.error_messages)))
    return result.validated_parameters


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


def build_plan(p):
    """Every entry validated and converted, in apply order: [(kind, params, create config, desired)].
    Raises ValidationError before anything is read or sent."""
    entries = {}
    for kind in ENTRY_SPECS:
        entries[kind] = [validate_entry(kind, i, e) for i, e in enumerate(p[kind])]
    if p['prune'] and not p['prune_prefix'].strip():
        raise ValidationError('prune_prefix: must not be empty when prune is true')
    plan = []
    for e in order_streams(entries['streams']):
        plan.append(('stream', e, None, _desired(STREAM_FIELDS, 'streams', e)))
    for e in entries['kv_buckets']:
        create, managed = kv_stream_config(e['bucket'], e)
        plan.append(('kv_bucket', e, create, managed))
    for e in entries['object_stores']:
        create, managed = obj_stream_config(e['bucket'], e)
        plan.append(('object_store', e, create, managed))
    for e in entries['consumers']:
        plan.append(('consumer', e, None, _desired(CONSUMER_FIELDS, 'consumers', e)))
    return entries, plan


def _desired(fields, kind, entry):
    try:
        return build_desired(fields, entry)
    except ValidationError as exc:
        raise ValidationError('%s %s: %s' % (kind[:-1], entry.get('name'), exc))


def load_listings(client, streams):
    """One listing of every stream, and of the consumers of ``streams``, instead of a request per resource."""
    client.stream_listing = dict((s['config']['name'], s) for s in client.streams())
    client.consumer_listing = {}
    for stream in sorted(streams):
        if stream in client.stream_listing:
            client.consumer_listing[stream] = dict(
                (c['name'], c) for c in client.consumers(stream))


def execute(client, p, entries, plan, check_mode, results):
    """Ensure every resource, then prune. The listings on the client follow every change (planned or made),
    so consumers see their streams created or recreated earlier in the run, and prune sees the result."""
    present = [x for x in plan if x[1].get('state') != 'absent']
    absent = [x for x in plan if x[1].get('state') == 'absent']
    # Deletions go in reverse dependency order: consumers, then buckets and streams.
    absent.sort(key=lambda x: 0 if x[0] == 'consumer' else 1)
    for kind, entry, create, desired in present + absent:
        state = entry.get('state') or 'present'
        recreate = bool(entry.get('recreate'))
        if kind == 'consumer':
            res = ConsumerResource(client, entry['stream'], entry['name']).ensure(
                desired, state=state, recreate=recreate, check_mode=check_mode)
        else:
            name = create['name'] if create else entry['name']
            res = StreamResource(client, name).ensure(desired, state=state, recreate=recreate,
                                                      check_mode=check_mode, create_defaults=create)
            res.kind = kind
        results.append(res)
    if p['prune']:
        results.extend(prune(client, p, entries, check_mode))


def prune(client, p, entries, check_mode):
    """Delete what the set owns (the prefix) but does not declare, for each kind the set declares. Consumers
    only on the streams declared (state present) in the set's streams, and only when the set declares
    consumers; a stream that is deleted takes its consumers with it."""
    prefix = p['prune_prefix']
    results = []
    kinds = {'stream': bool(entries['streams']), 'kv_bucket': bool(entries['kv_buckets']),
             'object_store': bool(entries['object_stores'])}
    declared = set(e['name'] for e in entries['streams']) | set('KV_' + e['bucket'] for e in entries['kv_buckets']) | \
        set('OBJ_' + e['bucket'] for e in entries['object_stores'])
    doomed = []
    for name in sorted(client.stream_listing):
        if name.startswith('KV_'):
            kind, short = 'kv_bucket', name[3:]
        elif name.startswith('OBJ_'):
            kind, short = 'object_store', name[4:]
        else:
            kind, short = 'stream', name
        if kinds[kind] and short.startswith(prefix) and name not in declared:
            doomed.append((kind, name))
    if entries['consumers']:
        declared_c = set((e['stream'], e['name']) for e in entries['consumers'])
        owned = sorted(set(e['name'] for e in entries['streams'] if e.get('state') != 'absent'))
        for stream in owned:
            for cname in sorted(client.consumer_listing.get(stream) or {}):
                if cname.startswith(prefix) and (stream, cname) not in declared_c:
                    results.append(ConsumerResource(client, stream, cname).ensure({}, state='absent',
                                                                                  check_mode=check_mode))
    for kind, name in doomed:
        res = StreamResource(client, name).ensure({}, state='absent', check_mode=check_mode)
        res.kind = kind
        results.append(res)
    return results


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
    try:
        entries, plan = build_plan(p)
    except ValidationError as exc:
        module.fail_json(msg=str(exc))

    client = JetStreamClient(module)
    client.connect()
    results = []   # of the real pass (the planning pass sends nothing, so a failure there reports none)
    planned = []
    try:
        load_listings(client, set(e['name'] for e in entries['streams']) | set(e['stream'] for e in entries['consumers']))
        listings = (copy.deepcopy(client.stream_listing), copy.deepcopy(client.consumer_listing))
        # Every entry is planned first, as check mode does, against the listings: every rule (including those
        # between an entry and what is on the server) is checked before anything is sent.
        execute(client, p, entries, plan, True, planned)
        if module.check_mode:
            results = planned
        else:
            client.stream_listing, client.consumer_listing = listings
            execute(client, p, entries, plan, False, results)
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
