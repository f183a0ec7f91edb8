#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: object_store
short_description: Manage a JetStream object store bucket
version_added: 0.1.0
description:
  - Manages the C(OBJ_<bucket>) stream exactly as nats.go and the NATS CLI create it, so buckets made by this module,
    by applications and by C(nats object add) are interchangeable.
  - Only the options you set are managed. Storage cannot change in place (needs O(recreate)).
author: natsops maintainers (@natsops)
options:
  ttl:
    description: How long objects are kept (duration); V(0) forever.
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
  natsops.jetstream.object_store:
    bucket: artifacts
    replicas: 3
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
  sample: OBJ_artifacts
config:
  description: Configuration of the underlying stream after the run (normalised).
  returned: when state=present
  type: dict
'''

from ansible_collections.natsops.jetstream.plugins.module_utils._buckets import object_store_argument_spec, obj_stream_config, run_bucket_module
from ansible_collections.natsops.jetstream.plugins.module_utils._module import jetstream_module


def main():
    run_bucket_module(jetstream_module(object_store_argument_spec()), obj_stream_config)


if __name__ == '__main__':
    main()
