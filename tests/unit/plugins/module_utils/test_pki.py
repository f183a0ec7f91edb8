# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one-step PKI: CA once, leaves re-issued only for a reason, keys 0600, chains that verify."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import stat

import pytest

from ansible_collections.natsops.jetstream.plugins.module_utils import _pki

x509 = pytest.importorskip('cryptography.x509')
ec = pytest.importorskip('cryptography.hazmat.primitives.asymmetric.ec')


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def leaf(pki, d, sans=('DNS:n1', 'IP:10.0.0.1'), renew=30, bundle=False):
    why = pki.leaf_state(d, list(sans), ['serverAuth', 'clientAuth'], bundle, 'tls://n1:4222', renew)
    if why != 'current':
        pki.issue(d, 'n1', list(sans), ['serverAuth', 'clientAuth'], 365, bundle, 'tls://n1:4222', 'lab')
    return why


def test_ca_once_then_leaves_only_for_a_reason(tmp_path):
    pki = _pki.Pki(str(tmp_path))
    assert pki.ensure_ca('natsops test CA', 3650) == 'created'
    assert mode(str(tmp_path / 'ca.key')) == 0o600
    d = str(tmp_path / 'servers' / 'n1')
    assert leaf(pki, d) == 'new'
    assert mode(d) == 0o700 and mode(d + '/tls.key') == 0o600 and mode(d + '/tls.crt') == 0o644
    assert leaf(pki, d) == 'current'
    assert leaf(pki, d, sans=('DNS:n1', 'IP:10.0.0.2')) == 'subject alternative names changed'
    assert leaf(pki, d, sans=('DNS:n1', 'IP:10.0.0.2'), renew=400) == 'renewal window'
    with open(d + '/tls.crt', 'a') as f:
        f.write('\n')
    assert leaf(pki, d, sans=('DNS:n1', 'IP:10.0.0.2')) == 'certificate file changed'
    # The chain verifies and the key is kept across re-issues.
    with open(d + '/tls.crt', 'rb') as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(str(tmp_path / 'ca.crt'), 'rb') as f:
        ca = x509.load_pem_x509_certificate(f.read())
    assert cert.issuer == ca.subject
    ca.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(v) for v in sans.get_values_for_type(x509.IPAddress)] == ['10.0.0.2']
    # A second run finds the CA and does not replace it.
    again = _pki.Pki(str(tmp_path))
    assert again.ensure_ca('natsops test CA', 3650) == 'existing'
    assert again.leaf_state(d, ['DNS:n1', 'IP:10.0.0.2'], ['serverAuth', 'clientAuth'], False, '', 30) == 'current'


def test_client_bundle_files_are_private(tmp_path):
    pki = _pki.Pki(str(tmp_path))
    pki.ensure_ca('ca', 3650)
    d = str(tmp_path / 'clients' / 'admin')
    pki.issue(d, 'admin', ['DNS:admin'], ['clientAuth'], 365, True, 'tls://n1:4222', 'lab')
    assert mode(d + '/nats.env') == 0o600 and mode(d + '/context.json') == 0o600
    with open(d + '/context.json') as f:
        assert json.load(f)['cert'] == d + '/tls.crt'


def test_a_brought_ca_key_that_does_not_match_is_refused(tmp_path):
    one, two = tmp_path / 'one', tmp_path / 'two'
    for d in (one, two):
        d.mkdir()
        _pki.Pki(str(d)).ensure_ca('ca', 3650)
    pki = _pki.Pki(str(tmp_path / 'pki'))
    with pytest.raises(_pki.PkiError, match='does not match'):
        pki.ensure_ca('ca', 3650, str(one / 'ca.crt'), str(two / 'ca.key'))
    assert _pki.Pki(str(tmp_path / 'pki')).ensure_ca('ca', 3650, str(one / 'ca.crt'), str(one / 'ca.key')) == 'byo'


def test_check_mode_writes_nothing(tmp_path):
    pki = _pki.Pki(str(tmp_path / 'p'), check_mode=True)
    assert pki.ensure_ca('ca', 3650) == 'created'
    assert not (tmp_path / 'p' / 'ca.crt').exists()
