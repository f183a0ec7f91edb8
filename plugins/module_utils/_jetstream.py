# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Connection layer shared by every JetStream module: options, a synchronous client over nats-py,
raw JSON requests to the $JS.API, and the modules' reading of durations and sizes (through ``_units``)."""

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

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.natsops.jetstream.plugins.module_utils import _units


def jetstream_argument_spec():
    """Connection options every JetStream module accepts (documented in the connection doc fragment)."""
    # An option left out is read from natscli's environment variable, as an AWX credential injects it.
    return dict(
        servers=dict(type='list', elements='str', default=['nats://127.0.0.1:4222'], fallback=(env_fallback, ['NATS_URL'])),
        tls_ca=dict(type='path', fallback=(env_fallback, ['NATS_CA'])),
        tls_cert=dict(type='path', fallback=(env_fallback, ['NATS_CERT'])),
        tls_key=dict(type='path', no_log=False, fallback=(env_fallback, ['NATS_KEY'])),
        tls_server_name=dict(type='str'),
        creds=dict(type='path', fallback=(env_fallback, ['NATS_CREDS'])),
        nkey_seed=dict(type='path', no_log=False, fallback=(env_fallback, ['NATS_NKEY'])),
        user=dict(type='str', fallback=(env_fallback, ['NATS_USER'])),
        password=dict(type='str', no_log=True, fallback=(env_fallback, ['NATS_PASSWORD'])),
        token=dict(type='str', no_log=True, fallback=(env_fallback, ['NATS_TOKEN'])),
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

_NUMBER_RE = re.compile(r'^\s*-?[0-9]+(?:\.[0-9]+)?\s*$')


def parse_duration(value, field):
    """A duration option -> nanoseconds, read by ``_units.parse_duration`` (nats-server's units, plus ``d`` and
    ``w``). A bare number (``90``, ``"90"``, ``1.5``) is seconds, as nats-server's configuration reads one.
    Negative durations are refused. Raises ValueError (``_units.UnitError``) naming the field."""
    if value is None:
        return None
    if isinstance(value, bool):
        return _units.parse_duration(value, field, allow_days=True)  # raises, naming the field
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER_RE.match(value)):
        text = str(value).strip()
        if text.startswith('-'):
            raise _units.UnitError('%s: %r is negative; durations must be 0 or more' % (field, value))
        try:
            return _units.parse_duration(text + 's', field, allow_days=True)
        except _units.UnitError:   # e.g. 1e-05 from a float: say what the user wrote
            raise _units.UnitError('%s: %r is not a duration; use a number of seconds or a number with a unit (%s)'
                                   % (field, value, _units.DURATION_HELP))
    ns = _units.parse_duration(value, field, allow_days=True)
    if ns < 0:
        raise _units.UnitError('%s: %r is negative; durations must be 0 or more' % (field, value))
    return ns


def parse_size(value, field, allow_unlimited=True):
    """A size option -> bytes, read by ``_units.parse_size`` (nats-server's meaning: ``K``/``M``/``G``/``T`` are
    powers of 1000, ``KB``/``KiB``/``MB``/``MiB``/... powers of 1024). ``-1`` is unlimited when allowed; other
    negative sizes are refused. Raises ValueError (``_units.UnitError``) naming the field."""
    if value is None:
        return None
    number = _units.parse_size(value, field)
    if number == -1 and allow_unlimited:
        return -1
    if number < 0:
        raise _units.UnitError('%s: %r is not a size of 0 or more%s; expected %s'
                               % (field, value, ' (or -1 for unlimited)' if allow_unlimited else '', _units.SIZE_HELP))
    return number


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
