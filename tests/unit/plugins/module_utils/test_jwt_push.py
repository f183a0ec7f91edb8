# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pushing account JWTs to the full resolver (issue 15): what is refused before sending, how the lookup answers are
read, when a push or delete is needed, and how the servers' replies are judged. The same against a real 3-node
cluster in tests/integration/jwt/test_jwt_full_resolver.py."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import time

import pytest

pytest.importorskip('nkeys')

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt as j  # noqa: E402
from ansible_collections.natsops.jetstream.plugins.module_utils import _jwt_push as p  # noqa: E402


@pytest.fixture(scope='module')
def keys():
    out = {}
    for name, kind in (('op', 'operator'), ('opsk', 'operator'), ('rogue', 'operator'), ('sys', 'account'),
                       ('acct', 'account'), ('user', 'user')):
        out[name] = j.keypair(j.create_seed(kind), name, kind)
    return out


def pub(keys, name):
    return j.public_key(keys[name])


@pytest.fixture
def operator(tmp_path, keys):
    def make(strict=False):
        nats = {'type': 'operator', 'version': 2, 'signing_keys': [pub(keys, 'opsk')],
                'system_account': pub(keys, 'sys')}
        if strict:
            nats['strict_signing_key_usage'] = True
        path = tmp_path / ('op-strict.jwt' if strict else 'op.jwt')
        path.write_text(j.encode({'name': 'op', 'sub': pub(keys, 'op'), 'nats': nats}, keys['op']) + '\n')
        return str(path)
    return make


def account(keys, issuer='opsk', streams=2, **extra):
    claims = j.account_claims('ACCT', pub(keys, 'acct'), jetstream={'streams': streams})
    claims.update(extra)
    return j.encode(claims, keys[issuer])


def test_account_jwt_signed_by_the_operator_or_its_signing_key_passes(keys, operator):
    for issuer in ('op', 'opsk'):
        claims = p.check_account_jwt(account(keys, issuer), 'jwts[0]', operator())
        assert claims['sub'] == pub(keys, 'acct') and claims['iss'] == pub(keys, issuer)


@pytest.mark.parametrize('case,message', [
    ('user', 'jwts[0]: this is a user JWT, not an account JWT'),
    ('operator', 'jwts[0]: this is an operator JWT, not an account JWT'),
    ('rogue', 'is neither the operator'),
    ('strict', 'has strict_signing_key_usage'),
    ('expired', 'expired at'),
    ('forged', "the signature is not the issuer's"),
    ('garbage', 'is not a JWT'),
    ('empty', 'empty (no JWT)'),
])
def test_refused_before_sending(keys, operator, case, message):
    op = operator(strict=(case == 'strict'))
    token = {
        'user': lambda: j.encode(j.user_claims('u', pub(keys, 'user'), pub(keys, 'acct')), keys['acct']),
        'operator': lambda: open(op).read(),
        'rogue': lambda: account(keys, 'rogue'),
        'strict': lambda: account(keys, 'op'),
        'expired': lambda: account(keys, exp=int(time.time()) - 10),
        'forged': lambda: account(keys).rsplit('.', 1)[0] + '.' + account(keys, streams=3).rsplit('.', 1)[1],
        'garbage': lambda: 'not-a-jwt',
        'empty': lambda: '  ',
    }[case]()
    with pytest.raises(j.JwtError) as err:
        p.check_account_jwt(token, 'jwts[0]', op)
    assert message in str(err.value)


def test_delete_request_is_what_the_server_checks(keys):
    token = p.delete_request(keys['opsk'], [pub(keys, 'acct')])
    dummy, claims = j.decode(token, 'delete request')  # signature verifies
    # server/accounts.go handleDeleteRequest: sub == iss, an operator key, nats.accounts a list of account keys
    assert claims['sub'] == claims['iss'] == pub(keys, 'opsk')
    assert claims['nats'] == {'accounts': [pub(keys, 'acct')], 'version': 2}


