# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""NATS decentralized authentication on the controller: nkeys (Ed25519 seeds and public keys of operators,
accounts and users, through the ``nkeys`` package of the NATS maintainers), the claims of operator, account and
user JWTs (written here, in the JSON layout of github.com/nats-io/jwt/v2 as nsc writes it), their encoding,
decoding and signature check, and ``.creds`` files as nsc writes them.

Nothing here prints a seed: error messages name the option and the kind of key, never its value."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import calendar
import copy
import datetime
import hashlib
import ipaddress
import json
import os
import re
import tempfile
import time
import traceback

# nkeys 0.2.0 or later: encode_seed and the PyNaCl keys (0.1.0 had neither)
NKEYS_REQUIREMENT = 'nkeys>=0.2.0'
try:
    import nkeys
    import nacl.signing
    import nacl.exceptions
    if not hasattr(nkeys, 'encode_seed'):
        raise ImportError('nkeys %s is too old: %s is needed' % (getattr(nkeys, '__version__', '< 0.2.0'),
                                                                 NKEYS_REQUIREMENT))
    HAS_NKEYS = True
    NKEYS_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised through missing_required_lib
    HAS_NKEYS = False
    NKEYS_IMPORT_ERROR = traceback.format_exc()

from ansible_collections.natsops.jetstream.plugins.module_utils import _units


class JwtError(ValueError):
    """Bad input or a JWT that does not decode or verify; the message names the option (never a seed)."""


# kind -> (public key prefix letter, nkeys prefix byte name)
KINDS = {
    'operator': ('O', 'PREFIX_BYTE_OPERATOR'),
    'account': ('A', 'PREFIX_BYTE_ACCOUNT'),
    'user': ('U', 'PREFIX_BYTE_USER'),
}
_LETTER_KIND = dict((v[0], k) for k, v in KINDS.items())
_PUBLIC_RE = re.compile(r'^[A-Z2-7]{56}$')
_SEED_RE = re.compile(r'^S[A-Z2-7]{57}$')

HEADER = {'typ': 'JWT', 'alg': 'ed25519-nkey'}
LIB_VERSION = 2
NO_LIMIT = -1
CONNECTION_TYPES = ['STANDARD', 'WEBSOCKET', 'LEAFNODE', 'LEAFNODE_WS', 'MQTT', 'MQTT_WS', 'IN_PROCESS']
RESPONSE_TYPES = ['Singleton', 'Stream', 'Chunked']
# Claims that change on every signing and are ignored when a JWT is compared with the desired claims.
VOLATILE = ('iat', 'jti')


# ---------------------------------------------------------------------------------------------
# nkeys
# ---------------------------------------------------------------------------------------------

def _kind_of_letter(letter):
    return _LETTER_KIND.get(letter, 'unknown (%s)' % letter)


def _a(word):
    return ('a ' if word.startswith('user') or word[:1] not in 'aeiou' else 'an ') + word


def create_seed(kind):
    """A new seed (str) of an operator, account or user nkey, from 32 bytes of os.urandom."""
    prefix = getattr(nkeys, KINDS[kind][1])
    return nkeys.encode_seed(os.urandom(32), prefix).decode('ascii')


def keypair(seed, option, kind):
    """The nkeys KeyPair of ``seed`` (str or bytes), refused unless it is a valid seed of ``kind`` (operator,
    account or user; account signing keys are account keys, operator signing keys operator keys). The message
    names ``option`` and the kinds, never the seed."""
    if isinstance(seed, bytes):
        seed = seed.decode('ascii', 'replace')
    text = (seed or '').strip()
    if not _SEED_RE.match(text):
        raise JwtError('%s: not an nkey seed (expected 58 base32 characters starting with S%s)'
                       % (option, KINDS[kind][0]))
    letter = text[1]
    if letter != KINDS[kind][0]:
        raise JwtError('%s: this is the seed of %s key (S%s...), %s seed (S%s...) is needed'
                       % (option, _a(_kind_of_letter(letter)), letter, _a(kind), KINDS[kind][0]))
    # nkeys.from_seed does not check the CRC-16 at the end of a seed: check it here, so a mistyped seed is
    # refused instead of silently giving another key
    if _crc_ok(text) is not True:
        raise JwtError('%s: the %s seed does not decode (bad checksum or length)' % (option, kind))
    try:
        kp = nkeys.from_seed(text.encode('ascii'))
        kp.public_key  # noqa: B018 - decodes the seed
    except Exception:  # noqa: BLE001 - nkeys raises several error types
        raise JwtError('%s: the %s seed does not decode (bad checksum or length)' % (option, kind))
    return kp


def _checked_body(text):
    """An nkey's bytes before its CRC-16, or None when the text does not decode or the checksum does not match."""
    try:
        data = base64.b32decode(text + '=' * (-len(text) % 8))
    except (ValueError, TypeError):
        return None
    body, crc = data[:-2], data[-2:]
    if nkeys.crc16(bytearray(body)).to_bytes(2, byteorder='little') != crc:
        return None
    return body


def _crc_ok(text):
    return _checked_body(text) is not None


def public_key(kp):
    return kp.public_key.decode('ascii')


