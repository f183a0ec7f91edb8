# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Connection layer shared by every JetStream module: options, a synchronous client over nats-py, and the
modules' reading of durations and sizes (through ``_units``).

``JetStreamClient`` is the only code of the collection that builds JetStream API subjects or reads the API's
error codes: the resources, the snapshot code and the modules call its named methods."""

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


# Error codes (err_code) of the JetStream API that the collection acts on (nats-server's server/errors.json).
CONSUMER_NOT_FOUND = 10014
PEER_NOT_A_MEMBER = 10044
STREAM_NOT_FOUND = 10059
MEMBER_CHANGE_IN_FLIGHT = 10202
HTTP_NOT_FOUND = 404

# The API prefix of the connected account's JetStream, and of the system account's (cluster-wide requests).
DEFAULT_API_PREFIX = '$JS.API'


def api_prefix(domain=None, prefix=None):
    """The API prefix for an explicit ``prefix`` or a JetStream ``domain`` (the default prefix otherwise)."""
    if prefix:
        return prefix.rstrip('.')
    if domain:
        return '$JS.%s.API' % domain
    return DEFAULT_API_PREFIX


def api_subject(suffix, prefix=DEFAULT_API_PREFIX):
    """The subject of one JetStream API request, for example ``$JS.API.INFO``."""
    return '%s.%s' % (prefix, suffix)


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

    def is_not_found(self, *err_codes):
        """True when the API answered that the object does not exist (one of ``err_codes``, or a 404)."""
        return self.err_code in err_codes or self.code == HTTP_NOT_FOUND

    @classmethod
    def from_reply(cls, resp, subject, default='unknown error'):
        """The error of a decoded API reply, or None when the reply is no error envelope."""
        if isinstance(resp, dict) and resp.get('error'):
            err = resp['error']
            return cls(err.get('description', default), code=err.get('code'), err_code=err.get('err_code'),
                       subject=subject)
        return None


def decode_reply(data, subject, default='unknown error'):
    """A JetStream API reply (bytes) -> dict; raises JetStreamAPIError for an error envelope."""
    resp = json.loads(data.decode('utf-8') if isinstance(data, bytes) else data) if data else {}
    error = JetStreamAPIError.from_reply(resp, subject, default)
    if error is not None:
        raise error
    return resp


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
        self.prefix = api_prefix(self.params.get('domain'), self.params.get('api_prefix'))
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
        return decode_reply(msg.data, subject)

    def subject(self, suffix):
        """The subject of an API request of the connected account (domain and api_prefix applied)."""
        return api_subject(suffix, self.prefix)

    def api(self, suffix, payload=None, timeout=None):
        return self.request(self.subject(suffix), payload, timeout)

    def system_api(self, suffix, payload=None):
        """A request to the system account's API (``$JS.API``, whatever domain or prefix the module was given)."""
        return self.request(api_subject(suffix), payload)

    def _info_or_none(self, suffix, *missing):
        try:
            return self.api(suffix)
        except JetStreamAPIError as exc:
            if exc.is_not_found(*missing):
                return None
            raise

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

    # -- streams ---------------------------------------------------------------------------------
    def streams(self, subject=None):
        """Info of every stream (STREAM.LIST), optionally of those that listen on ``subject``."""
        return self.paged('STREAM.LIST', 'streams', {'subject': subject} if subject else None)

    def stream_info(self, name):
        """Info (config, state, cluster) of stream ``name``; None when there is no such stream."""
        return self._info_or_none('STREAM.INFO.%s' % name, STREAM_NOT_FOUND)

    def create_stream(self, name, config):
        return self.api('STREAM.CREATE.%s' % name, config)

    def update_stream(self, name, config):
        return self.api('STREAM.UPDATE.%s' % name, config)

    def delete_stream(self, name):
        return self.api('STREAM.DELETE.%s' % name)

    def stream_leader_stepdown(self, name):
        return self.api('STREAM.LEADER.STEPDOWN.%s' % name, {})

    # -- consumers -------------------------------------------------------------------------------
    def consumers(self, stream):
        """Info of every consumer of ``stream`` (CONSUMER.LIST)."""
        return self.paged('CONSUMER.LIST.%s' % stream, 'consumers')

    def consumer_info(self, stream, name):
        """Info of consumer ``name`` of ``stream``; None when there is no such consumer (or stream)."""
        return self._info_or_none('CONSUMER.INFO.%s.%s' % (stream, name), CONSUMER_NOT_FOUND, STREAM_NOT_FOUND)

    def create_consumer(self, stream, name, config):
        """Create or update the durable consumer ``name`` of ``stream``."""
        return self.api('CONSUMER.CREATE.%s.%s' % (stream, name), {'stream_name': stream, 'config': config})

    def delete_consumer(self, stream, name):
        return self.api('CONSUMER.DELETE.%s.%s' % (stream, name))

    def consumer_leader_stepdown(self, stream, name):
        return self.api('CONSUMER.LEADER.STEPDOWN.%s.%s' % (stream, name), {})

    # -- the cluster (system account) ------------------------------------------------------------
    def meta_leader_stepdown(self):
        return self.system_api('META.LEADER.STEPDOWN', {})

    def remove_peer(self, peer_id):
        return self.system_api('SERVER.REMOVE', {'peer_id': peer_id})

    # -- snapshots (coroutines: they run on the client's loop beside the data they stream) -------
    async def _async_api(self, suffix, payload, timeout, default):
        subject = self.subject(suffix)
        resp = await self.nc.request(subject, json.dumps(payload).encode('utf-8'), timeout=timeout)
        return decode_reply(resp.data, suffix, default)

    async def snapshot_stream(self, name, body, timeout=None):
        """Ask for a snapshot of stream ``name`` delivered to ``body['deliver_subject']``; the reply (config, state)."""
        return await self._async_api('STREAM.SNAPSHOT.%s' % name, body, timeout or self.request_timeout,
                                     'snapshot failed')

    async def restore_stream(self, config, state):
        """Start the restore of stream ``config``; the reply names the subject that takes the data."""
        return await self._async_api('STREAM.RESTORE.%s' % config['name'], {'config': config, 'state': state},
                                     self.request_timeout, 'restore failed')

    @staticmethod
    def restore_result(data, name):
        """The final reply of a restore (stream info); raises JetStreamAPIError for an error."""
        return decode_reply(data, 'STREAM.RESTORE.%s' % name, 'restore failed')
