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
  bucket:
    description: Bucket name (letters, digits, C(-), C(_)).
    type: str
    required: true
  state:
    description: Whether the bucket should exist.
    type: str
    choices: [present, absent]
    default: present
  recreate:
    description: Delete and recreate the bucket when a change cannot be made in place (its content is lost).
    type: bool
    default: false
  description:
    description: Description.
    type: str
  history:
    description: Values kept per key, 1 to 64 (the stream's max_msgs_per_subject); V(1) when created without it.
    type: int
  max_value_size:
    description: Largest value (size); V(-1) unlimited.
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
  max_bytes:
    description: Size limit of the bucket (size); V(-1) unlimited.
    type: raw
  storage:
    description: Storage type; V(file) when created without it.
    type: str
    choices: [file, memory]
  replicas:
    description: Replicas, 1 to 5.
    type: int
  placement:
    description: Placement, C(cluster) and C(tags).
    type: dict
  compression:
    description: S2 compression of the underlying stream.
    type: bool
  metadata:
    description: User metadata.
    type: dict
extends_documentation_fragment:
  - natsops.jetstream.connection
  - natsops.jetstream.attributes
attributes:
  action_group:
    description: Use C(group/natsops.jetstream.jetstream) in C(module_defaults) to set the connection once.
    support: full
    membership: [natsops.jetstream.jetstream]
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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    JetStreamAPIError, JetStreamClient, jetstream_argument_spec, nats_common_module_kwargs)
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream_resources import (
    StreamResource, ValidationError, kv_stream_config)


def main():
    argument_spec = jetstream_argument_spec()
    argument_spec.update(
        bucket=dict(type='str', required=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        recreate=dict(type='bool', default=False),
        description=dict(type='str'),
        history=dict(type='int'),
        max_value_size=dict(type='raw'),
        republish=dict(type='dict'),
        limit_marker_ttl=dict(type='raw'),
        ttl=dict(type='raw'),
        max_bytes=dict(type='raw'),
        storage=dict(type='str', choices=['file', 'memory']),
        replicas=dict(type='int'),
        placement=dict(type='dict'),
        compression=dict(type='bool'),
        metadata=dict(type='dict'),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **nats_common_module_kwargs())
    try:
        create, managed = kv_stream_config(module.params['bucket'], module.params)
    except ValidationError as exc:
        module.fail_json(msg=str(exc))
    client = JetStreamClient(module)
    client.connect()
    try:
        stream = StreamResource(client, create['name'])
        res = stream.ensure(managed, state=module.params['state'], recreate=module.params['recreate'],
                            check_mode=module.check_mode, create_defaults=create)
        out = dict(changed=res.changed, operation=res.action, changes=res.changes, stream=create['name'])
        if module._diff:
            out['diff'] = {'before': res.before, 'after': res.after}
        if module.params['state'] == 'present':
            out['config'] = res.after
        for warning in res.warnings:
            module.warn(warning)
    except ValidationError as exc:
        module.fail_json(msg=str(exc))
    except JetStreamAPIError as exc:
        module.fail_json(msg='JetStream refused the request for bucket %s: %s' % (module.params['bucket'], exc),
                         err_code=exc.err_code)
    finally:
        client.close()
    module.exit_json(**out)


if __name__ == '__main__':
    main()