def read_seed_file(path, option, kind):
    """KeyPair from a seed file: a bare seed (nsc's .nk files, the nkey module's files) or a decorated seed
    block (a .creds file)."""
    try:
        with open(path, 'rb') as f:
            data = f.read().decode('ascii', 'replace')
    except (IOError, OSError) as exc:
        raise JwtError('%s: cannot read %s: %s' % (option, path, exc.strerror or exc))
    seeds = [line.strip() for line in data.splitlines() if _SEED_RE.match(line.strip())]
    if not seeds:
        raise JwtError('%s: %s holds no nkey seed' % (option, path))
    return keypair(seeds[0], '%s (%s)' % (option, path), kind)


def check_public_key(value, option, kinds):
    """A public nkey (str) of one of ``kinds``; refused with a message naming the option and value."""
    if isinstance(kinds, str):
        kinds = [kinds]
    text = value if isinstance(value, str) else str(value)
    if _SEED_RE.match(text.strip()):
        raise JwtError('%s: a seed was given where a public key is needed (never put seeds in claims)' % option)
    if not _PUBLIC_RE.match(text):
        raise JwtError('%s: %r is not a public nkey (56 base32 characters starting with %s)'
                       % (option, text, ' or '.join(KINDS[k][0] for k in kinds)))
    if text[0] not in [KINDS[k][0] for k in kinds]:
        raise JwtError('%s: %s is the public key of %s, %s key (%s...) is needed'
                       % (option, text, _a(_kind_of_letter(text[0])) if text[0] in 'AOU' else 'another kind of key',
                          _a(' or '.join(kinds)), '/'.join(KINDS[k][0] for k in kinds)))
    raw = _public_raw(text)
    if raw is None:
        raise JwtError('%s: %s is not a valid public nkey (bad checksum)' % (option, text))
    return text


def _public_raw(text):
    """The 32 Ed25519 key bytes of a public nkey, or None when its checksum does not match."""
    body = _checked_body(text)
    if body is None or len(body) != 33:
        return None
    return bytes(body[1:])


def verify_signature(public, payload, sig):
    raw = _public_raw(public)
    if raw is None:
        return False
    try:
        nacl.signing.VerifyKey(raw).verify(payload, sig)
        return True
    except nacl.exceptions.BadSignatureError:
        return False


# ---------------------------------------------------------------------------------------------
# JWT encoding
# ---------------------------------------------------------------------------------------------

def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def _unb64(text, what):
    try:
        return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
    except (ValueError, TypeError):
        raise JwtError('%s is not base64url' % what)


def _json(obj):
    return json.dumps(obj, separators=(',', ':'), ensure_ascii=False).encode('utf-8')


def claim_id(claims):
    """The jti: base32 (no padding) of the SHA-256 of the claims without jti, keys sorted. The same shape as
    nsc's (52 characters); nothing verifies it (nats.go hashes only the standard claims with SHA-512/256,
    jwt.js uses SHA-512 over everything), so it is a content hash here: a different claim set gives another jti."""
    body = dict((k, v) for k, v in claims.items() if k != 'jti')
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(',', ':')).encode('utf-8')).digest()
    return base64.b32encode(digest).decode('ascii').rstrip('=')


def _ordered(claims):
    """Standard claims in nats.go's order (aud exp jti iat iss name nbf sub), then nats."""
    out = {}
    for key in ('aud', 'exp', 'jti', 'iat', 'iss', 'name', 'nbf', 'sub', 'nats'):
        if key in claims and claims[key] not in (None, '', 0):
            out[key] = claims[key]
    for key, value in claims.items():
        if key not in out and value not in (None, '', 0):
            out[key] = value
    return out


def encode(claims, kp, now=None):
    """Sign ``claims`` (a dict with sub, name, nats and maybe exp; iss, iat and jti are set here) with the nkeys
    KeyPair ``kp``. Returns the JWT."""
    body = dict(claims)
    body['iss'] = public_key(kp)
    body['iat'] = int(now if now is not None else time.time())
    body.pop('jti', None)
    body['jti'] = claim_id(body)
    body = _ordered(body)
    signing_input = _b64(_json(HEADER)) + '.' + _b64(_json(body))
    return signing_input + '.' + _b64(kp.sign(signing_input.encode('ascii')))


def decode(token, what='JWT', verify=True):
    """(header, claims) of a JWT; with ``verify`` the signature must be the issuer's (``iss``) and the header
    the NATS v2 one. Raises JwtError."""
    token = (token or '').strip()
    parts = token.split('.')
    if len(parts) != 3:
        raise JwtError('%s is not a JWT (expected 3 dot-separated parts)' % what)
    try:
        header = json.loads(_unb64(parts[0], what).decode('utf-8'))
        claims = json.loads(_unb64(parts[1], what).decode('utf-8'))
    except (ValueError, UnicodeDecodeError):
        raise JwtError('%s: header or claims are not JSON' % what)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtError('%s: header or claims are not JSON objects' % what)
    if verify:
        if header.get('alg') != HEADER['alg'] or str(header.get('typ', '')).upper() != 'JWT':
            raise JwtError('%s: header %s is not a NATS v2 JWT header %s'
                           % (what, json.dumps(header, sort_keys=True), json.dumps(HEADER, sort_keys=True)))
        iss = claims.get('iss')
        if not isinstance(iss, str) or not _PUBLIC_RE.match(iss):
            raise JwtError('%s: issuer %r is not a public nkey' % (what, iss))
        sig = _unb64(parts[2], what)
        if not verify_signature(iss, (parts[0] + '.' + parts[1]).encode('ascii'), sig):
            raise JwtError('%s: the signature is not the issuer\'s (%s)' % (what, iss))
    return header, claims


