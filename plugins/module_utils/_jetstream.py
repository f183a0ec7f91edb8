# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Connection layer shared by every JetStream module: options, a synchronous client over nats-py,
raw JSON requests to the $JS.API, and human-friendly duration and size parsing."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import re
import traceback

try:
    import asyncio
    import ssl
    import nats
    import nats.errors
    HAS_NATS = True
    NATS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised through missing_required_lib
    HAS_NATS = False
    NATS_IMPORT_ERROR = traceback.format_exc()

from ansible.module_utils.basic import missing_required_lib


def jetstream_argument_spec():
    """Connection options every JetStream module accepts (documented in the connection doc fragment)."""
    return dict(
        servers=dict(type='list', elements='str', default=['nats://127.0.0.1:4222']),
        tls_ca=dict(type='path'),
        tls_cert=dict(type='path'),
        tls_key=dict(type='path', no_log=False),
        tls_server_name=dict(type='str'),
        creds=dict(type='path'),
        nkey_seed=dict(type='path', no_log=False),
        user=dict(type='str'),
        password=dict(type='str', no_log=True),
        token=dict(type='str', no_log=True),
        domain=dict(type='str'),
        api_prefix=dict(type='str'),
        connect_timeout=dict(type='float', default=5.0),
        request_timeout=dict(type='float', default=10.0),
    )


JETSTREAM_MUTUALLY_EXCLUSIVE = [('domain', 'api_prefix'), ('token', 'user'), ('token', 'creds'), ('user', 'creds')]
JETSTREAM_REQUIRED_TOGETHER = [('tls_cert', 'tls_key'), ('user', 'password')]


class JetStreamAPIError(Exception):
    """An error envelope from the JetStream API (or a request nobody answered)."""

    def __init__(self, description, code=None, err_code=None, subject=None):
        super(JetStreamAPIError, self).__init__(description)
        self.description = description
        self.code = code
        self.err_code = err_code
        self.subject = subject

    def __str__(self):
        parts = [self.description]
        if self.err_code:
            parts.append('(err_code %s)' % self.err_code)
        if self.subject:
            parts.append('on %s' % self.subject)
        return ' '.join(parts)


# ---------------------------------------------------------------------------------------------
# Human-friendly values
# ---------------------------------------------------------------------------------------------

_DURATION_UNITS = {'ns': 1, 'us': 1000, 'µs': 1000, 'ms': 1000 ** 2, 's': 1000 ** 3, 'm': 60 * 1000 ** 3,
                   'h': 3600 * 1000 ** 3, 'd': 86400 * 1000 ** 3, 'w': 7 * 86400 * 1000 ** 3}
_DURATION_RE = re.compile(r'(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)')
_SIZE_UNITS = {'': 1, 'b': 1, 'k': 1024, 'kb': 1000, 'kib': 1024, 'm': 1024 ** 2, 'mb': 1000 ** 2, 'mib': 1024 ** 2,
               'g': 1024 ** 3, 'gb': 1000 ** 3, 'gib': 1024 ** 3, 't': 1024 ** 4, 'tb': 1000 ** 4, 'tib': 1024 ** 4}
_SIZE_RE = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$')


