# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Operator, account and user JWTs and .creds files (issue 15): encoding in nats.go's JWT v2 layout, jti, signature
checks, the comparison that keeps re-runs from signing again, and input refused before signing. The same JWTs are
checked against nats-server, nats-py, the NATS CLI and @nats-io/jwt in tests/integration/jwt."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import hashlib
import json
import os
import stat
import time

import pytest

pytest.importorskip('nkeys')

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt as j  # noqa: E402

JwtError = j.JwtError


@pytest.fixture(scope='module')
def keys():
    out = {}
    for name, kind in (('op', 'operator'), ('opsk', 'operator'), ('sys', 'account'), ('acct', 'account'),
                       ('acctsk', 'account'), ('user', 'user'), ('user2', 'user')):
        seed = j.create_seed(kind)
        out[name] = (seed, j.keypair(seed, name, kind))
    return out


def pub(keys, name):
    return j.public_key(keys[name][1])


def b64json(part):
    return json.loads(base64.urlsafe_b64decode(part + '=' * (-len(part) % 4)))


class FakeModule(object):
    def __init__(self, check_mode=False, diff=False):
        self.check_mode, self._diff = check_mode, diff


# ---------------------------------------------------------------------------------------------------------------
# keys
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('kind,seed_prefix,pub_prefix', [('operator', 'SO', 'O'), ('account', 'SA', 'A'),
                                                         ('user', 'SU', 'U')])
def test_seeds_and_public_keys_of_each_kind(kind, seed_prefix, pub_prefix):
    seed = j.create_seed(kind)
    assert seed.startswith(seed_prefix) and len(seed) == 58
    public = j.public_key(j.keypair(seed, 'seed', kind))
    assert public.startswith(pub_prefix) and len(public) == 56
    assert j.check_public_key(public, 'x', kind) == public
    assert j.create_seed(kind) != seed


def test_wrong_seed_type_is_refused_naming_the_option_never_the_seed(keys):
    seed = keys['user'][0]
    with pytest.raises(JwtError) as err:
        j.keypair(seed, 'issuer_seed', 'account')
    assert str(err.value) == ('issuer_seed: this is the seed of a user key (SU...), an account seed (SA...) is '
                              'needed')
    assert seed not in str(err.value)
    with pytest.raises(JwtError) as err:
        j.keypair(keys['acct'][0], 'seed', 'operator')
    assert 'an account key (SA...), an operator seed (SO...)' in str(err.value)