def comparable(claims):
    """Claims without what changes on every signing (iat, jti)."""
    return dict((k, copy.deepcopy(v)) for k, v in claims.items() if k not in VOLATILE)


def claim_changes(before, after, prefix=''):
    """Dotted paths of the claims that differ between two (comparable) claim sets."""
    changes = []
    for key in sorted(set(before or {}) | set(after or {})):
        b, a = (before or {}).get(key), (after or {}).get(key)
        path = prefix + key
        if isinstance(b, dict) and isinstance(a, dict):
            changes.extend(claim_changes(b, a, path + '.'))
        elif b != a:
            changes.append(path)
    return changes


def read_jwt_file(path):
    """The JWT in a file: a bare JWT or the first decorated block (-----BEGIN NATS ... JWT-----, a .creds
    file). None when the file does not exist."""
    if not os.path.exists(path):
        return None
    with open(path, 'rb') as f:
        text = f.read().decode('utf-8', 'replace')
    m = _DECORATED_RE.search(text)
    if m:
        return m.group(1)
    return text.strip()


_DECORATED_RE = re.compile(r'\s*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(?:\r?\n|\Z)))')


# ---------------------------------------------------------------------------------------------
# .creds files (nsc's and nats.go's FormatUserConfig)
# ---------------------------------------------------------------------------------------------

def format_creds(token, seed):
    """A user .creds file exactly as nsc and nats.go's jwt.FormatUserConfig write it."""
    if isinstance(seed, bytes):
        seed = seed.decode('ascii')
    seed = seed.strip()
    if not seed.startswith('SU'):
        raise JwtError('a .creds file needs a user seed (SU...)')
    return ('-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n'
            '************************* IMPORTANT *************************\n'
            'NKEY Seed printed below can be used to sign and prove identity.\n'
            'NKEYs are sensitive and should be treated as secrets.\n\n'
            '-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n'
            '*************************************************************\n' % (token, seed))


