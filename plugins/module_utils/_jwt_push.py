# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Account JWTs in the NATS-based (``full``) account resolver of running servers, through the system account.

What nats-server does (server/accounts.go, ``DirAccResolver.Start``; server/events.go for the subjects), read from
its source and exercised in tests/integration/jwt/test_jwt_full_resolver.py:

* ``$SYS.REQ.ACCOUNT.<account>.CLAIMS.LOOKUP``: every server with a ``full`` resolver answers with the JWT its
  directory holds, or with an empty message when it holds none. The answer carries no server name.
* ``$SYS.REQ.CLAIMS.UPDATE`` with an account JWT as payload: every server with a ``full`` (or ``cache``) resolver
  decodes and validates it, stores it and applies it to the loaded account (no restart), and answers
  ``{"server": {...}, "data": {"account", "code": 200, "message": "jwt updated"}}`` or
  ``{"server": {...}, "error": {"account", "code": 500, "description"}}``.
* ``$SYS.REQ.CLAIMS.DELETE`` with a generic JWT whose ``sub`` and ``iss`` are the operator (or an operator signing
  key) and whose ``nats.accounts`` lists account public keys: servers whose resolver has ``allow_delete`` remove
  them (and disconnect their clients); the others answer ``delete must be enabled in server config``. The system
  account cannot be deleted.

Every check that needs no server runs before anything is sent (``check_account_jwt``)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import time

try:
    import asyncio
except ImportError:  # pragma: no cover
    asyncio = None

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt

UPDATE_SUBJECT = '$SYS.REQ.CLAIMS.UPDATE'
DELETE_SUBJECT = '$SYS.REQ.CLAIMS.DELETE'
LOOKUP_SUBJECT = '$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP'
# The status header of the message a server sends to the reply subject when nothing subscribes to a request
NO_RESPONDERS = '503'

JwtError = _nkeys_jwt.JwtError


class PushError(Exception):
    """A server refused, or fewer servers answered than expected; the message names them."""


# ---------------------------------------------------------------------------------------------
# Checks before anything is sent
# ---------------------------------------------------------------------------------------------

def read_operator(operator_jwt_path):
    """The operator's verified claims from its JWT file."""
    token = _nkeys_jwt.read_jwt_file(operator_jwt_path)
    if not token:
        raise JwtError('operator_jwt: no operator JWT at %s' % operator_jwt_path)
    dummy, claims = _nkeys_jwt.decode(token, 'operator_jwt (%s)' % operator_jwt_path)
    if claims.get('nats', {}).get('type') != 'operator':
        raise JwtError('operator_jwt: %s is not an operator JWT (type %s)'
                       % (operator_jwt_path, claims.get('nats', {}).get('type')))
    return claims


def check_account_jwt(token, source, operator_jwt_path, now=None):
    """Refuse what the servers should not get: a JWT that does not decode or verify, a JWT of another type, an
    account JWT whose issuer is neither the operator of ``operator_jwt_path`` nor one of its signing keys (only a
    signing key with strict_signing_key_usage), an expired or not yet valid one. Returns the verified claims."""
    token = (token or '').strip()
    if not token:
        raise JwtError('%s: empty (no JWT)' % source)
    dummy, claims = _nkeys_jwt.decode(token, source)
    kind = claims.get('nats', {}).get('type')
    if kind != 'account':
        raise JwtError('%s: this is %s JWT, not an account JWT'
                       % (source, _nkeys_jwt._a(str(kind)) if kind else 'a typeless'))
    _nkeys_jwt.check_public_key(claims.get('sub'), '%s: subject' % source, 'account')
    _nkeys_jwt.operator_signer_check(operator_jwt_path, claims.get('iss'), '%s: issuer' % source)
    now = int(now if now is not None else time.time())
    if claims.get('exp') and int(claims['exp']) <= now:
        raise JwtError('%s: the account JWT of %s expired at %s' % (source, claims['sub'], claims['exp']))
    if claims.get('nbf') and int(claims['nbf']) > now:
        raise JwtError('%s: the account JWT of %s is not valid before %s' % (source, claims['sub'], claims['nbf']))
    return claims


def delete_request(operator_kp, accounts, now=None):
    """The generic JWT nsc sends to $SYS.REQ.CLAIMS.DELETE: sub and iss the operator key that signs it,
    nats.accounts the public keys to delete (jwt.NewGenericClaims plus Data["accounts"], cmd/push.go)."""
    op = _nkeys_jwt.public_key(operator_kp)
    return _nkeys_jwt.encode({'sub': op, 'nats': {'accounts': list(accounts), 'version': _nkeys_jwt.LIB_VERSION}},
                             operator_kp, now=now)


# ---------------------------------------------------------------------------------------------
# What the resolver holds
# ---------------------------------------------------------------------------------------------

def lookup_summary(answers, desired):
    """Summarize the lookup answers (bytes: a JWT, or empty when that server holds none) against the desired
    claims (``None`` for state absent). Returns a dict: answered, current (the same claims ignoring iat/jti),
    outdated, missing, before (the comparable claims of the first answer that differs, or of a current one),
    changes (claim paths that differ)."""
    want = _nkeys_jwt.comparable(desired) if desired is not None else None
    out = dict(answered=len(answers), current=0, outdated=0, missing=0, before=None, changes=[])
    current, outdated = [], []
    for data in answers:
        text = data.decode('utf-8', 'replace').strip() if isinstance(data, bytes) else (data or '').strip()
        if not text:
            out['missing'] += 1
            continue
        try:
            dummy, claims = _nkeys_jwt.decode(text, 'the resolver\'s JWT')
            have = _nkeys_jwt.comparable(claims)
        except JwtError as exc:
            have = {'invalid': str(exc)}
        if want is not None and not _nkeys_jwt.claim_changes(have, want):
            current.append(have)
        else:
            outdated.append(have)
    out['current'], out['outdated'] = len(current), len(outdated)
    held = outdated + current
    out['before'] = held[0] if held else None
    if want is not None and (outdated or out['missing']):
        out['changes'] = _nkeys_jwt.claim_changes(out['before'] or {}, want)
    return out