@pytest.mark.parametrize('bad', ['', 'SUXYZ', 'not a seed at all', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'])
def test_malformed_seed_is_refused(bad):
    with pytest.raises(JwtError) as err:
        j.keypair(bad, 'seed', 'user')
    assert err.value.args[0].startswith('seed: not an nkey seed')


@pytest.mark.parametrize('position', [30, -1])
def test_seed_with_bad_checksum_is_refused(keys, position):
    seed = keys['user'][0]
    pos = position % len(seed)
    # Flip the high bit of the character's 5: the last character of a 58-character seed carries 2 padding bits,
    # which base32 decoding ignores (so A <-> B there would change nothing).
    alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
    broken = seed[:pos] + alphabet[alphabet.index(seed[pos]) ^ 0b10000] + seed[pos + 1:]
    with pytest.raises(JwtError) as err:
        j.keypair(broken, 'seed', 'user')
    assert 'does not decode' in str(err.value) and broken not in str(err.value)


def test_nkeys_itself_does_not_check_the_seed_crc(keys):
    # why keypair() checks it: nkeys 0.2.1 takes a corrupted seed and gives another key
    import nkeys
    seed = keys['user'][0]
    broken = seed[:30] + ('A' if seed[30] != 'A' else 'B') + seed[31:]
    try:
        other = nkeys.from_seed(broken.encode()).public_key.decode()
    except nkeys.NkeysError:
        pytest.skip('this nkeys checks the CRC itself')
    assert other != pub(keys, 'user')


def test_public_key_checks(keys):
    acct = pub(keys, 'acct')
    with pytest.raises(JwtError) as err:
        j.check_public_key(pub(keys, 'user'), 'system_account', 'account')
    assert 'system_account: %s is the public key of a user, an account key (A...) is needed' % pub(keys, 'user') \
        == str(err.value)
    with pytest.raises(JwtError, match='bad checksum'):
        j.check_public_key(acct[:-1] + ('A' if acct[-1] != 'A' else 'B'), 'k', 'account')
    with pytest.raises(JwtError, match='a seed was given where a public key is needed'):
        j.check_public_key(keys['acct'][0], 'k', 'account')


def test_read_seed_file_accepts_bare_and_creds(tmp_path, keys):
    bare = tmp_path / 'u.nk'
    bare.write_text(keys['user'][0] + '\n')
    assert j.public_key(j.read_seed_file(str(bare), 'seed_file', 'user')) == pub(keys, 'user')
    creds = tmp_path / 'u.creds'
    creds.write_text(j.format_creds('a.b.c', keys['user'][0]))
    assert j.public_key(j.read_seed_file(str(creds), 'seed_file', 'user')) == pub(keys, 'user')
    with pytest.raises(JwtError, match='holds no nkey seed'):
        (tmp_path / 'empty').write_text('nothing')
        j.read_seed_file(str(tmp_path / 'empty'), 'seed_file', 'user')


# ---------------------------------------------------------------------------------------------------------------
# encoding
# ---------------------------------------------------------------------------------------------------------------

def test_round_trip_header_signature_and_layout(keys):
    claims = j.operator_claims('OP', pub(keys, 'op'), signing_keys=[pub(keys, 'opsk')], system_account=pub(keys, 'sys'),
                               operator_service_urls=['nats://n1:4222'])
    token = j.encode(claims, keys['op'][1], now=1800000000)
    head, body, sig = token.split('.')
    assert b64json(head) == {'typ': 'JWT', 'alg': 'ed25519-nkey'}
    decoded = b64json(body)
    assert list(decoded) == ['jti', 'iat', 'iss', 'name', 'sub', 'nats']  # nats.go's field order
    assert decoded['iat'] == 1800000000 and decoded['iss'] == decoded['sub'] == pub(keys, 'op')
    assert decoded['nats'] == {'signing_keys': [pub(keys, 'opsk')], 'operator_service_urls': ['nats://n1:4222'],
                               'system_account': pub(keys, 'sys'), 'type': 'operator', 'version': 2}
    header, again = j.decode(token)
    assert again == decoded
    assert '=' not in token  # base64url without padding


def test_jti_is_base32_sha256_of_the_claims_without_jti(keys):
    token = j.encode(j.account_claims('A', pub(keys, 'acct')), keys['op'][1], now=1800000000)
    claims = j.decode(token)[1]
    body = dict((k, v) for k, v in claims.items() if k != 'jti')
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(',', ':')).encode()).digest()
    assert claims['jti'] == base64.b32encode(digest).decode().rstrip('=')
    assert len(claims['jti']) == 52
    other = j.decode(j.encode(j.account_claims('B', pub(keys, 'acct')), keys['op'][1], now=1800000000))[1]
    assert other['jti'] != claims['jti']


def test_tampered_or_foreign_jwt_does_not_verify(keys):
    token = j.encode(j.user_claims('u', pub(keys, 'user'), pub(keys, 'acct'), pub={'allow': ['a']}), keys['acct'][1])
    head, body, sig = token.split('.')
    claims = b64json(body)
    claims['nats']['pub']['allow'] = ['>']
    forged = '%s.%s.%s' % (head, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip('='), sig)
    with pytest.raises(JwtError, match="signature is not the issuer's"):
        j.decode(forged)
    claims['iss'] = pub(keys, 'acctsk')
    other = '%s.%s.%s' % (head, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip('='), sig)
    with pytest.raises(JwtError):
        j.decode(other)
    with pytest.raises(JwtError, match='not a JWT'):
        j.decode('abc')


