# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    # The options of the kv_bucket and object_store modules that are the same for both kinds of bucket.
    DOCUMENTATION = r'''
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
  max_bytes:
    description: Size limit of the bucket (size); V(-1) or V(0) unlimited (stored as V(-1)).
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
'''
