# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""The supercluster's PKI in one process, with ``cryptography``: a CA (generated once, or brought), and per leaf
(node or client identity) a key and a certificate, re-issued only when what it was made for changed (SANs, key
usages, CA, bundle files) or when it enters the renewal window. Each leaf directory keeps a ``state.json`` that
records what the certificate was made for, so an unchanged leaf costs two small file reads."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import hashlib
import ipaddress
import json
import os
import traceback

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError:  # pragma: no cover
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

EKU = {'serverAuth': 'SERVER_AUTH', 'clientAuth': 'CLIENT_AUTH'}
CURVES = {'secp256r1': 'SECP256R1', 'secp384r1': 'SECP384R1', 'secp521r1': 'SECP521R1'}


class PkiError(Exception):
    pass


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def sha256_of(path):
    try:
        with open(path, 'rb') as f:
            return hashlib.sha256(f.read()).hexdigest()
    except (IOError, OSError):
        return ''


def _write(path, data, mode):
    """Write atomically with the mode set before any content exists (keys are never world-readable)."""
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data if isinstance(data, bytes) else data.encode('utf-8'))
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def _not_after(cert):
    return getattr(cert, 'not_valid_after_utc', None) and cert.not_valid_after_utc.replace(tzinfo=None) \
        or cert.not_valid_after


def _not_before(cert):
    return getattr(cert, 'not_valid_before_utc', None) and cert.not_valid_before_utc.replace(tzinfo=None) \
        or cert.not_valid_before


