#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: server_probe
short_description: Functional probe of one nats-server, as a client sees it
version_added: 0.2.0
description:
  - Connects to a nats-server the way every client does and fails, naming the step, at the first step that does
    not work, connect (with TLS), authenticate, a request/reply round trip through the server, and a JetStream API
    request (C($JS.API.INFO)).
  - Uses the Python standard library only, so it runs on the node itself. The server role runs it on its canary node
    after a configuration change, before any other node is touched.
  - Like the official clients it refuses to publish more than the C(max_payload) the server announces.
author: natsops maintainers (@natsops)
options:
  host:
    description: Address to connect to.
    type: str
    default: 127.0.0.1
  port:
    description: Client port.
    type: int
    default: 4222
  tls:
    description: Use TLS even when the server does not require it.
    type: bool
    default: false
  tls_ca:
    description: CA file on the host the module runs on, to verify the server's certificate.
    type: path
  tls_verify:
    description: Verify the server's certificate and name.
    type: bool
    default: true
  tls_server_name:
    description: Name to verify the server's certificate against (default O(host)).
    type: str
  tls_cert_content:
    description: PEM client certificate (for C(verify_and_map) users). Written to a private temporary file for the probe.
    type: str
  tls_key_content:
    description: PEM private key of O(tls_cert_content). Never logged; written 0600 to a temporary directory and removed.
    type: str
  user:
    description: User name for password authentication.
    type: str
  password:
    description: Password of O(user).
    type: str
  jetstream:
    description: Also check that the JetStream API answers for the client's account.
    type: bool
    default: true
  payload_size:
    description: Size in bytes of the probe's request and reply messages.
    type: int
    default: 64
  timeout:
    description: Seconds the whole probe may take.
    type: float
    default: 10
extends_documentation_fragment:
  - natsops.jetstream.read_only
'''

EXAMPLES = r'''
- name: Probe the node through its own client port, as the admin user
  natsops.jetstream.server_probe:
    port: 4222
    tls_ca: /etc/nats-server/tls/ca.crt
    tls_server_name: localhost
    tls_cert_content: "{{ lookup('ansible.builtin.file', pki_dir ~ '/clients/admin/tls.crt') }}"
    tls_key_content: "{{ lookup('ansible.builtin.file', pki_dir ~ '/clients/admin/tls.key') }}"
'''

RETURN = r'''
steps:
  description: The steps that passed, each with the milliseconds since the probe started.
  returned: always
  type: list
  elements: dict
  sample: [{step: connect, ms: 3}, {step: authenticate, ms: 5}, {step: request/reply, ms: 6}, {step: jetstream, ms: 9}]
failed_step:
  description: The step that failed.
  returned: on failure
  type: str
  sample: request/reply round trip
'''

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.natsops.jetstream.plugins.module_utils._probe import ProbeFailed, probe


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', default='127.0.0.1'),
            port=dict(type='int', default=4222),
            tls=dict(type='bool', default=False),
            tls_ca=dict(type='path'),
            tls_verify=dict(type='bool', default=True),
            tls_server_name=dict(type='str'),
            tls_cert_content=dict(type='str'),
            tls_key_content=dict(type='str', no_log=True),
            user=dict(type='str'),
            password=dict(type='str', no_log=True),
            jetstream=dict(type='bool', default=True),
            payload_size=dict(type='int', default=64),
            timeout=dict(type='float', default=10.0),
        ),
        required_together=[('tls_cert_content', 'tls_key_content'), ('user', 'password')],
        supports_check_mode=True,
    )
    p = module.params
    tmpdir = None
    cert_file = key_file = None
    try:
        if p['tls_cert_content']:
            tmpdir = tempfile.mkdtemp(prefix='natsops-probe-')
            os.chmod(tmpdir, 0o700)
            cert_file, key_file = os.path.join(tmpdir, 'tls.crt'), os.path.join(tmpdir, 'tls.key')
            for path, content in ((cert_file, p['tls_cert_content']), (key_file, p['tls_key_content'])):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, 'w') as handle:
                    handle.write(content.strip() + '\n')
        steps = probe(p['host'], p['port'], timeout=p['timeout'], tls=p['tls'], ca_file=p['tls_ca'],
                      cert_file=cert_file, key_file=key_file, server_name=p['tls_server_name'],
                      verify=p['tls_verify'], user=p['user'], password=p['password'],
                      jetstream=p['jetstream'], payload_size=p['payload_size'])
    except ProbeFailed as exc:
        module.fail_json(msg='probe of %s:%s failed at step %s' % (p['host'], p['port'], exc), failed_step=exc.step,
                         steps=[])
    finally:
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)
    module.exit_json(changed=False, steps=steps)


if __name__ == '__main__':
    main()
