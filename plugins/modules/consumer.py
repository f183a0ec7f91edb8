#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: consumer
short_description: Manage a durable JetStream consumer (pull or push)
version_added: 0.1.0
description:
  - Creates, updates, recreates or deletes a durable consumer of a stream. Only the options you set are managed;
    an option left out keeps its current value on an existing consumer (also when it is recreated) and the
    server's default on a new one (except O(ack_policy), V(explicit) for a new consumer).
  - Rules between fields (O(backoff) and O(max_deliver), O(ack_wait) and O(backoff)) are checked on the
    configuration the server would hold, the options given merged with the current ones, before anything is sent,
    in check mode too.
  - Changes JetStream cannot make in place (deliver, ack and replay policy, start sequence or time, heartbeat, flow
    control, max_waiting, pull to push) fail before anything is sent, naming the field and both values, unless
    O(recreate=true).
author: natsops maintainers (@natsops)
options:
  stream:
    description: Stream the consumer reads.
    type: str
    required: true
  name:
    description: Durable name of the consumer.
    type: str
    required: true
  state:
    description: Whether the consumer should exist.
    type: str
    choices: [present, absent]
    default: present
  recreate:
    description: Delete and recreate the consumer when a change cannot be made in place (its delivery state is lost).
    type: bool
    default: false
  description:
    description: >-
      Description.
    type: str
  deliver_policy:
    description: >-
      Where delivery starts. Cannot change (needs O(recreate)).
    type: str
    choices: [all, last, new, by_start_sequence, by_start_time, last_per_subject]
  opt_start_seq:
    description: >-
      Start sequence for O(deliver_policy=by_start_sequence). Cannot change.
    type: int
  opt_start_time:
    description: >-
      Start time (RFC 3339) for O(deliver_policy=by_start_time). Cannot change.
    type: str
  ack_policy:
    description: >-
      Acknowledgement policy; V(explicit) when the consumer is created without it. Left out, an existing consumer
      keeps its policy (V(all) and V(none) included). Cannot change.
    type: str
    choices: [none, all, explicit]
  ack_wait:
    description: >-
      Time to wait for an ack before redelivery (duration); V(0) means the server default (30s). With a backoff
      (given or already on the consumer) JetStream uses the first backoff delay as ack_wait: a different ack_wait is
      refused, and the diff shows the first backoff delay.
    type: raw
  max_deliver:
    description: >-
      Most delivery attempts (V(-1) or V(0) unlimited, stored as V(-1)).
    type: int
  backoff:
    description: >-
      Redelivery delays (list of durations); no more entries than O(max_deliver) (given or already on the
      consumer).
    type: list
    elements: raw
  filter_subject:
    description: >-
      Only deliver messages on this subject. Setting it on a consumer that has O(filter_subjects) replaces them.
    type: str
  filter_subjects:
    description: >-
      Only deliver messages on these subjects. Mutually exclusive with O(filter_subject); setting it on a consumer
      that has a O(filter_subject) replaces it.
    type: list
    elements: str
  replay_policy:
    description: >-
      Replay speed. Cannot change.
    type: str
    choices: [instant, original]
  rate_limit_bps:
    description: >-
      Delivery rate limit in bits per second (push).
    type: int
  sample_freq:
    description: >-
      Percentage of acks to sample for observability, e.g. V(10%).
    type: str
  max_waiting:
    description: >-
      Most waiting pull requests. Cannot change.
    type: int
  max_ack_pending:
    description: >-
      Most unacknowledged messages in flight.
    type: int
  flow_control:
    description: >-
      Push flow control. Cannot change.
    type: bool
  headers_only:
    description: >-
      Deliver headers only.
    type: bool
  max_batch:
    description: >-
      Largest pull batch.
    type: int
  max_expires:
    description: >-
      Longest pull request expiry (duration).
    type: raw
  max_bytes:
    description: >-
      Largest pull request in bytes (size).
    type: raw
  deliver_subject:
    description: >-
      Make it a push consumer delivering to this subject. A consumer cannot switch between pull and push.
    type: str
  deliver_group:
    description: >-
      Queue group of a push consumer.
    type: str
  idle_heartbeat:
    description: >-
      Idle heartbeat of a push consumer (duration). Cannot change.
    type: raw
  inactive_threshold:
    description: >-
      Delete the consumer after this long without activity (duration).
    type: raw
  replicas:
    description: >-
      Replicas of the consumer state (V(0) inherits those of the stream).
    type: int
  mem_storage:
    description: >-
      Keep consumer state in memory. Cannot change.
    type: bool
  metadata:
    description: >-
      User metadata (string keys and values).
    type: dict
  priority_policy:
    description: >-
      Priority policy of pull consumers (2.11+).
    type: str
    choices: [none, overflow, pinned_client, prioritized]
  priority_groups:
    description: >-
      Priority groups of pull consumers (2.11+).
    type: list
    elements: raw
  priority_timeout:
    description: >-
      Pin timeout for V(pinned_client) (duration, 2.11+).
    type: raw
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.action_group
  - natsops.jetstream.attributes
  - natsops.jetstream.units
seealso:
  - module: natsops.jetstream.stream
'''

EXAMPLES = r'''
- name: A pull consumer with explicit acks and backoff
  natsops.jetstream.consumer:
    stream: ORDERS
    name: billing
    filter_subject: orders.created
    ack_wait: 30s
    max_deliver: 5
    backoff: [1s, 5s, 30s]
    max_ack_pending: 1000
  delegate_to: localhost

- name: A push consumer for a queue group
  natsops.jetstream.consumer:
    stream: ORDERS
    name: audit
    deliver_subject: audit.orders
    deliver_group: auditors
    idle_heartbeat: 10s
    flow_control: true
  delegate_to: localhost
'''

RETURN = r'''
operation:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  sample: created
changes:
  description: Managed fields that differed.
  returned: always
  type: list
  elements: str
config:
  description: The consumer configuration after the run (normalised).
  returned: when state=present
  type: dict
info:
  description: Delivery state (num_pending, num_ack_pending, ack_floor, delivered) after the run.
  returned: when the consumer exists and not in check mode
  type: dict
'''

from ansible_collections.natsops.jetstream.plugins.module_utils._module import (
    ensure_resource, jetstream_module, run_module)
from ansible_collections.natsops.jetstream.plugins.module_utils._consumer import CONSUMER_MUTUALLY_EXCLUSIVE, ConsumerResource, consumer_argument_spec
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import CONSUMER_FIELDS, build_desired


def ensure_consumer(module, client, desired):
    consumer = ConsumerResource(client, module.params['stream'], module.params['name'])
    dummy, out, info = ensure_resource(module, consumer, desired)
    if info:
        out['info'] = dict((k, v) for k, v in info.items() if k != 'config')
    return out


def main():
    module = jetstream_module(consumer_argument_spec(), CONSUMER_MUTUALLY_EXCLUSIVE)
    run_module(module, ensure_consumer, 'JetStream refused the request for consumer %s/%s'
               % (module.params['stream'], module.params['name']),
               prepare=lambda m: build_desired(CONSUMER_FIELDS, m.params))


if __name__ == '__main__':
    main()