def test_lookup_summary_and_decisions(keys):
    current = account(keys)
    other = account(keys, streams=1)
    want = j.decode(account(keys), 'x')[1]  # another iat/jti, same claims
    s = p.lookup_summary([current.encode(), current.encode(), b''], want)
    assert (s['answered'], s['current'], s['outdated'], s['missing']) == (3, 2, 0, 1)
    assert p.needs_push(s) == (True, '1 of 3 servers hold no JWT of the account')
    s = p.lookup_summary([current.encode(), other.encode(), b'garbage'], want)
    assert (s['current'], s['outdated']) == (1, 2)
    assert s['before']['nats']['limits']['streams'] == 1 and s['changes'] == ['nats.limits.streams']
    assert p.needs_push(s)[0]
    s = p.lookup_summary([current.encode()] * 3, want)
    assert p.needs_push(s) == (False, None) and s['changes'] == []
    assert p.needs_push(s, expected_servers=4) == (True, 'only 3 of the 4 expected servers answered the lookup')
    # state absent
    s = p.lookup_summary([b'', b'', b''], None)
    assert p.needs_delete(s) == (False, None)
    s = p.lookup_summary([b'', current.encode(), b''], None)
    assert p.needs_delete(s) == (True, '1 of 3 servers hold the account')


def reply(name, error=None, message='jwt updated'):
    body = {'server': {'name': name, 'cluster': 'c1', 'id': 'N' + name}}
    if error:
        body['error'] = {'account': 'A', 'code': 500, 'description': error}
    else:
        body['data'] = {'account': 'A', 'code': 200, 'message': message}
    return json.dumps(body).encode()


def test_replies_name_every_server_that_refused():
    accepted, refused = p.parse_replies([reply('n2'), reply('n1'), reply('n3', 'jwt validation failed - x'),
                                         b'not json'])
    assert [a['server'] for a in accepted] == ['n1', 'n2']
    assert accepted[0]['message'] == 'jwt updated'
    with pytest.raises(p.PushError) as err:
        p.check_replies('pushing A', accepted, refused, 3)
    msg = str(err.value)
    assert 'server n3 (cluster c1) refused: jwt validation failed - x' in msg
    assert "server ? refused: not a JSON reply: b'not json'" in msg


def test_fewer_answers_than_expected_fail():
    accepted, refused = p.parse_replies([reply('n1'), reply('n2')])
    p.check_replies('pushing A', accepted, refused, 2)
    with pytest.raises(p.PushError) as err:
        p.check_replies('pushing A', accepted, refused, 3)
    assert 'only 2 of 3 expected servers answered (n1, n2)' in str(err.value)


class FakeMsg(object):
    def __init__(self, data, headers=None):
        self.data, self.headers = data, headers


class FakeNC(object):
    """Answers a published request with the messages given, through the subscription's callback."""

    def __init__(self, answers):
        self.answers, self.published, self.unsubscribed = answers, [], False

    def new_inbox(self):
        return '_INBOX.test'

    async def subscribe(self, subject, cb):
        self.cb = cb
        nc = self

        class Sub(object):
            async def unsubscribe(self):
                nc.unsubscribed = True
        return Sub()

    async def publish(self, subject, data, reply):
        self.published.append((subject, data, reply))
        for msg in self.answers:
            await self.cb(msg)

    async def flush(self):
        return None


class FakeClient(object):
    def __init__(self, answers):
        import asyncio
        self.loop = asyncio.new_event_loop()
        self.nc = FakeNC(answers)

    def run(self, coro):
        return self.loop.run_until_complete(coro)


def test_gather_stops_at_the_expected_count_and_skips_status_messages():
    client = FakeClient([FakeMsg(b'a'), FakeMsg(b'', {'Status': '100'}), FakeMsg(b'b'), FakeMsg(b'c')])
    start = time.time()
    got = p.Resolver(client, gather_timeout=5, expected=2).gather(p.UPDATE_SUBJECT, 'jwt')
    assert got[:2] == [b'a', b'b'] and time.time() - start < 2   # did not wait for the timeout
    assert client.nc.published == [('$SYS.REQ.CLAIMS.UPDATE', b'jwt', '_INBOX.test')] and client.nc.unsubscribed


def test_gather_no_responders_is_no_answer():
    client = FakeClient([FakeMsg(b'', {'Status': '503'})])
    start = time.time()
    assert p.Resolver(client, gather_timeout=5).lookup('A' * 56) == []
    assert time.time() - start < 2
    assert client.nc.published[0][0] == '$SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP' % ('A' * 56)


def test_gather_without_expected_waits_the_window():
    client = FakeClient([FakeMsg(b'x')])
    start = time.time()
    assert p.Resolver(client, gather_timeout=0.3).gather(p.DELETE_SUBJECT, b'req') == [b'x']
    assert time.time() - start >= 0.3
