# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The apply module's work: every entry of a set validated with its module's argument spec and put in
dependency order (the plan), the plan applied over one client and one listing of the server (planned first
exactly as check mode plans it, then applied), and the undeclared resources the set owns pruned."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.natsops.jetstream.plugins.module_utils._listing import Listing
from ansible_collections.natsops.jetstream.plugins.module_utils._buckets import (
    bucket_stream_name, kv_argument_spec, kv_stream_config, obj_stream_config, object_store_argument_spec, stream_kind)
from ansible_collections.natsops.jetstream.plugins.module_utils._consumer import CONSUMER_MUTUALLY_EXCLUSIVE, ConsumerResource, consumer_argument_spec
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import CONSUMER_FIELDS, STREAM_FIELDS, ValidationError, build_desired
from ansible_collections.natsops.jetstream.plugins.module_utils._stream import STREAM_MUTUALLY_EXCLUSIVE, StreamResource, stream_argument_spec


def apply_argument_spec():
    """Options of the apply module, connection options excluded."""
    return dict(
        streams=dict(type='list', elements='dict', default=[]),
        consumers=dict(type='list', elements='dict', default=[]),
        kv_buckets=dict(type='list', elements='dict', default=[]),
        object_stores=dict(type='list', elements='dict', default=[]),
        prune=dict(type='bool', default=False),
        prune_prefix=dict(type='str'),
    )


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


def _desired(fields, kind, entry):
    try:
        return build_desired(fields, entry)
    except ValidationError as exc:
        raise ValidationError('%s %s: %s' % (kind[:-1], entry.get('name'), exc))


def build_plan(p):
    """Every entry validated and converted, in apply order: (entries by kind, [(kind, params, create config,
    desired)]). Raises ValidationError before anything is read or sent."""
    entries = {}
    for kind in ENTRY_SPECS:
        entries[kind] = [validate_entry(kind, i, e) for i, e in enumerate(p[kind])]
    if p['prune'] and not (p['prune_prefix'] or '').strip():
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


def execute(client, listing, p, entries, plan, check_mode, results):
    """Ensure every resource, then prune. ``listing`` follows every change (planned or made), so consumers see
    their streams created or recreated earlier in the run, and prune sees the result."""
    present = [x for x in plan if x[1].get('state') != 'absent']
    absent = [x for x in plan if x[1].get('state') == 'absent']
    # Deletions go in reverse dependency order: consumers, then buckets and streams.
    absent.sort(key=lambda x: 0 if x[0] == 'consumer' else 1)
    for kind, entry, create, desired in present + absent:
        state = entry.get('state') or 'present'
        recreate = bool(entry.get('recreate'))
        if kind == 'consumer':
            res = ConsumerResource(client, entry['stream'], entry['name'], listing).ensure(
                desired, state=state, recreate=recreate, check_mode=check_mode)
        else:
            name = create['name'] if create else entry['name']
            res = StreamResource(client, name, listing).ensure(desired, state=state, recreate=recreate,
                                                               check_mode=check_mode, create_defaults=create)
            res.kind = kind
        results.append(res)
    if p['prune']:
        results.extend(prune(client, listing, p['prune_prefix'], entries, check_mode))


def prune(client, listing, prefix, entries, check_mode):
    """Delete what the set owns (the prefix) but does not declare, for each kind the set declares. Consumers
    only on the streams declared (state present) in the set's streams, and only when the set declares
    consumers; a stream that is deleted takes its consumers with it."""
    results = []
    kinds = {'stream': bool(entries['streams']), 'kv_bucket': bool(entries['kv_buckets']),
             'object_store': bool(entries['object_stores'])}
    declared = set(e['name'] for e in entries['streams']) | \
        set(bucket_stream_name('kv_bucket', e['bucket']) for e in entries['kv_buckets']) | \
        set(bucket_stream_name('object_store', e['bucket']) for e in entries['object_stores'])
    doomed = []
    for name in sorted(listing.streams):
        kind, short = stream_kind(name)
        if kinds[kind] and short.startswith(prefix) and name not in declared:
            doomed.append((kind, name))
    if entries['consumers']:
        declared_c = set((e['stream'], e['name']) for e in entries['consumers'])
        owned = sorted(set(e['name'] for e in entries['streams'] if e.get('state') != 'absent'))
        for stream in owned:
            for cname in listing.consumer_names(stream):
                if cname.startswith(prefix) and (stream, cname) not in declared_c:
                    results.append(ConsumerResource(client, stream, cname, listing).ensure(
                        {}, state='absent', check_mode=check_mode))
    for kind, name in doomed:
        res = StreamResource(client, name, listing).ensure({}, state='absent', check_mode=check_mode)
        res.kind = kind
        results.append(res)
    return results


def apply_set(client, p, entries, plan, check_mode, results):
    """Plan the whole set against one listing of the server (as check mode does: every rule, including those
    between an entry and what is on the server, is checked before anything is sent), then apply it unless in
    check mode. ``results`` receives the Results of the real pass (in check mode, of the planning pass)."""
    streams = set(e['name'] for e in entries['streams']) | set(e['stream'] for e in entries['consumers'])
    listing = Listing.load(client, streams)
    planned = []
    execute(client, listing.copy(), p, entries, plan, True, planned)
    if check_mode:
        results.extend(planned)
    else:
        execute(client, listing, p, entries, plan, False, results)
    return results


def apply_result(results, diff):
    """apply's return values from its Results: resources, summary and (in diff mode) one diff per change."""
    summary = {}
    for r in results:
        summary[r.action] = summary.get(r.action, 0) + 1
    out = dict(changed=any(r.changed for r in results), resources=[r.as_dict() for r in results], summary=summary)
    if diff:
        out['diff'] = [{'before_header': '%s %s' % (r.kind, r.name), 'after_header': '%s %s' % (r.kind, r.name),
                        'before': r.before, 'after': r.after} for r in results if r.changed]
    return out
