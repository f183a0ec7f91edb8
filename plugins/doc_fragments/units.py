# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options: {}
notes:
  - >-
    Sizes are read as nats-server reads them in its configuration (one meaning across the collection): an integer
    number of bytes, or one with a case-insensitive unit where C(K), C(M), C(G), C(T) are powers of 1000 and
    C(KB)/C(KiB), C(MB)/C(MiB), C(GB)/C(GiB), C(TB)/C(TiB) are powers of 1024. So C(8k) is 8000 bytes and
    C(8GB) is 8 GiB. Fractions such as C(1.5GB) are refused.
  - >-
    Durations are a number with a unit, C(ns), C(us), C(ms), C(s), C(m), C(h), C(d) (24h) or C(w) (7d), and may
    combine them (C(1h30m)); a bare number is seconds. Negative durations are refused.
  - >-
    Limits set to C(0) mean unlimited and are stored by the server as C(-1); a duplicate window of C(0) means the
    server's default. Either way a second run reports no change.
'''