def test_account_defaults_as_nsc_and_jetstream_limits(keys):
    nats = j.account_claims('A', pub(keys, 'acct'))['nats']
    assert nats == {'limits': {'subs': -1, 'data': -1, 'payload': -1, 'imports': -1, 'exports': -1, 'wildcards': True,
                               'conn': -1, 'leaf': -1},
                    'default_permissions': {'pub': {}, 'sub': {}}, 'type': 'account', 'version': 2}
    lim = j.account_claims('A', pub(keys, 'acct'), jetstream={'streams': 2, 'mem_storage': '64MiB'})['nats']['limits']
    assert lim['mem_storage'] == 64 * 1024 * 1024 and lim['disk_storage'] == -1 and lim['streams'] == 2
    assert lim['consumer'] == -1 and 'max_ack_pending' not in lim
    tiers = j.account_claims('A', pub(keys, 'acct'), jetstream_tiers={'R1': {'disk_storage': '1G'}, 'R3': {}})
    assert tiers['nats']['limits']['tiered_limits'] == {
        'R1': {'mem_storage': -1, 'disk_storage': 1000000000, 'streams': -1, 'consumer': -1},
        'R3': {'mem_storage': -1, 'disk_storage': -1, 'streams': -1, 'consumer': -1}}
    assert 'mem_storage' not in tiers['nats']['limits']


@pytest.mark.parametrize('kwargs,message', [
    (dict(jetstream={'max_streams': 1}), 'jetstream: unknown key max_streams'),
    (dict(jetstream={'streams': -2}), 'jetstream.streams: -2 is negative'),
    (dict(jetstream={'disk_storage': '1.5GB'}), 'jetstream.disk_storage'),
    (dict(jetstream={'mem_storage': 0, 'disk_storage': 0}), 'disables JetStream'),
    (dict(jetstream={}, jetstream_tiers={'R1': {}}), 'mutually exclusive'),
    (dict(jetstream_tiers={'gold': {}}), "jetstream_tiers: 'gold' is not a tier name"),
    (dict(limits={'connections': 5}), 'limits: unknown key connections'),
    (dict(exports=[{'subject': 'a.>', 'type': 'queue'}]), "exports[0].type: 'queue' is not one of stream, service"),
    (dict(exports=[{'subject': 'a..b', 'type': 'stream'}]), "exports[0].subject: 'a..b' is not a subject"),
    (dict(default_permissions={'pub': {'allow': ['a b']}}), "default_permissions.pub.allow: 'a b'"),
    (dict(revocations={'nobody': 1}), "revocations: 'nobody' is not a public nkey"),
])
def test_account_bad_input(keys, kwargs, message):
    with pytest.raises(JwtError) as err:
        j.account_claims('A', pub(keys, 'acct'), **kwargs)
    assert message in str(err.value)


def test_account_signing_keys_plain_and_scoped_sorted(keys):
    sk = pub(keys, 'acctsk')
    scoped = pub(keys, 'user2').replace('U', 'A', 1)  # not a valid key: checksum differs
    with pytest.raises(JwtError):
        j.account_claims('A', pub(keys, 'acct'), signing_keys=[scoped])
    nats = j.account_claims('A', pub(keys, 'acct'), signing_keys=[
        sk, {'key': pub(keys, 'sys'), 'role': 'r', 'template': {'sub': {'allow': ['x.>']}}}])['nats']
    expected = sorted([sk, pub(keys, 'sys')])
    got = [e if isinstance(e, str) else e['key'] for e in nats['signing_keys']]
    assert got == expected
    scope = [e for e in nats['signing_keys'] if isinstance(e, dict)][0]
    assert scope['kind'] == 'user_scope' and scope['template']['sub'] == {'allow': ['x.>']}
    assert scope['template']['subs'] == -1