class Pki(object):
    def __init__(self, directory, key_type='ECC', curve='secp256r1', rsa_bits=3072, check_mode=False):
        self.dir = directory
        self.key_type, self.curve, self.rsa_bits = key_type, curve, rsa_bits
        self.check_mode = check_mode
        self.ca_cert = self.ca_key = None
        self.ca_cert_path = self.ca_key_path = None

    # -- keys ---------------------------------------------------------------------------------------
    def _new_key(self):
        if self.key_type.upper() == 'RSA':
            return rsa.generate_private_key(public_exponent=65537, key_size=self.rsa_bits)
        return ec.generate_private_key(getattr(ec, CURVES.get(self.curve, 'SECP256R1'))())

    def _key_fits(self, key):
        if self.key_type.upper() == 'RSA':
            return isinstance(key, rsa.RSAPrivateKey)
        return isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == self.curve

    @staticmethod
    def _load_key(path):
        try:
            with open(path, 'rb') as f:
                return serialization.load_pem_private_key(f.read(), password=None)
        except (IOError, OSError, ValueError, TypeError):
            return None

    @staticmethod
    def _key_pem(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    # -- CA ------------------------------------------------------------------------------------------
    def ensure_ca(self, common_name, valid_days, cert_path=None, key_path=None):
        """Load a brought CA, or the generated one, or create it (once). Returns 'byo', 'existing' or 'created'."""
        if cert_path:
            self.ca_cert_path, self.ca_key_path = cert_path, key_path
            result = 'byo'
        else:
            self.ca_cert_path = os.path.join(self.dir, 'ca.crt')
            self.ca_key_path = os.path.join(self.dir, 'ca.key')
            result = 'existing' if os.path.exists(self.ca_cert_path) else 'created'
        if result == 'created':
            if self.check_mode:
                return result
            key = self._load_key(self.ca_key_path) or self._new_key()
            if not os.path.exists(self.ca_key_path):
                _write(self.ca_key_path, self._key_pem(key), 0o600)
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
            now = _now()
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                    .serial_number(x509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(minutes=5))
                    .not_valid_after(now + datetime.timedelta(days=valid_days))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                    .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                                 key_encipherment=False, data_encipherment=False, key_agreement=False,
                                                 key_cert_sign=True, crl_sign=True, encipher_only=False,
                                                 decipher_only=False), critical=True)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                    .sign(key, hashes.SHA256()))
            _write(self.ca_cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        try:
            with open(self.ca_cert_path, 'rb') as f:
                self.ca_cert = x509.load_pem_x509_certificate(f.read())
        except (IOError, OSError, ValueError) as exc:
            raise PkiError('cannot read the CA certificate %s: %s' % (self.ca_cert_path, exc))
        if _not_after(self.ca_cert) <= _now():
            raise PkiError('the CA certificate %s expired on %s; replace it deliberately (move it away) and run '
                           'again' % (self.ca_cert_path, _not_after(self.ca_cert)))
        self.ca_key = self._load_key(self.ca_key_path)
        if self.ca_key is None:
            raise PkiError('cannot read the CA key %s' % self.ca_key_path)
        pub = serialization.PublicFormat.SubjectPublicKeyInfo
        if self.ca_key.public_key().public_bytes(serialization.Encoding.PEM, pub) != \
                self.ca_cert.public_key().public_bytes(serialization.Encoding.PEM, pub):
            raise PkiError('the CA key %s does not match the CA certificate %s' % (self.ca_key_path, self.ca_cert_path))
        return result

    # -- leaves --------------------------------------------------------------------------------------
    def leaf_state(self, leaf_dir, sans, eku, bundle, url, renew_days):
        """'current' or the reason the leaf must be (re)issued."""
        try:
            with open(os.path.join(leaf_dir, 'state.json')) as f:
                state = json.load(f)
        except (IOError, OSError, ValueError):
            return 'new'
        checks = [
            (state.get('sans') == list(sans), 'subject alternative names changed'),
            (state.get('eku') == list(eku), 'key usages changed'),
            (bool(state.get('bundle')) == bool(bundle) and (not bundle or state.get('url', '') == url),
             'client bundle changed'),
            (state.get('ca_sha256') == sha256_of(self.ca_cert_path), 'CA changed'),
            (state.get('crt_sha256') == sha256_of(os.path.join(leaf_dir, 'tls.crt')), 'certificate file changed'),
            (os.path.isfile(os.path.join(leaf_dir, 'tls.key')), 'key missing'),
        ]
        for ok, why in checks:
            if not ok:
                return why
        try:
            not_after = datetime.datetime.strptime(state.get('not_after', ''), '%Y%m%d%H%M%SZ')
        except ValueError:
            return 'expiry unknown'
        if (not_after - _now()).days <= renew_days:
            return 'renewal window'
        return 'current'

    def issue(self, leaf_dir, name, sans, eku, valid_days, bundle=False, url='', pki_name=''):
        if not os.path.isdir(leaf_dir):
            os.makedirs(leaf_dir, 0o700)
        os.chmod(leaf_dir, 0o700)
        key_path = os.path.join(leaf_dir, 'tls.key')
        key = self._load_key(key_path)
        if key is None or not self._key_fits(key):
            key = self._new_key()
            _write(key_path, self._key_pem(key), 0o600)
        else:
            os.chmod(key_path, 0o600)
        now = _now()
        ca_not_after = _not_after(self.ca_cert)
        not_after = min(now + datetime.timedelta(days=valid_days), ca_not_after)
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                                            x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'natsops')]))
                   .issuer_name(self.ca_cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                key_encipherment=True, data_encipherment=False, key_agreement=False,
                                                key_cert_sign=False, crl_sign=False, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([getattr(ExtendedKeyUsageOID, EKU[u]) for u in eku]),
                                  critical=False)
                   .add_extension(x509.SubjectAlternativeName([_san(s) for s in sans]), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()),
                                  critical=False))
        cert = builder.sign(self.ca_key, hashes.SHA256())
        crt_pem = cert.public_bytes(serialization.Encoding.PEM)
        _write(os.path.join(leaf_dir, 'tls.crt'), crt_pem, 0o644)
        with open(self.ca_cert_path, 'rb') as f:
            _write(os.path.join(leaf_dir, 'ca.crt'), f.read(), 0o644)
        if bundle:
            _write(os.path.join(leaf_dir, 'nats.env'),
                   'NATS_URL=%s\nNATS_CA=%s/ca.crt\nNATS_CERT=%s/tls.crt\nNATS_KEY=%s/tls.key\n'
                   % (url, leaf_dir, leaf_dir, leaf_dir), 0o600)
            context = {'description': ('natsops %s %s' % (pki_name, name)).replace('  ', ' '), 'url': url,
                       'ca': leaf_dir + '/ca.crt', 'cert': leaf_dir + '/tls.crt', 'key': leaf_dir + '/tls.key'}
            _write(os.path.join(leaf_dir, 'context.json'), json.dumps(context, indent=4) + '\n', 0o600)
        state = {'sans': list(sans), 'eku': list(eku), 'bundle': bool(bundle), 'url': url,
                 'not_after': _not_after(cert).strftime('%Y%m%d%H%M%SZ'),
                 'ca_sha256': sha256_of(self.ca_cert_path), 'crt_sha256': hashlib.sha256(crt_pem).hexdigest()}
        _write(os.path.join(leaf_dir, 'state.json'), json.dumps(state, indent=4) + '\n', 0o644)
        return state


def _san(value):
    kind, dummy, val = value.partition(':')
    if kind == 'IP':
        return x509.IPAddress(ipaddress.ip_address(val))
    if kind == 'DNS':
        return x509.DNSName(val)
    raise PkiError("subject alternative name '%s' must start with DNS: or IP:" % value)
