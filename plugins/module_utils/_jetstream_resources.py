# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The resources' names where they were before the split by object (kept for the tests that import them from
here): the fields, normalisation and diffs are in ``_fields``, streams in ``_stream``, consumers in ``_consumer``,
KV buckets and object stores in ``_buckets``."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.natsops.jetstream.plugins.module_utils._buckets import (
    kv_argument_spec, kv_stream_config, obj_stream_config, object_store_argument_spec)
from ansible_collections.natsops.jetstream.plugins.module_utils._consumer import (
    CONSUMER_MUTUALLY_EXCLUSIVE, ConsumerResource, consumer_argument_spec, consumer_immutable_changes, consumer_rules,
    predict_consumer)
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import (
    CONSUMER_FIELDS, STREAM_FIELDS, ValidationError, build_desired, changed_fields, check_versions, display, normalise)
from ansible_collections.natsops.jetstream.plugins.module_utils._stream import (
    STREAM_MUTUALLY_EXCLUSIVE, StreamResource, predict_stream, stream_argument_spec, stream_immutable_changes,
    stream_rules)

__all__ = [
    'CONSUMER_FIELDS', 'CONSUMER_MUTUALLY_EXCLUSIVE', 'STREAM_FIELDS', 'STREAM_MUTUALLY_EXCLUSIVE', 'ConsumerResource',
    'StreamResource', 'ValidationError', 'build_desired', 'changed_fields', 'check_versions', 'consumer_argument_spec',
    'consumer_immutable_changes', 'consumer_rules', 'display', 'kv_argument_spec', 'kv_stream_config',
    'normalise', 'obj_stream_config', 'object_store_argument_spec', 'predict_consumer', 'predict_stream',
    'stream_argument_spec', 'stream_immutable_changes', 'stream_rules',
]
