# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Let plain pytest import the collection the way ansible-test does (through .cache/collections)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import sys

try:
    import ansible_collections.natsops.jetstream  # noqa: F401  pylint: disable=unused-import
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".cache", "collections"))
    import ansible_collections  # noqa: F401  pylint: disable=unused-import