def test_user_claims_permissions_and_signing_key(keys):
    claims = j.user_claims('u', pub(keys, 'user'), pub(keys, 'acctsk'), issuer_account=pub(keys, 'acct'),
                           pub={'allow': ['a.>'], 'deny': ['a.b']}, sub={'allow': ['q.* workers']},
                           resp={'max': 1, 'ttl': '5s'}, src=['10.1.2.3', '10.0.0.0/8'],
                           allowed_connection_types=['STANDARD', 'WEBSOCKET'], bearer_token=True, payload='1KiB')
    assert claims['nats'] == {
        'pub': {'allow': ['a.>'], 'deny': ['a.b']}, 'sub': {'allow': ['q.* workers']}, 'resp': {'max': 1, 'ttl': 5000000000},
        'src': ['10.1.2.3/32', '10.0.0.0/8'], 'subs': -1, 'data': -1, 'payload': 1024, 'bearer_token': True,
        'allowed_connection_types': ['STANDARD', 'WEBSOCKET'], 'issuer_account': pub(keys, 'acct'), 'type': 'user',
        'version': 2}
    plain = j.user_claims('u', pub(keys, 'user'), pub(keys, 'acct'), issuer_account=pub(keys, 'acct'))
    assert 'issuer_account' not in plain['nats']  # signed by the account itself


@pytest.mark.parametrize('kwargs,message', [
    (dict(pub={'allow': ['a.b c']}), "pub.allow: 'a.b c' is not a subject: subjects have no spaces"),
    (dict(pub={'allow': ['a.>.b']}), '> must be the last token'),
    (dict(pub={'allow': ['a.b*']}), 'wildcards * and > must be whole tokens'),
    (dict(sub={'deny': ['.a']}), "sub.deny: '.a' is not a subject: empty token"),
    (dict(pub={'allow': 'a.>'}), "pub.allow: 'a.>' is not a list of strings"),
    (dict(pub={'permit': ['a']}), 'pub: unknown key permit; allowed: allow, deny'),
    (dict(resp={'max': 'x'}), "resp.max: 'x' is not a number"),
    (dict(resp={'ttl': '5 parsecs'}), 'resp.ttl'),
    (dict(src=['10.0.0.0/40']), "src: '10.0.0.0/40' is not a network"),
    (dict(allowed_connection_types=['TELNET']), "allowed_connection_types: 'TELNET' is not one of STANDARD"),
    (dict(expires=1000), "expires: 1000 (1970-01-01T00:16:40Z) is not in the future"),
    (dict(expires='2020-01-01T00:00:00Z'), 'is not in the future'),
    (dict(expires='2099-01-01T00:00:00'), 'has no time zone'),
    (dict(expires='tomorrow'), "expires: 'tomorrow' is not a time"),
])
def test_user_bad_input(keys, kwargs, message):
    with pytest.raises(JwtError) as err:
        j.user_claims('u', pub(keys, 'user'), pub(keys, 'acct'), **kwargs)
    assert message in str(err.value)


def test_expiry_times(keys):
    now = 1800000000
    assert j.parse_time('2027-01-31T12:00:00Z', 'e') == 1801396800  # date -u -d 2027-01-31T12:00:00Z +%s
    assert j.parse_time('2027-01-31T13:00:00+01:00', 'e') == 1801396800
    assert j.parse_time('2027-01-31T10:30:00-01:30', 'e') == 1801396800
    assert j.parse_time('2027-01-31', 'e') == 1801353600
    assert j.parse_time(now + 5, 'e', now=now, future=True) == now + 5
    claims = j.user_claims('u', pub(keys, 'user'), pub(keys, 'acct'), expires=int(time.time()) + 60)
    assert claims['exp'] > time.time()


