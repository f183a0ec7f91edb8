#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: kv_bucket
short_description: Manage a JetStream key-value bucket
version_added: 0.1.0
description:
  - Manages the C(KV_<bucket>) stream exactly as nats.go and the NATS CLI create it, so buckets made by this module,
    by applications and by C(nats kv add) are interchangeable.
  - Only the options you set are managed. Storage cannot change in place (needs O(recreate)).
author: natsops maintainers (@natsops)
options:
  history:
    description: Values kept per key, 1 to 64 (the stream's max_msgs_per_subject); V(1) when created without it.
    type: int
  max_value_size:
    description: Largest value (size); V(-1) or V(0) unlimited (stored as V(-1)).
    type: raw
  republish:
    description: Republish changes, C(src), C(dest), C(headers_only).
    type: dict
  limit_marker_ttl:
    description: Keep delete markers for keys removed by the TTL for this long (duration, nats-server 2.11+).
    type: raw
  ttl:
    description: How long values are kept (duration); V(0) forever.
    type: raw
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.bucket
  - natsops.jetstream.action_group
  - natsops.jetstream.attributes
  - natsops.jetstream.units
seealso:
  - module: natsops.jetstream.stream
'''

EXAMPLES = r'''
- name: A replicated bucket
  natsops.jetstream.kv_bucket:
    bucket: sessions
    replicas: 3
    history: 5
    ttl: 30d
    max_bytes: 1GiB
  delegate_to: localhost
'''

RETURN = r'''
operation:
  description: What was done (or would be done in check mode).
  returned: always
  type: str
  sample: created
changes:
  description: Managed stream fields that differed.
  returned: always
  type: list
  elements: str
stream:
  description: Name of the underlying stream.
  returned: always
  type: str
  sample: KV_sessions
config:
  description: Configuration of the underlying stream after the run (normalised).
  returned: when state=present
  type: dict
'''

from ansible_collections.natsops.jetstream.plugins.module_utils._buckets import kv_argument_spec, kv_stream_config, run_bucket_module
from ansible_collections.natsops.jetstream.plugins.module_utils._module import jetstream_module


def main():
    run_bucket_module(jetstream_module(kv_argument_spec()), kv_stream_config)


if __name__ == '__main__':
    main()
