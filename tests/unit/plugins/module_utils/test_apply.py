# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""apply's planning and pruning (module_utils/_apply.py) against an in-memory fake of the client: no NATS."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import re

import pytest

from ansible_collections.natsops.jetstream.plugins.module_utils._apply import (
    apply_result, apply_set, build_plan, order_streams)
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    STREAM_NOT_FOUND, JetStreamAPIError)
from ansible_collections.natsops.jetstream.plugins.module_utils._consumer import predict_consumer
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import ValidationError
from ansible_collections.natsops.jetstream.plugins.module_utils._stream import predict_stream
from ansible_collections.natsops.jetstream.plugins.module_utils._listing import Listing


class FakeClient(object):
    """The JetStreamClient methods the resources and apply call, over dicts; every change is recorded in
    ``sent`` and every listing in ``listed``. Configs are stored with the server's defaults applied."""

    def __init__(self, streams=None, consumers=None, version=(2, 12, 5)):
        self.stream_infos = dict((name, {'config': predict_stream(dict(cfg, name=name)), 'state': {'messages': 3}})
                                 for name, cfg in (streams or {}).items())
        self.consumer_infos = dict((stream, dict((name, {'name': name, 'config': dict(cfg)})
                                                 for name, cfg in cons.items()))
                                   for stream, cons in (consumers or {}).items())
        self.version = version
        self.sent = []
        self.listed = []

    # facts
    def server_version(self):
        return self.version

    def server_info(self):
        return {'version': '.'.join(map(str, self.version)), 'server_name': 'n1'}

    # reading
    def streams(self, subject=None):
        self.listed.append('streams')
        return [copy.deepcopy(i) for i in self.stream_infos.values()]

    def consumers(self, stream):
        self.listed.append(stream)
        return [copy.deepcopy(i) for i in (self.consumer_infos.get(stream) or {}).values()]

    def stream_info(self, name):
        return copy.deepcopy(self.stream_infos.get(name))

    def consumer_info(self, stream, name):
        return copy.deepcopy((self.consumer_infos.get(stream) or {}).get(name))

    # changes
    def create_stream(self, name, config):
        if name in self.stream_infos:
            raise JetStreamAPIError('stream name already in use', code=400, err_code=10058)
        self.sent.append(('create_stream', name))
        self.stream_infos[name] = {'config': predict_stream(config), 'state': {'messages': 0}}
        self.consumer_infos[name] = {}
        return copy.deepcopy(self.stream_infos[name])

    def update_stream(self, name, config):
        self.sent.append(('update_stream', name))
        self.stream_infos[name]['config'] = predict_stream(config)
        return copy.deepcopy(self.stream_infos[name])

    def delete_stream(self, name):
        if name not in self.stream_infos:
            raise JetStreamAPIError('stream not found', code=404, err_code=STREAM_NOT_FOUND)
        self.sent.append(('delete_stream', name))
        del self.stream_infos[name]
        self.consumer_infos.pop(name, None)
        return {'success': True}

    def create_consumer(self, stream, name, config):
        self.sent.append(('create_consumer', stream, name))
        info = {'name': name, 'config': predict_consumer(config, self.stream_infos[stream]['config'])}
        self.consumer_infos.setdefault(stream, {})[name] = info
        return copy.deepcopy(info)

    def delete_consumer(self, stream, name):
        self.sent.append(('delete_consumer', stream, name))
        del self.consumer_infos[stream][name]
        return {'success': True}


def params(**kw):
    p = dict(streams=[], consumers=[], kv_buckets=[], object_stores=[], prune=False, prune_prefix=None)
    p.update(kw)
    return p


def run(client, p, check_mode=False):
    entries, plan = build_plan(p)
    results = []
    apply_set(client, p, entries, plan, check_mode, results)
    return results


def actions(results):
    return [(r.kind, r.name, r.action) for r in results]


# -- planning --------------------------------------------------------------------------------------

def test_entries_are_read_with_the_modules_argument_specs():
    entries, plan = build_plan(params(streams=[{'name': 'S', 'subjects': ['s.>'], 'max_msgs': '5000'}]))
    assert entries['streams'][0]['max_msgs'] == 5000
    assert plan == [('stream', entries['streams'][0], None, {'subjects': ['s.>'], 'max_msgs': 5000})]