def test_scoped_user_may_not_carry_permissions(keys):
    with pytest.raises(JwtError, match='pub: the issuer is a scoped signing key'):
        j.user_claims('u', pub(keys, 'user'), pub(keys, 'acctsk'), issuer_account=pub(keys, 'acct'), scoped=True,
                      pub={'allow': ['a']})
    claims = j.user_claims('u', pub(keys, 'user'), pub(keys, 'acctsk'), issuer_account=pub(keys, 'acct'), scoped=True,
                           pub=None, sub=None, bearer_token=False)
    assert claims['nats'] == {'issuer_account': pub(keys, 'acct'), 'type': 'user', 'version': 2}


# ---------------------------------------------------------------------------------------------------------------
# creds
# ---------------------------------------------------------------------------------------------------------------

def test_creds_format_is_nats_go_format_user_config(keys):
    text = j.format_creds('HEAD.BODY.SIG', keys['user'][0])
    # github.com/nats-io/jwt/v2 creds_utils.go: formatJwt + DecorateSeed
    assert text == ('-----BEGIN NATS USER JWT-----\nHEAD.BODY.SIG\n------END NATS USER JWT------\n\n'
                    '************************* IMPORTANT *************************\n'
                    'NKEY Seed printed below can be used to sign and prove identity.\n'
                    'NKEYs are sensitive and should be treated as secrets.\n\n'
                    '-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n'
                    '*************************************************************\n' % keys['user'][0])
    with pytest.raises(JwtError, match='needs a user seed'):
        j.format_creds('a.b.c', keys['acct'][0])


def test_creds_read_back_like_nats_py(tmp_path, keys):
    token = j.encode(j.user_claims('u', pub(keys, 'user'), pub(keys, 'acct')), keys['acct'][1])
    path = tmp_path / 'u.creds'
    path.write_text(j.format_creds(token, keys['user'][0]))
    assert j.read_jwt_file(str(path)) == token
    nats_client = pytest.importorskip('nats.aio.client')
    client = nats_client.Client()
    assert bytes(client._read_creds_user_jwt(str(path))).decode() == token
    assert bytes(client._read_creds_user_nkey(str(path))).decode() == keys['user'][0]


# ---------------------------------------------------------------------------------------------------------------
# idempotence: ensure_jwt signs only when the claims differ
# ---------------------------------------------------------------------------------------------------------------

def test_ensure_jwt_signs_once_then_keeps(tmp_path, keys):
    path = str(tmp_path / 'acct.jwt')
    desired = j.account_claims('A', pub(keys, 'acct'), jetstream={'streams': 2})
    first = j.ensure_jwt(FakeModule(), 'account', desired, keys['op'][1], path)
    assert first['changed'] and first['operation'] == 'created'
    token = open(path).read()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    again = j.ensure_jwt(FakeModule(), 'account', j.account_claims('A', pub(keys, 'acct'), jetstream={'streams': 2}),
                         keys['op'][1], path)
    assert not again['changed'] and again['operation'] == 'unchanged' and again['changes'] == []
    assert open(path).read() == token and again['jwt'] == token.strip()


def test_ensure_jwt_check_mode_and_diff(tmp_path, keys):
    path = str(tmp_path / 'acct.jwt')
    j.ensure_jwt(FakeModule(), 'account', j.account_claims('A', pub(keys, 'acct'), jetstream={'streams': 2}),
                 keys['op'][1], path)
    token = open(path).read()
    res = j.ensure_jwt(FakeModule(check_mode=True, diff=True), 'account',
                       j.account_claims('A', pub(keys, 'acct'), jetstream={'streams': 3}), keys['op'][1], path)
    assert res['changed'] and res['operation'] == 'updated' and res['changes'] == ['nats.limits.streams']
    assert res['diff']['before']['nats']['limits']['streams'] == 2
    assert res['diff']['after']['nats']['limits']['streams'] == 3
    assert 'iat' not in res['diff']['before'] and 'jti' not in res['diff']['after']
    assert open(path).read() == token  # nothing signed or written