def write_file(path, data, mode):
    """Write atomically (temporary file in the same directory, fsync, rename) with ``mode``."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.natsops-')
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'wb') as f:
            f.write(data.encode('utf-8') if not isinstance(data, bytes) else data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def file_mode(path):
    return os.stat(path).st_mode & 0o7777 if os.path.exists(path) else None


# ---------------------------------------------------------------------------------------------
# Input checks shared by the claim builders (messages name the option and the value)
# ---------------------------------------------------------------------------------------------

def check_subject(value, option, permit_queue=False, wildcards=True):
    """A subject (or, with ``permit_queue``, "subject queue") as nats.go's jwt validates it, stricter: no empty
    tokens, no whitespace other than the queue separator, ``>`` only last, wildcards only as whole tokens."""
    if not isinstance(value, str) or value == '':
        raise JwtError('%s: %r is not a subject (a non-empty string)' % (option, value))
    parts = value.split(' ')
    if len(parts) > 2 or (len(parts) == 2 and not permit_queue):
        raise JwtError('%s: %r is not a subject: subjects have no spaces%s'
                       % (option, value, ' (one space separates a queue group)' if permit_queue else ''))
    subject = parts[0]
    if re.search(r'[\s\x00]', subject) or (len(parts) == 2 and (not parts[1] or re.search(r'[\s.*>]', parts[1]))):
        raise JwtError('%s: %r is not a subject (whitespace or a bad queue group)' % (option, value))
    tokens = subject.split('.')
    for i, tok in enumerate(tokens):
        if tok == '':
            raise JwtError('%s: %r is not a subject: empty token (leading, trailing or double dot)' % (option, value))
        if ('*' in tok and tok != '*') or ('>' in tok and tok != '>'):
            raise JwtError('%s: %r is not a subject: wildcards * and > must be whole tokens' % (option, value))
        if tok == '>' and i != len(tokens) - 1:
            raise JwtError('%s: %r is not a subject: > must be the last token' % (option, value))
        if tok in ('*', '>') and not wildcards:
            raise JwtError('%s: %r may not contain wildcards' % (option, value))
    return value


def parse_time(value, option, now=None, future=False):
    """A point in time -> Unix seconds: an integer (Unix seconds) or an ISO 8601 date-time with a zone
    (2027-01-31T12:00:00Z, 2027-01-31T13:00:00+01:00) or a date (2027-01-31, midnight UTC). With ``future`` a
    time not after now is refused."""
    if value is None or value == '':
        return None
    if isinstance(value, bool):
        raise JwtError('%s: %r is not a time' % (option, value))
    seconds = None
    if isinstance(value, int) or (isinstance(value, str) and re.match(r'^\s*[0-9]+\s*$', value)):
        seconds = int(value)
    elif isinstance(value, float) and value == int(value):
        seconds = int(value)
    elif isinstance(value, str):
        text = value.strip()
        m = re.match(r'^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?$', text)
        if m:
            y, mo, d, h, mi, s, zone = m.groups()
            if h is not None and zone is None:
                raise JwtError('%s: %r has no time zone; add Z (UTC) or an offset such as +01:00' % (option, value))
            try:
                dt = datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
            except ValueError:
                raise JwtError('%s: %r is not a valid date' % (option, value))
            seconds = calendar.timegm(dt.timetuple())
            if zone and zone != 'Z':
                sign = 1 if zone[0] == '+' else -1
                digits = zone[1:].replace(':', '')
                seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    if seconds is None:
        raise JwtError('%s: %r is not a time; use Unix seconds or an ISO 8601 date-time with a zone, '
                       'e.g. 2027-01-31T12:00:00Z' % (option, value))
    if future:
        current = int(now if now is not None else time.time())
        if seconds <= current:
            raise JwtError('%s: %r (%s) is not in the future (now is %s)'
                           % (option, value, _iso(seconds), _iso(current)))
    return seconds


def _iso(seconds):
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(seconds))


def _limit(value, option, size=False):
    """A limit: -1 unlimited, 0 or more; sizes may have units (nats-server's meaning)."""
    if value is None:
        return None
    try:
        number = _units.parse_size(value, option) if size else value
        if not size:
            if isinstance(number, bool):
                raise ValueError
            number = int(number)
    except (ValueError, TypeError) as exc:
        raise JwtError(str(exc) if isinstance(exc, _units.UnitError) else '%s: %r is not an integer' % (option, value))
    if number < -1:
        raise JwtError('%s: %r is negative; use -1 for unlimited or 0 or more' % (option, value))
    return number


def _duration_ns(value, option):
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = '%ss' % value
    try:
        ns = _units.parse_duration(value, option)
    except _units.UnitError as exc:
        raise JwtError(str(exc))
    if ns < 0:
        raise JwtError('%s: %r is negative' % (option, value))
    return ns


def _reject_unknown(value, allowed, option):
    if not isinstance(value, dict):
        raise JwtError('%s: %r is not a dictionary' % (option, value))
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        plural = 's' if len(unknown) > 1 else ''
        raise JwtError('%s: unknown key%s %s; allowed: %s'
                       % (option, plural, ', '.join(unknown), ', '.join(sorted(allowed))))


def _str_list(value, option):
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise JwtError('%s: %r is not a list of strings' % (option, value))
    for v in value:
        if not isinstance(v, str):
            raise JwtError('%s: %r is not a string' % (option, v))
    return list(value)


def _tags(value, option):
    # nats.go's TagList: trimmed, lower case, unique
    out = []
    for tag in _str_list(value, option):
        t = tag.strip().lower()
        if t and t not in out:
            out.append(t)
    return out


# ---------------------------------------------------------------------------------------------
# Permissions (user claims, account default permissions, scoped signing key templates)
# ---------------------------------------------------------------------------------------------

PERMISSION_KEYS = ('pub', 'sub', 'resp')


def permissions(pub=None, sub=None, resp=None, option='permissions'):
    """nats.go's Permissions: {"pub": {allow, deny}, "sub": {allow, deny}, "resp": {max, ttl}}. ``pub`` and ``sub``
    are dicts with ``allow`` and ``deny`` lists of subjects (queue groups allowed in ``sub``); ``resp`` a dict with
    ``max`` (messages) and ``ttl`` (a duration). Unknown keys and malformed subjects are refused."""
    out = {}
    for name, value, queue in (('pub', pub, False), ('sub', sub, True)):
        perm = {}
        if value is not None:
            _reject_unknown(value, ('allow', 'deny'), '%s.%s' % (option, name) if option else name)
            for key in ('allow', 'deny'):
                opt = '%s%s.%s' % (option + '.' if option else '', name, key)
                subjects = _str_list(value.get(key), opt)
                for s in subjects:
                    check_subject(s, opt, permit_queue=queue)
                if subjects:
                    perm[key] = subjects
        out[name] = perm
    if resp is not None:
        opt = '%sresp' % (option + '.' if option else '')
        _reject_unknown(resp, ('max', 'ttl'), opt)
        max_msgs = resp.get('max', 1)
        if isinstance(max_msgs, bool) or not isinstance(max_msgs, int) or max_msgs < -1:
            try:
                max_msgs = int(max_msgs)
                if max_msgs < -1:
                    raise ValueError
            except (TypeError, ValueError):
                raise JwtError('%s.max: %r is not a number of messages (-1 for unlimited)' % (opt, resp.get('max')))
        out['resp'] = {'max': max_msgs, 'ttl': _duration_ns(resp.get('ttl', 0), opt + '.ttl') or 0}
    return out


# ---------------------------------------------------------------------------------------------
# Claim builders: the "desired" claims (without iss, iat, jti), in nats.go's JSON layout with its omitempty
# ---------------------------------------------------------------------------------------------

def _generic(nats, kind, tags):
    if tags:
        nats['tags'] = tags
    nats['type'] = kind
    nats['version'] = LIB_VERSION
    return nats


def operator_claims(name, subject, signing_keys=None, system_account=None, operator_service_urls=None,
                    account_server_url=None, strict_signing_key_usage=False, tags=None):
    check_public_key(subject, 'operator identity', 'operator')
    nats = {}
    keys = []
    for key in _str_list(signing_keys, 'signing_keys'):
        check_public_key(key, 'signing_keys', 'operator')
        if key == subject:
            raise JwtError('signing_keys: %s is the operator\'s own identity key; signing keys are other operator '
                           'keys' % key)
        if key not in keys:
            keys.append(key)
    if keys:
        nats['signing_keys'] = sorted(keys)
    if account_server_url:
        if not re.match(r'^(https?|nats)://', account_server_url):
            raise JwtError('account_server_url: %r is not an http(s):// or nats:// URL' % account_server_url)
        nats['account_server_url'] = account_server_url
    urls = _str_list(operator_service_urls, 'operator_service_urls')
    for url in urls:
        if not re.match(r'^(nats|tls|ws|wss)://[^\s/]+', url):
            raise JwtError('operator_service_urls: %r is not a nats://, tls://, ws:// or wss:// URL' % url)
    if urls:
        nats['operator_service_urls'] = urls
    if system_account:
        nats['system_account'] = check_public_key(system_account, 'system_account', 'account')
    if strict_signing_key_usage:
        if not keys:
            raise JwtError('strict_signing_key_usage: true needs signing_keys (accounts must then be signed by one)')
        nats['strict_signing_key_usage'] = True
    return {'name': name, 'sub': subject, 'nats': _generic(nats, 'operator', _tags(tags, 'tags'))}


ACCOUNT_LIMIT_KEYS = ('subs', 'data', 'payload', 'imports', 'exports', 'wildcards', 'disallow_bearer', 'conn', 'leaf')
JETSTREAM_LIMIT_KEYS = ('mem_storage', 'disk_storage', 'streams', 'consumer', 'max_ack_pending',
                        'mem_max_stream_bytes', 'disk_max_stream_bytes', 'max_bytes_required')
_SIZE_LIMITS = ('data', 'payload', 'mem_storage', 'disk_storage', 'mem_max_stream_bytes', 'disk_max_stream_bytes')
_TIER_RE = re.compile(r'^R[1-5]$')


def _jetstream_limits(value, option):
    """JetStream limits of an account (or one tier). Given at all, JetStream is enabled: mem_storage,
    disk_storage, streams and consumer default to -1 (unlimited, as ``nsc edit account --js-enable``)."""
    _reject_unknown(value, JETSTREAM_LIMIT_KEYS, option)
    out = {}
    for key in ('mem_storage', 'disk_storage', 'streams', 'consumer'):
        v = value.get(key)
        out[key] = NO_LIMIT if v is None else _limit(v, '%s.%s' % (option, key), key in _SIZE_LIMITS)
    for key in ('max_ack_pending', 'mem_max_stream_bytes', 'disk_max_stream_bytes'):
        v = _limit(value.get(key), '%s.%s' % (option, key), key in _SIZE_LIMITS)
        if v:
            out[key] = v
    if value.get('max_bytes_required'):
        out['max_bytes_required'] = True
    if out['mem_storage'] == 0 and out['disk_storage'] == 0:
        raise JwtError('%s: mem_storage and disk_storage are both 0, which disables JetStream; leave the option '
                       'out instead' % option)
    # nats.go's omitempty: zero values are not written
    return dict((k, v) for k, v in out.items() if v not in (0, False))


def account_limits(limits=None, jetstream=None, jetstream_tiers=None):
    """nats.go's OperatorLimits: NatsLimits, AccountLimits and JetStreamLimits flat, tiered_limits apart.
    Unset limits are -1 (unlimited), wildcard exports allowed, as nsc creates an account."""
    limits = limits or {}
    _reject_unknown(limits, ACCOUNT_LIMIT_KEYS, 'limits')
    out = {}
    for key in ('subs', 'data', 'payload', 'imports', 'exports'):
        v = limits.get(key)
        out[key] = NO_LIMIT if v is None else _limit(v, 'limits.%s' % key, key in _SIZE_LIMITS)
    out['wildcards'] = True if limits.get('wildcards') is None else bool(limits['wildcards'])
    if limits.get('disallow_bearer'):
        out['disallow_bearer'] = True
    for key in ('conn', 'leaf'):
        v = limits.get(key)
        out[key] = NO_LIMIT if v is None else _limit(v, 'limits.%s' % key)
    if jetstream is not None and jetstream_tiers:
        raise JwtError('jetstream and jetstream_tiers are mutually exclusive (nats.go refuses both)')
    if jetstream is not None:
        out.update(_jetstream_limits(jetstream, 'jetstream'))
    if jetstream_tiers:
        if not isinstance(jetstream_tiers, dict):
            raise JwtError('jetstream_tiers: %r is not a dictionary of tiers (R1, R3, ...)' % (jetstream_tiers,))
        tiers = {}
        for tier in sorted(jetstream_tiers):
            if not _TIER_RE.match(str(tier)):
                raise JwtError('jetstream_tiers: %r is not a tier name; tiers are R1 to R5 (the replica count)' % tier)
            tiers[tier] = _jetstream_limits(jetstream_tiers[tier] or {}, 'jetstream_tiers.%s' % tier)
        out['tiered_limits'] = tiers
    # nats.go writes wildcards only when true (omitempty)
    return dict((k, v) for k, v in out.items() if v is not False and not (v == 0 and k not in ('wildcards',)))


EXPORT_KEYS = ('name', 'subject', 'type', 'token_req', 'response_type', 'response_threshold',
               'account_token_position', 'advertise', 'allow_trace', 'description', 'info_url', 'revocations')
IMPORT_KEYS = ('name', 'subject', 'account', 'token', 'local_subject', 'type', 'share', 'allow_trace')


def _port(value, allowed, option):
    """What an export and an import share: no unknown keys, a type (stream or service), the optional name and the
    subject. Returns (type, claim with name and subject)."""
    _reject_unknown(value, allowed, option)
    kind = value.get('type')
    if kind not in ('stream', 'service'):
        raise JwtError('%s.type: %r is not one of stream, service' % (option, kind))
    out = {}
    if value.get('name'):
        out['name'] = str(value['name'])
    out['subject'] = check_subject(value.get('subject'), option + '.subject')
    return kind, out


def _flags(value, out, keys):
    """Set each of ``keys`` that is true in ``value`` to True in ``out``."""
    for key in keys:
        if value.get(key):
            out[key] = True


def _export(value, option):
    kind, out = _port(value, EXPORT_KEYS, option)
    out['type'] = kind
    if value.get('token_req'):
        out['token_req'] = True
    if value.get('revocations'):
        out['revocations'] = revocation_list(value['revocations'], option + '.revocations')
    if value.get('response_type'):
        if kind != 'service' or value['response_type'] not in RESPONSE_TYPES:
            raise JwtError('%s.response_type: %r is only for services, one of %s'
                           % (option, value['response_type'], ', '.join(RESPONSE_TYPES)))
        out['response_type'] = value['response_type']
    threshold = _duration_ns(value.get('response_threshold'), option + '.response_threshold')
    if threshold:
        out['response_threshold'] = threshold
    pos = value.get('account_token_position')
    if pos:
        tokens = out['subject'].split('.')
        if not isinstance(pos, int) or isinstance(pos, bool) or pos < 1 or pos > len(tokens) or tokens[pos - 1] != '*':
            raise JwtError('%s.account_token_position: %r must point at a * token of %s'
                           % (option, pos, out['subject']))
        out['account_token_position'] = pos
    _flags(value, out, ('advertise', 'allow_trace'))
    for key in ('description', 'info_url'):
        if value.get(key):
            out[key] = str(value[key])
    return out


def _import(value, option, importer):
    kind, out = _port(value, IMPORT_KEYS, option)
    out['account'] = check_public_key(value.get('account') or '', option + '.account', 'account')
    if out['account'] == importer:
        raise JwtError('%s.account: an account cannot import from itself (%s)' % (option, importer))
    if value.get('token'):
        decode(value['token'], option + '.token', verify=True)
        out['token'] = value['token']
    if value.get('local_subject'):
        out['local_subject'] = check_subject(value['local_subject'], option + '.local_subject')
    out['type'] = kind
    _flags(value, out, ('share', 'allow_trace'))
    return out


def revocation_list(value, option='revocations'):
    """{public key or "*": time} -> {key: Unix seconds}. A JWT of that subject issued at or before the time is
    revoked (nats.go's RevocationList)."""
    if not isinstance(value, dict):
        raise JwtError('%s: %r is not a dictionary of public key: time' % (option, value))
    out = {}
    for key in sorted(value):
        if key != '*':
            check_public_key(key, option, ['user', 'account'])
        ts = parse_time(value[key], '%s.%s' % (option, key))
        if ts is None or ts <= 0:
            raise JwtError('%s.%s: a revocation needs a time' % (option, key))
        out[key] = ts
    return out


SIGNING_KEY_KEYS = ('key', 'role', 'description', 'template')
TEMPLATE_KEYS = ('pub', 'sub', 'resp', 'src', 'subs', 'data', 'payload', 'bearer_token', 'allowed_connection_types')


def _signing_keys(value, subject):
    """Account signing keys: public keys (A...), or scoped ones {key, role, description, template} whose template
    holds the user permissions and limits the server applies to every user that key signs."""
    out = {}
    for i, entry in enumerate(value or []):
        option = 'signing_keys[%d]' % i
        if isinstance(entry, str):
            key = check_public_key(entry, option, 'account')
            out[key] = None
        elif isinstance(entry, dict):
            _reject_unknown(entry, SIGNING_KEY_KEYS, option)
            key = check_public_key(entry.get('key') or '', option + '.key', 'account')
            template = entry.get('template') or {}
            _reject_unknown(template, TEMPLATE_KEYS, option + '.template')
            perms = user_permission_limits(template, option + '.template')
            out[key] = {'kind': 'user_scope', 'key': key, 'role': str(entry.get('role') or ''),
                        'template': perms, 'description': str(entry.get('description') or '')}
        else:
            raise JwtError('%s: %r is neither a public key nor a dictionary' % (option, entry))
        if key == subject:
            raise JwtError('%s: %s is the account\'s own identity key; signing keys are other account keys'
                           % (option, key))
    # nats.go writes them sorted by key: plain keys as strings, scoped ones as objects
    return [out[k] if out[k] is not None else k for k in sorted(out)]


def account_claims(name, subject, limits=None, jetstream=None, jetstream_tiers=None, exports=None, imports=None,
                   signing_keys=None, revocations=None, default_permissions=None, description=None, info_url=None,
                   tags=None):
    check_public_key(subject, 'account identity', 'account')
    nats = {}
    imps = [_import(v, 'imports[%d]' % i, subject) for i, v in enumerate(imports or [])]
    exps = [_export(v, 'exports[%d]' % i) for i, v in enumerate(exports or [])]
    seen = set()
    for e in exps:
        if e['subject'] in seen:
            raise JwtError('exports: subject %s is exported twice' % e['subject'])
        seen.add(e['subject'])
    if imps:
        nats['imports'] = sorted(imps, key=lambda x: (x['subject'], x['account']))
    if exps:
        nats['exports'] = sorted(exps, key=lambda x: x['subject'])
    nats['limits'] = account_limits(limits, jetstream, jetstream_tiers)
    lim = nats['limits']
    if lim.get('imports', NO_LIMIT) != NO_LIMIT and len(imps) > lim['imports']:
        raise JwtError('imports: %d imports, more than limits.imports (%d)' % (len(imps), lim['imports']))
    if lim.get('exports', NO_LIMIT) != NO_LIMIT and len(exps) > lim['exports']:
        raise JwtError('exports: %d exports, more than limits.exports (%d)' % (len(exps), lim['exports']))
    keys = _signing_keys(signing_keys, subject)
    if keys:
        nats['signing_keys'] = keys
    if revocations:
        nats['revocations'] = revocation_list(revocations)
    dp = default_permissions or {}
    _reject_unknown(dp, PERMISSION_KEYS, 'default_permissions')
    nats['default_permissions'] = permissions(dp.get('pub'), dp.get('sub'), dp.get('resp'), 'default_permissions')
    if description:
        nats['description'] = description
    if info_url:
        nats['info_url'] = info_url
    return {'name': name, 'sub': subject, 'nats': _generic(nats, 'account', _tags(tags, 'tags'))}


def user_permission_limits(value, option):
    """nats.go's UserPermissionLimits from a dict with pub, sub, resp, src, subs, data, payload, bearer_token,
    allowed_connection_types. Limits default to -1 (unlimited) as nsc writes a user."""
    out = permissions(value.get('pub'), value.get('sub'), value.get('resp'), option)
    src = _str_list(value.get('src'), '%s.src' % option if option else 'src')
    nets = []
    for cidr in src:
        try:
            nets.append(str(ipaddress.ip_network(cidr.strip(), strict=False)))
        except ValueError:
            raise JwtError('%s: %r is not a network (CIDR such as 10.0.0.0/8 or an address)'
                           % ('%s.src' % option if option else 'src', cidr))
    if nets:
        out['src'] = [n.lower() for n in nets]
    for key in ('subs', 'data', 'payload'):
        v = value.get(key)
        opt = '%s.%s' % (option, key) if option else key
        out[key] = NO_LIMIT if v is None else _limit(v, opt, key in _SIZE_LIMITS)
        if out[key] == 0:
            del out[key]
    if value.get('bearer_token'):
        out['bearer_token'] = True
    types = _str_list(value.get('allowed_connection_types'),
                      '%s.allowed_connection_types' % option if option else 'allowed_connection_types')
    for t in types:
        if t not in CONNECTION_TYPES:
            raise JwtError('%s: %r is not one of %s' % ('%s.allowed_connection_types' % option if option
                                                        else 'allowed_connection_types', t, ', '.join(CONNECTION_TYPES)))
    if types:
        out['allowed_connection_types'] = sorted(set(types), key=types.index)
    return out


def user_claims(name, subject, issuer_public, issuer_account=None, expires=None, scoped=False, tags=None,
                now=None, **perms):
    """User claims. ``issuer_account``: the account's identity when the issuer is one of its signing keys.
    ``scoped``: the issuer is a scoped signing key, so the user carries no permissions or limits (the server
    applies the key's template and refuses a scoped user with its own)."""
    check_public_key(subject, 'user identity', 'user')
    claims = {'name': name, 'sub': subject}
    exp = parse_time(expires, 'expires', now=now, future=True)
    if exp:
        claims['exp'] = exp
    if scoped:
        given = sorted(k for k, v in perms.items() if v not in (None, [], {}, False))
        if given:
            raise JwtError('%s: the issuer is a scoped signing key of the account, whose template sets the '
                           'permissions and limits; a scoped user may not set its own' % ', '.join(given))
        nats = {}
    else:
        nats = user_permission_limits(perms, '')
    if issuer_account and issuer_account != issuer_public:
        nats['issuer_account'] = check_public_key(issuer_account, 'issuer_account', 'account')
    claims['nats'] = _generic(nats, 'user', _tags(tags, 'tags'))
    return claims


# ---------------------------------------------------------------------------------------------
# The decision every JWT module makes
# ---------------------------------------------------------------------------------------------

def plan(path, desired, issuer_public, kind):
    """Compare the JWT at ``path`` (bare or decorated) with the desired claims (``iss`` included).
    Returns (action, before, reason, changes): action is 'unchanged' or 'sign'; before the comparable claims of
    the existing JWT (None when there is none)."""
    want = dict(desired, iss=issuer_public)
    try:
        token = read_jwt_file(path)
    except (IOError, OSError) as exc:
        raise JwtError('cannot read %s: %s' % (path, exc))
    if not token:
        return 'sign', None, 'no JWT at %s' % path, sorted(comparable(want))
    try:
        dummy, claims = decode(token, path, verify=True)
    except JwtError as exc:
        return 'sign', None, 'the JWT at %s is not valid: %s' % (path, exc), sorted(comparable(want))
    if claims.get('nats', {}).get('type') != kind:
        return 'sign', comparable(claims), 'the JWT at %s is a %s JWT' % (path, claims.get('nats', {}).get('type')), \
            ['nats.type']
    before = comparable(claims)
    after = comparable(want)
    changes = claim_changes(before, after)
    if not changes:
        return 'unchanged', before, None, []
    return 'sign', before, 'claims changed', changes


def account_signer_check(account_jwt_path, issuer_public, option, jwt_option='account_jwt'):
    """Read an account JWT (verified) and check ``issuer_public`` is its identity or one of its signing keys.
    Returns (account public key, scope or None). ``option`` names the issuer's option, ``jwt_option`` the file's."""
    token = read_jwt_file(account_jwt_path)
    if not token:
        raise JwtError('%s: no account JWT at %s' % (jwt_option, account_jwt_path))
    dummy, claims = decode(token, '%s (%s)' % (jwt_option, account_jwt_path))
    if claims.get('nats', {}).get('type') != 'account':
        raise JwtError('%s: %s is not an account JWT' % (jwt_option, account_jwt_path))
    sub = claims['sub']
    if issuer_public == sub:
        return sub, None
    for entry in claims['nats'].get('signing_keys') or []:
        if entry == issuer_public:
            return sub, None
        if isinstance(entry, dict) and entry.get('key') == issuer_public:
            return sub, entry
    raise JwtError('%s: the issuer %s is neither the account %s nor one of its signing keys (account JWT %s)'
                   % (option, issuer_public, sub, account_jwt_path))


def operator_signer_check(operator_jwt_path, issuer_public, option, jwt_option='operator_jwt'):
    """Check the account's issuer against an operator JWT: its identity or a signing key; with
    strict_signing_key_usage only a signing key. ``option`` names the issuer's option, ``jwt_option`` the file's."""
    token = read_jwt_file(operator_jwt_path)
    if not token:
        raise JwtError('%s: no operator JWT at %s' % (jwt_option, operator_jwt_path))
    dummy, claims = decode(token, '%s (%s)' % (jwt_option, operator_jwt_path))
    nats = claims.get('nats', {})
    if nats.get('type') != 'operator':
        raise JwtError('%s: %s is not an operator JWT' % (jwt_option, operator_jwt_path))
    keys = nats.get('signing_keys') or []
    if issuer_public in keys:
        return claims['sub']
    if issuer_public == claims['sub']:
        if nats.get('strict_signing_key_usage'):
            raise JwtError('%s: the operator %s has strict_signing_key_usage, so accounts must be signed by one of '
                           'its signing keys, not its identity key' % (option, issuer_public))
        return claims['sub']
    raise JwtError('%s: the issuer %s is neither the operator %s nor one of its signing keys (operator JWT %s)'
                   % (option, issuer_public, claims['sub'], operator_jwt_path))


# ---------------------------------------------------------------------------------------------
# Module glue shared by operator_jwt, account_jwt and user_jwt
# ---------------------------------------------------------------------------------------------

def seed_options(prefix):
    """Argument spec of a key given as a seed file or a seed string (no_log), e.g. ``issuer_seed_file`` and
    ``issuer_seed``."""
    return {
        prefix + 'seed_file': dict(type='path', no_log=False),
        prefix + 'seed': dict(type='str', no_log=True),
    }


def given_option(params, prefix):
    """The name of the seed option the task used (for messages)."""
    return prefix + ('seed' if params.get(prefix + 'seed') else 'seed_file')


def keypair_from_params(params, prefix, kind, required=True):
    """KeyPair from ``<prefix>seed`` or ``<prefix>seed_file``; None when neither is given and not required."""
    if params.get(prefix + 'seed'):
        return keypair(params[prefix + 'seed'], prefix + 'seed', kind)
    if params.get(prefix + 'seed_file'):
        return read_seed_file(params[prefix + 'seed_file'], prefix + 'seed_file', kind)
    if required:
        raise JwtError('one of %sseed_file, %sseed is required' % (prefix, prefix))
    return None


def ensure_jwt(module, kind, desired, issuer_kp, path, creds_path=None, user_kp=None, jwt_mode=0o644):
    """Sign and write the JWT (and the user's .creds) only when the claims differ from the file's. Returns the
    module result (without exit)."""
    issuer = public_key(issuer_kp)
    plan_path = path or creds_path
    action, before, reason, changes = plan(plan_path, desired, issuer, kind)
    after = comparable(dict(desired, iss=issuer))
    result = dict(changed=False, operation='unchanged', path=path, public_key=desired['sub'], issuer=issuer,
                  changes=changes, claims=after)
    if creds_path:
        result['creds_path'] = creds_path
    writes = []
    token = None
    if action == 'sign':
        result['reason'] = reason
        result['operation'] = 'created' if before is None else 'updated'
        writes = [p for p in (path, creds_path) if p]
    else:
        token = read_jwt_file(plan_path)
        if path and creds_path:
            other = read_jwt_file(creds_path) if plan_path == path else read_jwt_file(path)
            if other != token:
                writes.append(creds_path if plan_path == path else path)
                result['reason'] = 'the JWT and the .creds file differ'
        if creds_path and creds_path not in writes:
            if not os.path.exists(creds_path):
                writes.append(creds_path)
                result['reason'] = 'no .creds file at %s' % creds_path
            else:
                with open(creds_path, 'rb') as f:
                    current = f.read().decode('utf-8', 'replace')
                if current != format_creds(token, user_kp.seed):
                    writes.append(creds_path)
                    result['reason'] = 'the .creds file differs from the JWT and the user seed'
                elif file_mode(creds_path) != 0o600:
                    writes.append(creds_path)
                    result['reason'] = 'the .creds file mode is %o, not 0600' % file_mode(creds_path)
        if writes:
            result['operation'] = 'rewritten'
    if writes:
        result['changed'] = True
    if module._diff:
        result['diff'] = dict(before=before or {}, after=after, before_header=plan_path, after_header=plan_path)
    if not writes or module.check_mode:
        if token and kind != 'user':
            result['jwt'] = token
        return result
    if token is None or action == 'sign':
        token = encode(desired, issuer_kp)
        dummy, claims = decode(token, 'the new JWT')  # our own encoding must verify
        result['claims'] = comparable(claims)
    if path and path in writes:
        write_file(path, token + '\n', jwt_mode)
    if creds_path and creds_path in writes:
        write_file(creds_path, format_creds(token, user_kp.seed), 0o600)
    if kind != 'user':
        result['jwt'] = token
    return result
