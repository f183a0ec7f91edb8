# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_module (module_utils/_module.py): one way from an exception to fail_json in every module; no NATS."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.natsops.jetstream.plugins.module_utils import _module
from ansible_collections.natsops.jetstream.plugins.module_utils._fields import Result, ValidationError
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import STREAM_NOT_FOUND, JetStreamAPIError
from ansible_collections.natsops.jetstream.plugins.module_utils._snapshot import SnapshotError


class Exit(Exception):
    def __init__(self, failed, values):
        super(Exit, self).__init__(values)
        self.failed = failed
        self.values = values


class FakeModule(object):
    check_mode = False
    _diff = False

    def __init__(self, **params):
        self.params = params
        self.warnings = []

    def fail_json(self, **values):
        raise Exit(True, values)

    def exit_json(self, **values):
        raise Exit(False, values)

    def warn(self, warning):
        self.warnings.append(warning)


class FakeClient(object):
    made = []

    def __init__(self, module):
        self.connected = self.closed = False
        FakeClient.made.append(self)

    def connect(self):
        self.connected = True

    def close(self):
        self.closed = True


@pytest.fixture(autouse=True)
def fake_client(monkeypatch):
    FakeClient.made = []
    monkeypatch.setattr(_module, 'JetStreamClient', FakeClient)


def outcome(*args, **kwargs):
    with pytest.raises(Exit) as info:
        _module.run_module(FakeModule(), *args, **kwargs)
    return info.value


def test_the_body_runs_over_a_connected_client_and_its_values_are_returned():
    def body(module, client, prepared):
        assert client.connected and prepared == 42
        return dict(changed=True, answer=prepared)
    done = outcome(body, 'unused', prepare=lambda m: 42)
    assert not done.failed and done.values == {'changed': True, 'answer': 42}
    assert FakeClient.made[0].closed


def test_a_validation_error_before_connecting_fails_with_its_message_and_connects_nothing():
    def prepare(module):
        raise ValidationError('replicas: 7 is not allowed')
    done = outcome(None, 'unused', prepare=prepare)
    assert done.failed and done.values == {'msg': 'replicas: 7 is not allowed'}
    assert FakeClient.made == []


def test_an_api_error_carries_err_code_and_code_and_what_was_done():
    def body(module, client, prepared):
        raise JetStreamAPIError('stream not found', code=404, err_code=STREAM_NOT_FOUND, subject='$JS.API.X')
    done = outcome(body, 'JetStream refused the request for stream S', context=lambda: {'resources': [1]})
    assert done.failed and done.values == {
        'msg': 'JetStream refused the request for stream S: stream not found (err_code 10059) on $JS.API.X',
        'err_code': STREAM_NOT_FOUND, 'code': 404, 'resources': [1]}
    assert FakeClient.made[0].closed


def test_validation_errors_after_connecting_and_listed_errors():
    def refuse(module, client, prepared):
        raise ValidationError('stream: NOPE does not exist')

    def broken(module, client, prepared):
        raise SnapshotError('the server aborted the snapshot')
    assert outcome(refuse, 'x').values == {'msg': 'stream: NOPE does not exist'}
    done = outcome(broken, lambda prepared: 'backup of stream %s failed' % prepared, prepare=lambda m: 'S',
                   errors=(SnapshotError,))
    assert done.values == {'msg': 'backup of stream S failed: the server aborted the snapshot'}

    def bug(module, client, prepared):
        raise RuntimeError('bug')
    with pytest.raises(RuntimeError):
        _module.run_module(FakeModule(), bug, 'x')
    assert all(c.closed for c in FakeClient.made)


def test_module_result_and_ensure_resource():
    class Resource(object):
        def __init__(self):
            self.calls = []

        def ensure(self, desired, **kwargs):
            self.calls.append((desired, kwargs))
            res = Result('stream', 'S')
            res.action, res.changed, res.changes, res.after = 'created', True, ['subjects'], {'name': 'S'}
            res.warnings.append('careful')
            return res

        def info(self, refresh=False):
            return {'state': {'messages': 0}, 'refresh': refresh}

    module = FakeModule(state='present', recreate=False)
    module._diff = True
    resource = Resource()
    res, out, info = _module.ensure_resource(module, resource, {'subjects': ['s']}, create_defaults={'a': 1})
    expected_kwargs = dict(state='present', recreate=False, check_mode=False, create_defaults={'a': 1})
    assert resource.calls == [({'subjects': ['s']}, expected_kwargs)]
    assert out == {'changed': True, 'operation': 'created', 'changes': ['subjects'], 'config': {'name': 'S'},
                   'diff': {'before': {}, 'after': {'name': 'S'}}}
    assert info == {'state': {'messages': 0}, 'refresh': True} and module.warnings == ['careful']
    module.check_mode = True
    assert _module.ensure_resource(module, resource, {})[2] is None
