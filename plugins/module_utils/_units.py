# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The one meaning of sizes and durations across the collection: the server role's variables and the
JetStream modules' options read them exactly as nats-server's configuration parser does.

Sizes: an integer with an optional, case-insensitive suffix. ``K``, ``M``, ``G``, ``T`` are powers of
1000; ``KB``/``KI``/``KIB`` (and so on for M, G, T) are powers of 1024; ``B`` is bytes. So ``8k`` is 8000
and ``8GB`` is 8 GiB. Fractions (``1.5GB``) are refused, as nats-server refuses them.

Durations: Go's ``time.ParseDuration`` units (``ns``, ``us``, ``µs``, ``ms``, ``s``, ``m``, ``h``), which is what
nats-server reads in its configuration; ``d`` and ``w`` only where the caller allows them (the modules
send nanoseconds, so days and weeks are safe there; nats-server's config would refuse them)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re
from decimal import Decimal, ROUND_HALF_EVEN

_SIZE_MULT = {'': 1, 'b': 1}
for _i, _p in enumerate(('k', 'm', 'g', 't'), 1):
    _SIZE_MULT[_p] = 1000 ** _i
    for _suffix in ('b', 'i', 'ib'):
        _SIZE_MULT[_p + _suffix] = 1024 ** _i
_SIZE_RE = re.compile(r'^\s*(-?[0-9]+)\s*([a-zA-Z]*)\s*$')

_DURATION_NS = {'ns': 1, 'us': 1000, u'\u00b5s': 1000, 'ms': 1000 ** 2, 's': 1000 ** 3, 'm': 60 * 1000 ** 3,
                'h': 3600 * 1000 ** 3, 'd': 86400 * 1000 ** 3, 'w': 7 * 86400 * 1000 ** 3}
_DURATION_PART = re.compile(u'([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(ns|us|\u00b5s|ms|s|m|h|d|w)')

SIZE_HELP = ("an integer number of bytes or one with a unit as nats-server reads it: K, M, G, T = 1000, "
             "1000^2, ...; KB/KiB, MB/MiB, GB/GiB, TB/TiB = 1024, 1024^2, ... (e.g. 512MB, 10GB)")
DURATION_HELP = "a duration such as 500ms, 10s, 2m or 1h30m (units ns, us, ms, s, m, h)"


class UnitError(ValueError):
    """A size or duration that does not parse; the message names the field, the value and the grammar."""


def parse_size(value, field='value'):
    """Bytes for ``value`` (int or string); raises UnitError naming ``field``. Negative numbers are returned
    as they are (callers decide whether -1 means unlimited)."""
    if isinstance(value, bool):
        raise UnitError('%s: %r is not a size; expected %s' % (field, value, SIZE_HELP))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != int(value):
            raise UnitError('%s: %r is not a whole number of bytes; expected %s' % (field, value, SIZE_HELP))
        return int(value)
    match = _SIZE_RE.match(str(value))
    if not match or match.group(2).lower() not in _SIZE_MULT:
        raise UnitError('%s: %r is not a size; expected %s' % (field, value, SIZE_HELP))
    return int(match.group(1)) * _SIZE_MULT[match.group(2).lower()]


def parse_duration(value, field='value', allow_days=False):
    """Nanoseconds for ``value``: an integer (nanoseconds) or a string like ``1m30s``. ``d`` and ``w`` only
    with ``allow_days``. A leading ``-`` is kept (callers check the range). Raises UnitError naming ``field``."""
    if isinstance(value, bool):
        raise UnitError('%s: %r is not a duration; expected %s' % (field, value, DURATION_HELP))
    if isinstance(value, int):
        return value
    text = str(value).strip()
    sign = 1
    if text.startswith('-'):
        sign, text = -1, text[1:]
    if text == '0':
        return 0
    total, pos = Decimal(0), 0
    for part in _DURATION_PART.finditer(text):
        if part.start() != pos or (part.group(2) in ('d', 'w') and not allow_days):
            break
        total += Decimal(part.group(1)) * _DURATION_NS[part.group(2)]
        pos = part.end()
    else:
        if pos == len(text) and pos > 0:
            return sign * int(total.to_integral_value(rounding=ROUND_HALF_EVEN))
    units = 'ns, us, ms, s, m, h%s' % (', d, w' if allow_days else '')
    raise UnitError('%s: %r is not a duration; expected a number with a unit (%s), e.g. 500ms, 10s, 1h30m'
                    % (field, value, units))
