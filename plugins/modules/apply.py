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
  - natsops.jetstream.action_group
  - natsops.jetstream.attributes
  - natsops.jetstream.units
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

from ansible_collections.natsops.jetstream.plugins.module_utils._module import jetstream_module, run_module
from ansible_collections.natsops.jetstream.plugins.module_utils._apply import (
    apply_argument_spec, apply_result, apply_set, build_plan)


def main():
    module = jetstream_module(apply_argument_spec(), required_if=[('prune', True, ['prune_prefix'])])
    results = []   # of the real pass (the planning pass sends nothing, so a failure there reports none)

    def body(module, client, prepared):
        apply_set(client, module.params, prepared[0], prepared[1], module.check_mode, results)
        for warning in [w for r in results for w in r.warnings]:
            module.warn(warning)
        return apply_result(results, module._diff)

    run_module(module, body, 'JetStream refused a request', prepare=lambda m: build_plan(m.params),
               context=lambda: dict(resources=[r.as_dict() for r in results]))


if __name__ == '__main__':
    main()
