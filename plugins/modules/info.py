#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: info
short_description: Facts about a NATS server, its JetStream account and the streams, consumers and buckets present
version_added: 0.1.0
description:
  - Reads the connected server's version and JetStream API level, the account's JetStream limits and usage, and
    lists every stream (with every page of the API's paging), optionally their consumers, KV buckets and object stores.
author: natsops maintainers (@natsops)
options:
  gather:
    description: What to list besides the server and account.
    type: list
    elements: str
    choices: [streams, consumers, kv_buckets, object_stores]
    default: [streams, kv_buckets, object_stores]
  subject:
    description: Only list streams that store this subject.
    type: str
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.action_group
  - natsops.jetstream.read_only
'''

EXAMPLES = r'''
- name: What is in the account?
  natsops.jetstream.info:
    gather: [streams, consumers, kv_buckets]
  delegate_to: localhost
  register: js

- name: Show stream names
  ansible.builtin.debug:
    msg: "{{ js.streams | map(attribute='config.name') | list }}"
'''

RETURN = r'''
server:
  description: Connected server (name, version, cluster, JetStream domain).
  returned: always
  type: dict
  sample: {server_name: c1-n1, version: 2.15.1, cluster: c1}
api_level:
  description: JetStream API level of the server (0 before 2.11).
  returned: always
  type: int
account:
  description: Account JetStream info (limits, usage, domain).
  returned: always
  type: dict
streams:
  description: Every stream (config, state, cluster), KV and object store streams excluded.
  returned: when streams is gathered
  type: list
  elements: dict
consumers:
  description: Consumers per stream name.
  returned: when consumers is gathered
  type: dict
kv_buckets:
  description: KV buckets (bucket name and stream info).
  returned: when kv_buckets is gathered
  type: list
  elements: dict
object_stores:
  description: Object store buckets (bucket name and stream info).
  returned: when object_stores is gathered
  type: list
  elements: dict
'''

from ansible_collections.natsops.jetstream.plugins.module_utils._module import jetstream_module, run_module
from ansible_collections.natsops.jetstream.plugins.module_utils._buckets import stream_kind

SERVER_FIELDS = ('server_name', 'server_id', 'version', 'cluster', 'domain', 'jetstream', 'connect_urls')


def gather_info(module, client, prepared):
    gather = set(module.params['gather'])
    sinfo = client.server_info()
    account = client.account_info()
    out = dict(changed=False, server=dict((k, sinfo.get(k)) for k in SERVER_FIELDS),
               api_level=int((account.get('api') or {}).get('level') or 0),
               account=dict((k, v) for k, v in account.items() if k != 'type'))
    all_streams = client.streams(module.params['subject']) if gather else []
    by_kind = {'stream': [], 'kv_bucket': [], 'object_store': []}
    for s in all_streams:
        kind, short = stream_kind(s['config']['name'])
        by_kind[kind].append(s if kind == 'stream' else {'bucket': short, 'stream': s})
    if 'streams' in gather:
        out['streams'] = by_kind['stream']
    if 'consumers' in gather:
        out['consumers'] = dict((s['config']['name'], client.consumers(s['config']['name'])) for s in all_streams)
    if 'kv_buckets' in gather:
        out['kv_buckets'] = by_kind['kv_bucket']
    if 'object_stores' in gather:
        out['object_stores'] = by_kind['object_store']
    return out


def main():
    module = jetstream_module(dict(
        gather=dict(type='list', elements='str', choices=['streams', 'consumers', 'kv_buckets', 'object_stores'],
                    default=['streams', 'kv_buckets', 'object_stores']),
        subject=dict(type='str'),
    ))
    run_module(module, gather_info, 'JetStream request failed')


if __name__ == '__main__':
    main()