def needs_push(summary, expected_servers=None):
    """(bool, reason): push when a server holds another JWT or none, or fewer servers answered than expected."""
    if summary['outdated']:
        return True, '%d of %d servers hold other claims' % (summary['outdated'], summary['answered'])
    if summary['missing']:
        return True, '%d of %d servers hold no JWT of the account' % (summary['missing'], summary['answered'])
    if expected_servers and summary['answered'] < expected_servers:
        return True, 'only %d of the %d expected servers answered the lookup' % (summary['answered'], expected_servers)
    return False, None


def needs_delete(summary, expected_servers=None):
    """(bool, reason): delete when some server holds a JWT of the account (or fewer than expected answered)."""
    held = summary['current'] + summary['outdated']
    if held:
        return True, '%d of %d servers hold the account' % (held, summary['answered'])
    if expected_servers and summary['answered'] < expected_servers:
        return True, 'only %d of the %d expected servers answered the lookup' % (summary['answered'], expected_servers)
    return False, None


# ---------------------------------------------------------------------------------------------
# Replies of every server
# ---------------------------------------------------------------------------------------------

def parse_replies(replies):
    """Update and delete replies (bytes) -> (accepted, refused): lists of dicts with server, cluster and message
    (accepted) or error (refused). A reply that is not the server's JSON envelope counts as refused."""
    accepted, refused = [], []
    for data in replies:
        try:
            resp = json.loads(data.decode('utf-8') if isinstance(data, bytes) else data)
        except (ValueError, UnicodeDecodeError):
            refused.append(dict(server='?', cluster=None, error='not a JSON reply: %r' % data[:200]))
            continue
        if not isinstance(resp, dict):
            refused.append(dict(server='?', cluster=None, error='not a JSON object: %r' % data[:200]))
            continue
        server = resp.get('server') or {}
        entry = dict(server=server.get('name') or server.get('id') or '?', cluster=server.get('cluster'))
        if resp.get('error'):
            err = resp['error']
            entry['error'] = err.get('description') if isinstance(err, dict) else str(err)
            entry['code'] = err.get('code') if isinstance(err, dict) else None
            refused.append(entry)
        else:
            data_ = resp.get('data') or {}
            entry['message'] = data_.get('message') if isinstance(data_, dict) else str(data_)
            accepted.append(entry)
    accepted.sort(key=lambda e: (e['cluster'] or '', e['server']))
    refused.sort(key=lambda e: (e['cluster'] or '', e['server']))
    return accepted, refused


def check_replies(what, accepted, refused, expected):
    """Raise PushError naming every server that refused, or when fewer servers answered than ``expected``."""
    if refused:
        raise PushError('%s: %s' % (what, '; '.join(
            'server %s%s refused: %s' % (e['server'], ' (cluster %s)' % e['cluster'] if e['cluster'] else '',
                                         e['error']) for e in refused)))
    if expected and len(accepted) < expected:
        raise PushError('%s: only %d of %d expected servers answered (%s) within the gather_timeout'
                        % (what, len(accepted), expected, ', '.join(e['server'] for e in accepted) or 'none'))


class Resolver(object):
    """Requests to the resolvers of every server, over a connected JetStreamClient (its nats-py connection and
    event loop). Every request is published once; the replies are collected until ``expected`` arrived,
    ``gather_timeout`` seconds passed, or the server said no one subscribes (a user of another account than the
    system account: nats-py asks for these "no responders" status messages)."""

    def __init__(self, client, gather_timeout=2.0, expected=None):
        self.client = client
        self.gather_timeout = gather_timeout
        self.expected = expected

    def gather(self, subject, payload):
        nc = self.client.nc
        data = payload if isinstance(payload, bytes) else (payload or '').encode('utf-8')
        expected = self.expected
        timeout = self.gather_timeout

        async def collect():
            inbox = nc.new_inbox()
            replies = []
            done = asyncio.Event()

            async def on_msg(msg):
                if msg.headers and msg.headers.get('Status'):
                    # a status message of the server, not an answer: 503 is "no responders" (nothing in the
                    # connected account subscribes to the subject), so no answer will come
                    if msg.headers.get('Status') == NO_RESPONDERS:
                        done.set()
                    return
                replies.append(msg.data)
                if expected and len(replies) >= expected:
                    done.set()

            sub = await nc.subscribe(inbox, cb=on_msg)
            try:
                await nc.publish(subject, data, reply=inbox)
                await nc.flush()
                try:
                    await asyncio.wait_for(done.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
            finally:
                await sub.unsubscribe()
            return replies

        return self.client.run(collect())

    def lookup(self, account):
        return self.gather(LOOKUP_SUBJECT % account, b'')

    def update(self, token):
        return parse_replies(self.gather(UPDATE_SUBJECT, token))

    def delete(self, request_token):
        return parse_replies(self.gather(DELETE_SUBJECT, request_token))