def parse_duration(value, field):
    """'1h30m', '30s', '500ms', '2d' or a number of seconds -> nanoseconds. Raises ValueError naming the field."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError('%s: %r is not a duration; use e.g. 30s, 5m, 1h30m, 7d or a number of seconds' % (field, value))
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError('%s: %r is negative; durations must be 0 or more' % (field, value))
        return int(round(value * 1000 ** 3))
    text = str(value).strip().lower()
    if text in ('0', ''):
        return 0
    if re.match(r'^\d+(\.\d+)?$', text):
        return int(round(float(text) * 1000 ** 3))
    pos = 0
    total = 0
    for match in _DURATION_RE.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise ValueError('%s: %r is not a duration; use e.g. 30s, 5m, 1h30m, 7d or a number of seconds'
                         % (field, value))
    return int(round(total))


def parse_size(value, field, allow_unlimited=True):
    """'1GiB', '512MB', '10k', an integer number of bytes, or -1 (unlimited) -> bytes."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError('%s: %r is not a size; use e.g. 512MiB, 1GB or a number of bytes' % (field, value))
    if isinstance(value, int) or (isinstance(value, str) and re.match(r'^\s*-1\s*$', value)):
        number = int(value)
        if number == -1 and allow_unlimited:
            return -1
        if number < 0:
            raise ValueError('%s: %r is negative; use a size of 0 or more%s'
                             % (field, value, ' or -1 for unlimited' if allow_unlimited else ''))
        return number
    match = _SIZE_RE.match(str(value))
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError('%s: %r is not a size; use e.g. 512MiB, 1GB, 10k or a number of bytes%s'
                         % (field, value, ', or -1 for unlimited' if allow_unlimited else ''))
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def format_duration(ns):
    """Nanoseconds -> a compact human string (for messages and diffs)."""
    if not ns:
        return '0s'
    for unit, size in (('d', 86400 * 1000 ** 3), ('h', 3600 * 1000 ** 3), ('m', 60 * 1000 ** 3), ('s', 1000 ** 3),
                       ('ms', 1000 ** 2), ('us', 1000)):
        if ns % size == 0:
            return '%d%s' % (ns // size, unit)
    return '%dns' % ns


def version_tuple(text):
    nums = re.findall(r'\d+', str(text or '0.0.0'))[:3]
    nums += ['0'] * (3 - len(nums))
    return tuple(int(n) for n in nums)


def subject_overlaps(a, b):
    """True when some subject matches both patterns (NATS wildcards * and >)."""
    ta, tb = a.split('.'), b.split('.')
    i = 0
    while i < len(ta) and i < len(tb):
        x, y = ta[i], tb[i]
        if x == '>' or y == '>':
            return True
        if x != y and x != '*' and y != '*':
            return False
        i += 1
    return len(ta) == len(tb)


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------

class JetStreamClient(object):
    """Synchronous facade over nats-py with its own event loop."""

    def __init__(self, module):
        self.module = module
        if not HAS_NATS:
            module.fail_json(msg=missing_required_lib('nats-py'), exception=NATS_IMPORT_ERROR)
        self.params = module.params
        self.nc = None
        self.loop = asyncio.new_event_loop()
        domain = self.params.get('domain')
        if self.params.get('api_prefix'):
            self.prefix = self.params['api_prefix'].rstrip('.')
        elif domain:
            self.prefix = '$JS.%s.API' % domain
        else:
            self.prefix = '$JS.API'
        self.request_timeout = self.params.get('request_timeout') or 10.0

    # -- lifecycle ------------------------------------------------------------------------------
    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def _tls_context(self):
        p = self.params
        if not (p.get('tls_ca') or p.get('tls_cert') or any(s.startswith('tls://') for s in p['servers'])):
            return None
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=p.get('tls_ca'))
        if p.get('tls_cert'):
            ctx.load_cert_chain(p['tls_cert'], p['tls_key'])
        return ctx

    def connect(self):
        p = self.params

        async def _quiet(*args, **kwargs):
            return None

        kwargs = dict(
            servers=p['servers'],
            connect_timeout=p['connect_timeout'],
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            allow_reconnect=False,
            error_cb=_quiet,
            disconnected_cb=_quiet,
            closed_cb=_quiet,
            name='ansible natsops.jetstream',
        )
        try:
            tls = self._tls_context()
        except (IOError, OSError, ValueError) as exc:
            self.module.fail_json(msg='Cannot load the TLS files (tls_ca, tls_cert, tls_key): %s' % exc)
        if tls is not None:
            kwargs['tls'] = tls
            if p.get('tls_server_name'):
                kwargs['tls_hostname'] = p['tls_server_name']
        if p.get('user'):
            kwargs['user'] = p['user']
            kwargs['password'] = p.get('password')
        if p.get('token'):
            kwargs['token'] = p['token']
        if p.get('creds'):
            kwargs['user_credentials'] = p['creds']
        if p.get('nkey_seed'):
            kwargs['nkeys_seed'] = p['nkey_seed']
        budget = p['connect_timeout'] * 2 * max(1, len(p['servers'])) + 1
        try:
            self.nc = self.run(asyncio.wait_for(nats.connect(**kwargs), budget))
        except Exception as exc:  # pylint: disable=broad-except
            self.loop.close()
            reason = str(exc) or type(exc).__name__
            self.module.fail_json(msg='Cannot connect to NATS at %s: %s' % (', '.join(p['servers']), reason))

    def close(self):
        if self.nc is not None:
            try:
                self.run(asyncio.wait_for(self.nc.close(), 5))
            except Exception:  # pylint: disable=broad-except
                pass
            self.nc = None
        if not self.loop.is_closed():
            self.loop.close()

    # -- facts -----------------------------------------------------------------------------------
    def server_info(self):
        return getattr(self.nc, '_server_info', {}) or {}

    def server_version(self):
        return version_tuple(self.server_info().get('version'))

    def api_level(self):
        info = self.account_info()
        return int((info.get('api') or {}).get('level') or 0)

    def account_info(self):
        return self.api('INFO')

    # -- requests --------------------------------------------------------------------------------
    def request(self, subject, payload=None, timeout=None):
        if payload is None:
            data = b''
        elif isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload).encode('utf-8')
        try:
            msg = self.run(self.nc.request(subject, data, timeout=timeout or self.request_timeout))
        except nats.errors.NoRespondersError:
            raise JetStreamAPIError('no responders: JetStream is not enabled for this account, or the domain/api_prefix '
                                    'is wrong', code=503, subject=subject)
        except nats.errors.TimeoutError:
            raise JetStreamAPIError('no reply within %.1fs' % (timeout or self.request_timeout), code=408,
                                    subject=subject)
        if not msg.data:
            return {}
        resp = json.loads(msg.data.decode('utf-8'))
        if isinstance(resp, dict) and resp.get('error'):
            err = resp['error']
            raise JetStreamAPIError(err.get('description', 'unknown error'), code=err.get('code'),
                                    err_code=err.get('err_code'), subject=subject)
        return resp

    def api(self, suffix, payload=None, timeout=None):
        return self.request('%s.%s' % (self.prefix, suffix), payload, timeout)

    def paged(self, suffix, key, payload=None):
        """Collect every page of a LIST/NAMES API (offset/total paging)."""
        items = []
        offset = 0
        while True:
            body = dict(payload or {})
            body['offset'] = offset
            resp = self.api(suffix, body)
            page = resp.get(key) or []
            items.extend(page)
            offset += len(page)
            if not page or offset >= int(resp.get('total', 0)):
                return items


def nats_common_module_kwargs():
    return dict(mutually_exclusive=JETSTREAM_MUTUALLY_EXCLUSIVE, required_together=JETSTREAM_REQUIRED_TOGETHER)
