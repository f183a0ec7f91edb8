#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: cluster_health
short_description: A JetStream-aware health report of a whole NATS supercluster
version_added: 0.2.0
description:
  - Connects as a user of the system account and asks every server at once for its C(varz), C(routez),
    C(gatewayz), C(healthz) and C(jsz) (with account, stream and consumer details), so servers the controller
    cannot reach directly are included.
  - Returns per node its version, cluster, uptime, routes, gateways in and out, JetStream memory and storage used
    against the limits, and slow consumers; the meta group (leader, offline and lagging peers); per stream and
    consumer the leader, replicas offline or lagging, messages, pending and ack-pending.
  - Compares all of it with the expected shape (O(expected), from the inventory) and lists C(problems), each naming
    exactly what is broken. A node that is down is one problem, and its cluster peers' missing routes to it one
    more; a cluster that is down is one problem, and the other clusters' missing gateway to it one more. A cluster
    that does not answer but still holds inbound gateway connections to the answering servers is reported as
    unreachable through its gateways, not as down.
  - The module never fails because of a problem it finds; use C(problems) or C(healthy) in the play.
author: natsops maintainers (@natsops)
options:
  expected:
    description:
      - Server names per cluster name, for example C(c1) mapped to C([c1-n1, c1-n2, c1-n3]). A server that does not answer
        is reported down. Empty, the shape is taken from the servers that answer (nothing can be reported down).
    type: dict
    default: {}
  thresholds:
    description: Problem thresholds.
    type: dict
    default: {}
    suboptions:
      memory_pct:
        description: JetStream memory use of a node, in percent of its limit, above which it is a problem.
        type: float
        default: 80
      storage_pct:
        description: JetStream storage use of a node, in percent of its limit, above which it is a problem.
        type: float
        default: 85
      slow_consumers:
        description: Slow consumers of a node above which it is a problem.
        type: int
        default: 5
      lag:
        description: Messages pending on a consumer above which it is a problem.
        type: int
        default: 1000
  gather_timeout:
    description: Seconds to wait for the answers of the servers to each request (less when all expected answered).
    type: float
    default: 2.0
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.action_group
  - natsops.jetstream.read_only
'''

EXAMPLES = r'''
- name: Read the supercluster's health as the system account
  natsops.jetstream.cluster_health:
    servers: [tls://10.0.1.1:4222, tls://10.0.2.1:4222]
    tls_ca: pki/ca.crt
    tls_cert: pki/clients/sys/tls.crt
    tls_key: pki/clients/sys/tls.key
    expected: {c1: [c1-n1, c1-n2, c1-n3], c2: [c2-n1, c2-n2, c2-n3]}
  register: health

- name: Fail on any problem
  ansible.builtin.assert:
    that: health.healthy
    fail_msg: "{{ health.problems }}"
'''

RETURN = r'''
healthy:
  description: No problem found.
  returned: always
  type: bool
problems:
  description: Every failed predicate, each naming the node, cluster, stream or consumer and the figures.
  returned: always
  type: list
  elements: str
  sample: ["c2-n2 (cluster c2) is down: it does not answer", "c2-n1, c2-n3: no route to c2-n2 (down)"]
nodes:
  description: Per node (answering or down) its facts.
  returned: always
  type: list
  elements: dict
down:
  description: Expected servers that did not answer.
  returned: always
  type: list
  elements: str
down_clusters:
  description: Clusters none of whose servers answered, and that no answering server has an inbound gateway from.
  returned: always
  type: list
  elements: str
unreachable_clusters:
  description:
    - Clusters none of whose servers answered, but whose servers hold inbound gateway connections to servers that
      answered; they run, but the other clusters cannot reach their gateway listeners (a firewall, a stopped proxy),
      so the system account's requests do not reach them. Their nodes have status C(unreachable).
  returned: always
  type: list
  elements: str
meta:
  description: JetStream meta group (leader, cluster_size, offline and lagging peers).
  returned: always
  type: dict
assets:
  description: Streams and consumers with leader, replicas, offline and lagging peers, messages or pending counts.
  returned: always
  type: list
  elements: dict
thresholds:
  description: The thresholds applied.
  returned: always
  type: dict
'''

from ansible_collections.natsops.jetstream.plugins.module_utils._module import jetstream_module, run_module
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import ValidationError
from ansible_collections.natsops.jetstream.plugins.module_utils import _health
from ansible_collections.natsops.jetstream.plugins.module_utils import _membership as mb


def expected_clusters(module):
    return dict((str(c), [str(n) for n in (nodes or [])]) for c, nodes in (module.params['expected'] or {}).items())


def health_report(module, client, expected):
    answers = _health.gather(mb.Membership(client, gather_timeout=module.params['gather_timeout']),
                             [n for nodes in expected.values() for n in nodes])
    if not answers.get('VARZ'):
        raise ValidationError('No server answered $SYS.REQ.SERVER.PING.VARZ: connect as a user of the system account')
    return dict(changed=False, **_health.report(answers, expected, module.params['thresholds']))


def main():
    module = jetstream_module(dict(
        expected=dict(type='dict', default={}),
        thresholds=dict(type='dict', default={}, options=dict(
            memory_pct=dict(type='float', default=80.0), storage_pct=dict(type='float', default=85.0),
            slow_consumers=dict(type='int', default=5), lag=dict(type='int', default=1000))),
        gather_timeout=dict(type='float', default=2.0),
    ))
    run_module(module, health_report, 'Reading the supercluster failed', prepare=expected_clusters)


if __name__ == '__main__':
    main()
