# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""node_files, run as Ansible runs it (AnsibleModule reading its arguments, writing its JSON result), on real
directories and files in a temporary directory."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import grp
import json
import os
import pwd
import stat

import pytest

testing = pytest.importorskip('ansible.module_utils.testing')

from ansible_collections.natsops.jetstream.plugins.modules import node_files  # noqa: E402

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def run(capsys, check=False, diff=False, **args):
    args.update(_ansible_check_mode=check, _ansible_diff=diff)
    with testing.patch_module_args(args):
        with pytest.raises(SystemExit):
            node_files.main()
    out = capsys.readouterr().out
    return json.loads(out), out


def mode(path):
    return '%04o' % stat.S_IMODE(os.stat(path).st_mode)


def entry(dest, body, file_mode='0640', secret=False, **extra):
    return dict({'dest': str(dest), 'secret_content' if secret else 'content': body, 'owner': USER, 'group': GROUP,
                 'mode': file_mode}, **extra)


def test_places_directories_then_files_and_a_second_run_changes_nothing(tmp_path, capsys):
    conf_dir = tmp_path / 'etc' / 'nats-server'
    args = dict(directories=[dict(path=str(conf_dir), owner=USER, group=GROUP, mode='0750')],
                files=[entry(conf_dir / 'nats-server.conf', 'port: 4222\n'),
                       entry(conf_dir / 'tls.key', 'KEY\n', '0600', secret=True)])
    result, dummy = run(capsys, **args)
    assert result['changed'] and result['directories'] == [str(conf_dir)]
    assert [(r['content_changed'], r['existed']) for r in result['results']] == [(True, False), (True, False)]
    assert mode(conf_dir) == '0750' and mode(conf_dir / 'tls.key') == '0600' and mode(conf_dir / 'nats-server.conf') == '0640'
    assert (conf_dir / 'tls.key').read_text() == 'KEY\n'
    again, dummy = run(capsys, **args)
    assert not again['changed'] and again['directories'] == [] and not any(r['changed'] for r in again['results'])
    # No temporary file is left beside the files.
    assert sorted(os.listdir(str(conf_dir))) == ['nats-server.conf', 'tls.key']


def test_a_replaced_file_is_backed_up_and_diffed_a_secret_never(tmp_path, capsys):
    conf, key = tmp_path / 'a.conf', tmp_path / 'tls.key'
    conf.write_text('old\n')
    key.write_text('OLD-KEY\n')
    files = [entry(conf, 'new\n'), entry(key, 'NEW-KEY-VALUE\n', '0600', secret=True)]
    result, out = run(capsys, diff=True, backup=True, files=files)
    first, second = result['results']
    assert open(first['backup_file']).read() == 'old\n' and conf.read_text() == 'new\n'
    assert open(second['backup_file']).read() == 'OLD-KEY\n' and key.read_text() == 'NEW-KEY-VALUE\n'
    assert result['diff'] == [{'before_header': str(conf), 'after_header': str(conf), 'before': 'old\n', 'after': 'new\n'}]
    assert 'NEW-KEY-VALUE' not in out and 'OLD-KEY' not in out


def test_diff_can_be_turned_off_per_file(tmp_path, capsys):
    result, dummy = run(capsys, diff=True, files=[entry(tmp_path / 'tls.crt', 'CERT\n', '0644', diff=False)])
    assert result['changed'] and result['diff'] == []


def test_owner_or_mode_alone_is_corrected_in_place_without_a_backup(tmp_path, capsys):
    conf = tmp_path / 'a.conf'
    conf.write_text('same\n')
    os.chmod(str(conf), 0o666)
    result, dummy = run(capsys, backup=True, files=[entry(conf, 'same\n')])
    r = result['results'][0]
    assert result['changed'] and r['changed'] and not r['content_changed'] and 'backup_file' not in r
    assert mode(conf) == '0640'


def test_content_that_fails_validation_never_replaces_the_live_file(tmp_path, capsys):
    conf = tmp_path / 'nats-server.conf'
    conf.write_text('good\n')
    result, dummy = run(capsys, files=[entry(conf, 'bad\n', validate='grep -q good %s')])
    assert result['failed'] and str(conf) in result['msg'] and 'failed validation' in result['msg']
    assert conf.read_text() == 'good\n' and os.listdir(str(tmp_path)) == ['nats-server.conf']
    passed, dummy = run(capsys, files=[entry(conf, 'still good\n', validate='grep -q good %s')])
    assert passed['changed'] and conf.read_text() == 'still good\n'


def test_check_mode_reports_and_writes_nothing(tmp_path, capsys):
    target = tmp_path / 'd'
    conf = tmp_path / 'a.conf'
    conf.write_text('old\n')
    os.chmod(str(conf), 0o600)
    result, dummy = run(capsys, check=True, diff=True, directories=[dict(path=str(target), mode='0750')],
                        files=[entry(conf, 'new\n', validate='false %s')])
    assert result['changed'] and result['directories'] == [str(target)] and result['diff'][0]['after'] == 'new\n'
    assert not target.exists() and conf.read_text() == 'old\n' and mode(conf) == '0600'


def test_content_and_secret_content_are_exclusive(tmp_path, capsys):
    result, dummy = run(capsys, files=[dict(entry(tmp_path / 'x', 'a'), secret_content='b')])
    assert result['failed'] and 'mutually exclusive' in result['msg']
