# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_jwt_module (module_utils/_jwt_module.py): the shell of operator_jwt, account_jwt and user_jwt. The keys are
real NKeys and the JWTs are really signed and written; only AnsibleModule is replaced, so that its arguments and
its exit can be seen."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest

pytest.importorskip('nkeys')

from ansible_collections.natsops.jetstream.plugins.module_utils import _jwt_module  # noqa: E402
from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt as j  # noqa: E402


class Exit(Exception):
    def __init__(self, failed, values):
        super(Exit, self).__init__(values)
        self.failed = failed
        self.values = values


class FakeAnsibleModule(object):
    """Records what run_jwt_module asks AnsibleModule for; params are the spec's defaults plus the task's."""
    params_in = {}
    made = []

    def __init__(self, argument_spec, supports_check_mode, mutually_exclusive, required_one_of):
        self.argument_spec = argument_spec
        self.supports_check_mode = supports_check_mode
        self.mutually_exclusive = mutually_exclusive
        self.required_one_of = required_one_of
        self.params = dict((k, v.get('default')) for k, v in argument_spec.items())
        self.params.update(FakeAnsibleModule.params_in)
        self.check_mode = False
        self._diff = False
        FakeAnsibleModule.made.append(self)

    def fail_json(self, **values):
        raise Exit(True, values)

    def exit_json(self, **values):
        raise Exit(False, values)


@pytest.fixture(autouse=True)
def fake_module(monkeypatch):
    FakeAnsibleModule.made = []
    monkeypatch.setattr(_jwt_module, 'AnsibleModule', FakeAnsibleModule)


@pytest.fixture(scope='module')
def seeds():
    return dict((kind, j.create_seed(kind)) for kind in ('operator', 'account', 'user'))


def run(params, *args, **kwargs):
    FakeAnsibleModule.params_in = params
    with pytest.raises(Exit) as exc:
        _jwt_module.run_jwt_module(*args, **kwargs)
    return exc.value


def operator_claims(p, keys):
    return j.operator_claims(p['name'], keys.subject, tags=p['tags']), {}


def account_claims(p, keys):
    return j.account_claims(p['name'], keys.subject), {}


def test_shared_options_and_constraints():
    spec = _jwt_module.jwt_argument_spec(dict(path=dict(type='path'), extra=dict(type='int')), issuer=True)
    assert spec['path'] == dict(type='path')  # the module's own definition wins
    assert spec['name'] == dict(type='str', required=True)
    assert spec['seed']['no_log'] is True and spec['issuer_seed']['no_log'] is True
    assert set(spec) == {'path', 'name', 'tags', 'seed', 'seed_file', 'public_key', 'issuer_seed',
                         'issuer_seed_file', 'extra'}
    assert 'public_key' not in _jwt_module.jwt_argument_spec({}) and 'issuer_seed' not in _jwt_module.jwt_argument_spec({})


def test_self_signed_jwt_is_written_then_unchanged(tmp_path, seeds):
    path = str(tmp_path / 'op.jwt')
    params = dict(path=path, name='OP', seed=seeds['operator'], tags=['Prod'])
    first = run(params, 'operator', {}, operator_claims)
    module = FakeAnsibleModule.made[-1]
    assert module.supports_check_mode is True
    assert module.mutually_exclusive == [('seed', 'seed_file')] == module.required_one_of
    assert not first.failed and first.values['operation'] == 'created'
    pub = j.public_key(j.keypair(seeds['operator'], 'seed', 'operator'))
    assert first.values['public_key'] == first.values['issuer'] == pub
    assert first.values['claims']['nats']['tags'] == ['prod']
    assert j.decode(j.read_jwt_file(path))[1]['sub'] == pub
    again = run(params, 'operator', {}, operator_claims)
    assert again.values['operation'] == 'unchanged' and again.values['changed'] is False


def test_subject_from_public_key_signed_by_the_issuer(tmp_path, seeds):
    account_pub = j.public_key(j.keypair(seeds['account'], 'seed', 'account'))
    seen = {}

    def claims(p, keys):
        seen['keys'] = keys
        return account_claims(p, keys)

    out = run(dict(path=str(tmp_path / 'a.jwt'), name='A', public_key=account_pub, issuer_seed=seeds['operator']),
              'account', {}, claims, issuer_kind='operator', mutually_exclusive=[('x', 'y')])
    assert not out.failed, out.values
    keys = seen['keys']
    assert keys.subject == account_pub and keys.subject_kp is None
    assert keys.issuer == j.public_key(j.keypair(seeds['operator'], 'issuer_seed', 'operator'))
    assert out.values['issuer'] == keys.issuer
    module = FakeAnsibleModule.made[-1]
    assert module.mutually_exclusive == [('public_key', 'seed', 'seed_file'), ('issuer_seed', 'issuer_seed_file'),
                                         ('x', 'y')]
    assert module.required_one_of == [('public_key', 'seed', 'seed_file'), ('issuer_seed', 'issuer_seed_file')]


def test_a_seed_of_the_wrong_kind_fails_naming_the_option_never_the_seed(tmp_path, seeds):
    path = str(tmp_path / 'a.jwt')
    out = run(dict(path=path, name='A', seed=seeds['account'], issuer_seed=seeds['user']),
              'account', {}, account_claims, issuer_kind='operator')
    assert out.failed
    assert out.values['msg'].startswith('account A: issuer_seed')
    assert seeds['user'] not in out.values['msg']
    assert not os.path.exists(path)


def test_errors_of_the_claims_and_of_the_files_fail_the_same_way(tmp_path, seeds):
    def bad(p, keys):
        raise j.JwtError('limits: no such limit')

    path = str(tmp_path / 'a.jwt')
    out = run(dict(path=path, name='A', seed=seeds['account'], issuer_seed=seeds['operator']),
              'account', {}, bad, issuer_kind='operator')
    assert out.failed and out.values['msg'] == 'account A: limits: no such limit'
    assert not os.path.exists(path)
    out = run(dict(path=str(tmp_path / 'missing-dir' / 'op.jwt'), name='OP', seed_file=str(tmp_path / 'nope.nk')),
              'operator', {}, operator_claims)
    assert out.failed and out.values['msg'].startswith('operator OP: ')


def test_prepare_runs_before_any_key_is_read(tmp_path):
    def prepare(p):
        raise j.JwtError('creds_path: refused first')

    out = run(dict(path=str(tmp_path / 'u.jwt'), name='U', seed='not a seed', issuer_seed='not a seed'),
              'user', {}, account_claims, issuer_kind='account', prepare=prepare)
    assert out.failed and out.values['msg'] == 'user U: creds_path: refused first'


def test_missing_nkeys_library(monkeypatch, tmp_path, seeds):
    monkeypatch.setattr(j, 'HAS_NKEYS', False)
    out = run(dict(path=str(tmp_path / 'op.jwt'), name='OP', seed=seeds['operator']), 'operator', {},
              operator_claims)
    assert out.failed and 'nkeys' in out.values['msg']
    assert not os.path.exists(str(tmp_path / 'op.jwt'))