def test_ensure_jwt_resigns_for_another_issuer_or_a_bad_file(tmp_path, keys):
    path = str(tmp_path / 'acct.jwt')
    desired = j.account_claims('A', pub(keys, 'acct'))
    j.ensure_jwt(FakeModule(), 'account', desired, keys['op'][1], path)
    res = j.ensure_jwt(FakeModule(), 'account', desired, keys['opsk'][1], path)
    assert res['changed'] and res['changes'] == ['iss']
    with open(path, 'w') as f:
        f.write('garbage')
    res = j.ensure_jwt(FakeModule(), 'account', desired, keys['opsk'][1], path)
    assert res['changed'] and 'not valid' in res['reason']


def test_ensure_user_creds_rewritten_without_resigning(tmp_path, keys):
    path, creds = str(tmp_path / 'u.jwt'), str(tmp_path / 'u.creds')
    desired = j.user_claims('u', pub(keys, 'user'), pub(keys, 'acct'), pub={'allow': ['a']})
    res = j.ensure_jwt(FakeModule(), 'user', desired, keys['acct'][1], path, creds_path=creds, user_kp=keys['user'][1])
    assert res['changed'] and 'jwt' not in res  # a user JWT is never returned
    assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600
    token = open(path).read()
    os.chmod(creds, 0o644)
    res = j.ensure_jwt(FakeModule(), 'user', desired, keys['acct'][1], path, creds_path=creds, user_kp=keys['user'][1])
    assert res['changed'] and res['operation'] == 'rewritten' and 'mode' in res['reason']
    assert stat.S_IMODE(os.stat(creds).st_mode) == 0o600 and open(path).read() == token
    os.unlink(creds)
    res = j.ensure_jwt(FakeModule(), 'user', desired, keys['acct'][1], path, creds_path=creds, user_kp=keys['user'][1])
    assert res['operation'] == 'rewritten' and open(creds).read() == j.format_creds(token.strip(), keys['user'][0])
    res = j.ensure_jwt(FakeModule(), 'user', desired, keys['acct'][1], path, creds_path=creds, user_kp=keys['user'][1])
    assert not res['changed']


def test_signer_checks(tmp_path, keys):
    op_path = str(tmp_path / 'op.jwt')
    j.ensure_jwt(FakeModule(), 'operator', j.operator_claims('OP', pub(keys, 'op'), signing_keys=[pub(keys, 'opsk')],
                                                             strict_signing_key_usage=True), keys['op'][1], op_path)
    assert j.operator_signer_check(op_path, pub(keys, 'opsk'), 'issuer_seed') == pub(keys, 'op')
    with pytest.raises(JwtError, match='strict_signing_key_usage'):
        j.operator_signer_check(op_path, pub(keys, 'op'), 'issuer_seed')
    acct_path = str(tmp_path / 'acct.jwt')
    j.ensure_jwt(FakeModule(), 'account', j.account_claims('A', pub(keys, 'acct'), signing_keys=[pub(keys, 'acctsk')]),
                 keys['opsk'][1], acct_path)
    assert j.account_signer_check(acct_path, pub(keys, 'acctsk'), 'issuer_seed') == (pub(keys, 'acct'), None)
    with pytest.raises(JwtError, match='^issuer_seed: the issuer .* is neither the account'):
        j.account_signer_check(acct_path, pub(keys, 'sys'), 'issuer_seed')
    with pytest.raises(JwtError, match='^account_jwt: no account JWT at'):
        j.account_signer_check(str(tmp_path / 'missing.jwt'), pub(keys, 'sys'), 'issuer_seed')
    with pytest.raises(JwtError, match='^operator_jwt: .* is not an operator JWT'):
        j.operator_signer_check(acct_path, pub(keys, 'opsk'), 'issuer_seed')