@pytest.mark.parametrize('p, message', [
    (params(streams=[{'name': 'S', 'colour': 'red'}]), 'streams[0]: unknown option(s) colour'),
    (params(streams=['S']), 'streams[0]: must be a dict of options'),
    (params(consumers=[{'stream': 'S'}]), 'consumers[0]: missing required arguments: name'),
    (params(streams=[{'name': 'S', 'max_age': '10 parsecs'}]), 'stream S: max_age'),
    (params(streams=[{'name': 'S'}], prune=True, prune_prefix=' '), 'prune_prefix: must not be empty'),
    (params(streams=[{'name': 'A', 'mirror': {'name': 'B'}}, {'name': 'B', 'sources': [{'name': 'A'}]}]),
     'mirror/source cycle'),
])
def test_bad_sets_fail_before_anything_is_read(p, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        build_plan(p)


def test_origins_come_before_their_mirrors_and_sources():
    entries = [{'name': 'DR', 'mirror': {'name': 'MAIN'}}, {'name': 'AGG', 'sources': [{'name': 'DR'}]},
               {'name': 'MAIN'}]
    assert [e['name'] for e in order_streams(entries)] == ['MAIN', 'DR', 'AGG']


def test_kinds_are_planned_streams_buckets_then_consumers():
    entries, plan = build_plan(params(
        consumers=[{'stream': 'S', 'name': 'c'}], kv_buckets=[{'bucket': 'cfg'}], object_stores=[{'bucket': 'blobs'}],
        streams=[{'name': 'S', 'subjects': ['s.>']}]))
    assert [(kind, (create or {}).get('name')) for kind, _e, create, _d in plan] == [
        ('stream', None), ('kv_bucket', 'KV_cfg'), ('object_store', 'OBJ_blobs'), ('consumer', None)]


# -- applying --------------------------------------------------------------------------------------

def test_check_mode_plans_a_stream_and_its_consumer_and_sends_nothing():
    client = FakeClient()
    p = params(streams=[{'name': 'S', 'subjects': ['s.>']}],
               consumers=[{'stream': 'S', 'name': 'c', 'ack_wait': '10s'}])
    results = run(client, p, check_mode=True)
    assert actions(results) == [('stream', 'S', 'created'), ('consumer', 'S/c', 'created')]
    assert client.sent == []


def test_the_real_run_creates_in_dependency_order_and_a_second_run_changes_nothing():
    client = FakeClient()
    p = params(streams=[{'name': 'DR', 'mirror': {'name': 'MAIN'}}, {'name': 'MAIN', 'subjects': ['m.>']}],
               consumers=[{'stream': 'MAIN', 'name': 'c'}], kv_buckets=[{'bucket': 'cfg', 'history': 5}])
    results = run(client, p)
    assert client.sent == [('create_stream', 'MAIN'), ('create_stream', 'DR'), ('create_stream', 'KV_cfg'),
                           ('create_consumer', 'MAIN', 'c')]
    assert apply_result(results, diff=False)['summary'] == {'created': 4}
    client.sent = []
    again = run(client, p)
    assert client.sent == []
    assert [r.action for r in again] == ['unchanged'] * 4
    assert apply_result(again, diff=True) == {
        'changed': False, 'resources': [r.as_dict() for r in again], 'summary': {'unchanged': 4}, 'diff': []}


def test_the_server_is_listed_once_per_run_not_per_resource():
    client = FakeClient(streams={'S': {'subjects': ['s.>']}})
    run(client, params(streams=[{'name': 'S', 'subjects': ['s.>']}, {'name': 'T', 'subjects': ['t.>']}],
                       consumers=[{'stream': 'S', 'name': 'a'}, {'stream': 'S', 'name': 'b'}]))
    assert client.listed == ['streams', 'S']


def test_a_refused_entry_fails_in_the_planning_pass_before_anything_is_sent():
    client = FakeClient(streams={'OTHER': {'subjects': ['orders.>']}})
    p = params(streams=[{'name': 'A', 'subjects': ['a.>']}, {'name': 'B', 'subjects': ['orders.eu']}])
    results = []
    entries, plan = build_plan(p)
    with pytest.raises(ValidationError, match="'orders.eu' overlaps 'orders.>' of stream OTHER"):
        apply_set(client, p, entries, plan, False, results)
    assert client.sent == [] and results == []


def test_a_consumer_of_a_missing_stream_fails_in_planning():
    client = FakeClient()
    p = params(consumers=[{'stream': 'NOPE', 'name': 'c'}])
    entries, plan = build_plan(p)
    with pytest.raises(ValidationError, match='stream: NOPE does not exist'):
        apply_set(client, p, entries, plan, False, [])
    assert client.sent == []


def test_deletions_go_consumers_first():
    client = FakeClient(streams={'S': {'subjects': ['s.>']}}, consumers={'S': {'c': {'ack_policy': 'explicit'}}})
    results = run(client, params(streams=[{'name': 'S', 'state': 'absent'}],
                                 consumers=[{'stream': 'S', 'name': 'c', 'state': 'absent'}]))
    assert client.sent == [('delete_consumer', 'S', 'c'), ('delete_stream', 'S')]
    assert actions(results) == [('consumer', 'S/c', 'deleted'), ('stream', 'S', 'deleted')]


# -- pruning ---------------------------------------------------------------------------------------

def existing():
    return FakeClient(
        streams={'SHOP_ORDERS': {'subjects': ['o.>']}, 'SHOP_OLD': {'subjects': ['old.>']},
                 'TEAM_X': {'subjects': ['x.>']}, 'KV_SHOP_carts': {'subjects': ['$KV.SHOP_carts.>']},
                 'OBJ_SHOP_files': {'subjects': ['$O.SHOP_files.C.>']}, 'OTHER': {'subjects': ['other.>']}},
        consumers={'SHOP_ORDERS': {'SHOP_billing': {}, 'SHOP_gone': {}, 'theirs': {}},
                   'OTHER': {'SHOP_stray': {}}})


def test_prune_deletes_only_what_the_set_owns_of_the_kinds_it_declares():
    client = existing()
    p = params(streams=[{'name': 'SHOP_ORDERS', 'subjects': ['o.>']}, {'name': 'OTHER', 'subjects': ['other.>']}],
               consumers=[{'stream': 'SHOP_ORDERS', 'name': 'SHOP_billing'}], prune=True, prune_prefix='SHOP_')
    planned = run(client, p, check_mode=True)
    assert client.sent == []
    results = run(client, p)
    assert actions(results) == actions(planned)
    # OTHER is declared, so its prefixed consumer goes; KV and object store streams stay (no bucket declared);
    # TEAM_X does not have the prefix; a consumer without the prefix stays.
    assert client.sent == [('delete_consumer', 'OTHER', 'SHOP_stray'), ('delete_consumer', 'SHOP_ORDERS', 'SHOP_gone'),
                           ('delete_stream', 'SHOP_OLD')]


def test_prune_of_buckets_reads_the_bucket_name_and_leaves_consumers_without_declared_consumers():
    client = existing()
    p = params(kv_buckets=[{'bucket': 'SHOP_other'}], prune=True, prune_prefix='SHOP_')
    run(client, p)
    assert client.sent == [('create_stream', 'KV_SHOP_other'), ('delete_stream', 'KV_SHOP_carts')]


def test_consumers_of_undeclared_streams_are_never_pruned():
    client = existing()
    p = params(streams=[{'name': 'SHOP_NEW', 'subjects': ['n.>']}], consumers=[{'stream': 'OTHER', 'name': 'SHOP_x'}],
               prune=True, prune_prefix='SHOP_')
    run(client, p)
    assert ('delete_consumer', 'OTHER', 'SHOP_stray') not in client.sent
    assert ('delete_stream', 'SHOP_ORDERS') in client.sent and ('delete_stream', 'SHOP_OLD') in client.sent


# -- the listing -----------------------------------------------------------------------------------

def test_the_listing_follows_changes_and_a_copy_is_independent():
    client = FakeClient(streams={'S': {}}, consumers={'S': {'c': {}}})
    listing = Listing.load(client, ['S', 'MISSING'])
    assert sorted(listing.consumers) == ['S'] and listing.knows_consumers('S')
    assert not listing.knows_consumers('MISSING')
    snapshot = listing.copy()
    listing.put_consumer('S', 'c', None)
    listing.put_stream('T', {'config': {'name': 'T'}})
    assert listing.consumer_names('S') == [] and listing.consumer_names('T') == []
    assert snapshot.consumer_names('S') == ['c'] and snapshot.stream('T') is None
    listing.put_stream('S', {'config': {'name': 'S'}}, consumers_gone=True)
    listing.drop_stream('T')
    assert listing.stream('T') is None and not listing.knows_consumers('T')
    assert [c.get('name') for c in listing.stream_configs()] == ['S']
