#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: stream
short_description: Manage a JetStream stream
version_added: 0.1.0
description:
  - Creates, updates, moves, recreates or deletes a JetStream stream through the C($JS.API), comparing the
    normalised live configuration with the options given.
  - Only the options you set are managed; the others keep the server's defaults when the stream is created and
    their current values when it is updated. An update is sent only when a managed option really differs, and it
    carries the full current configuration, so nothing else changes.
  - Changes JetStream cannot make in place (storage, retention to or from workqueue, un-sealing, clearing
    deny_delete/deny_purge, mirror changes, ...) fail before anything is sent, naming the field and both values,
    unless O(recreate=true).
  - Bad input (unknown options, invalid enums, negative or malformed sizes and durations, replicas above 5 or the
    cluster size, subjects overlapping another stream, fields the connected server version does not know) fails
    before anything is sent, in check mode too.
  - Rules between fields are checked on the configuration the server would hold (the options given merged with the
    current configuration), so a value already on the server counts; for example O(max_age) shorter than the
    stream's duplicate window is refused, naming both fields.
author: natsops maintainers (@natsops)
options:
  name:
    description: Stream name.
    type: str
    required: true
  state:
    description: Whether the stream should exist.
    type: str
    choices: [present, absent]
    default: present
  recreate:
    description:
      - Delete and recreate the stream when a change cannot be made in place. All its messages are lost; check mode
        reports how many.
    type: bool
    default: false
  subjects:
    description: >-
      Subjects the stream stores (wildcards allowed). A subject may belong to one stream only; overlaps
      are refused before anything is sent.
    type: list
    elements: str
  description:
    description: >-
      Description.
    type: str
  retention:
    description: >-
      Retention policy. Changing to or from V(workqueue) needs O(recreate).
    type: str
    choices: [limits, interest, workqueue]
  max_consumers:
    description: >-
      Most consumers the stream may have (V(-1) or V(0) unlimited, stored as V(-1)).
    type: int
  max_msgs:
    description: >-
      Most messages kept (V(-1) or V(0) unlimited, stored as V(-1)).
    type: int
  max_bytes:
    description: >-
      Most bytes kept: a size such as V(10GiB), V(500MB) (both powers of 1024), V(500M) (powers of 1000) or bytes;
      V(-1) or V(0) unlimited (stored as V(-1)).
    type: raw
  max_age:
    description: >-
      Oldest message kept: a duration such as V(7d), V(12h), V(30m) or a number of seconds; V(0) unlimited. Must
      not be shorter than the duplicate window (O(duplicate_window), or the stream's current one when not given);
      that is refused before anything is sent.
    type: raw
  max_msgs_per_subject:
    description: >-
      Most messages kept per subject (V(-1) or V(0) unlimited, stored as V(-1)).
    type: int
  max_msg_size:
    description: >-
      Largest message accepted (size); V(-1) or V(0) unlimited (stored as V(-1)).
    type: raw
  discard:
    description: >-
      What happens when a limit is reached: drop V(old) messages or refuse V(new) ones.
    type: str
    choices: [old, new]
  discard_new_per_subject:
    description: >-
      Apply O(discard=new) per subject.
    type: bool
  storage:
    description: >-
      Storage type. Cannot change in place (needs O(recreate)).
    type: str
    choices: [file, memory]
  replicas:
    description: >-
      Number of replicas, 1 to 5, at most the size of the target cluster.
    type: int
  no_ack:
    description: >-
      Do not acknowledge publishes.
    type: bool
  duplicate_window:
    description: >-
      Window for de-duplication by C(Nats-Msg-Id) (duration). V(0) means the server's default, 2 minutes or
      O(max_age) when that is shorter (what the server stores is compared, so V(0) converges). At most O(max_age).
    type: raw
  placement:
    description: >-
      Placement: C(cluster), C(tags) (list), C(preferred) (2.11+). Changing it moves the stream to other
      servers; a move cannot be combined with a change of O(replicas).
    type: dict
  mirror:
    description: >-
      Make this stream a mirror: C(name), C(opt_start_seq), C(opt_start_time), C(filter_subject),
      C(subject_transforms) (list of C(src)/C(dest)), C(external) (C(api), C(deliver)) or C(domain). A
      mirror cannot change; removing it (promotion) needs nats-server 2.12+.
    type: dict
  sources:
    description: >-
      Streams to source from, each with the keys of O(mirror).
    type: list
    elements: raw
  compression:
    description: >-
      On-disk compression.
    type: str
    choices: [none, s2]
  first_seq:
    description: >-
      Sequence of the first message. Only used when the stream is created: it is never sent with an update, and a
      different value for an existing stream is ignored with a warning (C(changes) does not list it).
    type: int
  subject_transform:
    description: >-
      Transform of incoming subjects: C(src), C(dest).
    type: dict
  republish:
    description: >-
      Republish stored messages: C(src), C(dest), C(headers_only).
    type: dict
  allow_direct:
    description: >-
      Allow direct get of messages from any replica.
    type: bool
  mirror_direct:
    description: >-
      Allow direct get from a mirror.
    type: bool
  allow_rollup:
    description: >-
      Allow C(Nats-Rollup) headers to purge subjects.
    type: bool
  deny_delete:
    description: >-
      Deny deleting messages. Cannot be turned off once set.
    type: bool
  deny_purge:
    description: >-
      Deny purging the stream. Cannot be turned off once set.
    type: bool
  sealed:
    description: >-
      Seal the stream: no more writes, deletes or purges. Cannot be undone.
    type: bool
  consumer_limits:
    description: >-
      Defaults and limits for consumers: C(inactive_threshold) (duration), C(max_ack_pending).
    type: dict
  metadata:
    description: >-
      User metadata (string keys and values). Keys starting with C(_nats.) belong to the server and are
      ignored.
    type: dict
  allow_msg_ttl:
    description: >-
      Allow per-message TTL headers (nats-server 2.11+). Cannot be turned off once set.
    type: bool
  subject_delete_marker_ttl:
    description: >-
      Leave delete markers with this TTL when max age removes the last message of a subject (2.11+).
    type: raw
  allow_msg_counter:
    description: >-
      Make the stream a counter stream (2.12+). Cannot change.
    type: bool
  allow_atomic:
    description: >-
      Allow atomic batch publishes (2.12+).
    type: bool
  allow_msg_schedules:
    description: >-
      Allow scheduled messages (2.12+). Cannot be turned off once set.
    type: bool
  persist_mode:
    description: >-
      Persistence mode (2.12+); V(async) only for R1 file streams. Cannot change.
    type: str
    choices: [default, async]
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.action_group
  - natsops.jetstream.attributes
  - natsops.jetstream.units
seealso:
  - module: natsops.jetstream.consumer
  - module: natsops.jetstream.apply
'''

EXAMPLES = r'''
- name: Orders stream, three replicas in cluster c1, one per availability zone
  natsops.jetstream.stream:
    servers: ["nats://c1-n1:4222"]
    name: ORDERS
    subjects: ["orders.>"]
    storage: file
    replicas: 3
    max_age: 7d
    max_bytes: 10GiB
    duplicate_window: 2m
    placement:
      cluster: c1
  delegate_to: localhost

- name: Move the stream to cluster c2 (same replicas)
  natsops.jetstream.stream:
    name: ORDERS
    placement:
      cluster: c2
  delegate_to: localhost

- name: A mirror of ORDERS in cluster c3
  natsops.jetstream.stream:
    name: ORDERS_MIRROR
    mirror:
      name: ORDERS
    replicas: 3
    placement:
      cluster: c3
  delegate_to: localhost

- name: Change storage (not possible in place), accepting the loss of its messages
  natsops.jetstream.stream:
    name: SCRATCH
    storage: memory
    recreate: true
  delegate_to: localhost

- name: Remove a stream
  natsops.jetstream.stream:
    name: OLD
    state: absent
  delegate_to: localhost
'''

RETURN = r'''
operation:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  sample: updated
  choices: [created, updated, moved, recreated, deleted, unchanged, absent]
changes:
  description: Managed fields that differed.
  returned: always
  type: list
  elements: str
  sample: [max_age, num_replicas]
config:
  description: The stream configuration after the run (normalised, durations in human form).
  returned: when state=present
  type: dict
  sample: {name: ORDERS, subjects: ["orders.>"], num_replicas: 3, max_age: 7d}
state:
  description: The stream state (messages, bytes, sequences) after the run.
  returned: when the stream exists and not in check mode
  type: dict
cluster:
  description: Cluster, leader and replicas of the stream.
  returned: when the stream is clustered and not in check mode
  type: dict
'''

from ansible_collections.natsops.jetstream.plugins.module_utils._module import (
    ensure_resource, jetstream_module, run_module)
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import STREAM_FIELDS, build_desired
from ansible_collections.natsops.jetstream.plugins.module_utils._stream import STREAM_MUTUALLY_EXCLUSIVE, StreamResource, stream_argument_spec


def ensure_stream(module, client, desired):
    dummy, out, info = ensure_resource(module, StreamResource(client, module.params['name']), desired)
    if info:
        out['state'] = info.get('state')
        if info.get('cluster'):
            out['cluster'] = info['cluster']
    return out


def main():
    module = jetstream_module(stream_argument_spec(), STREAM_MUTUALLY_EXCLUSIVE)
    run_module(module, ensure_stream, 'JetStream refused the request for stream %s' % module.params['name'],
               prepare=lambda m: build_desired(STREAM_FIELDS, m.params))


if __name__ == '__main__':
    main()
