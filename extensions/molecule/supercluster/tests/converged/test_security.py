"""Security of the converged supercluster with real clients over real TLS; nothing here changes a node.

TLS on the client, route, gateway and monitoring ports; users by client certificate (verify_and_map);
admin/reader/sys roles; key and config modes; bad security input refused before any node is contacted; check
mode reports reloads and restarts and changes nothing. Rotation is steps/rotate.yml with tests/rotated/; auth
mode, permission and failed-reload drills are in tests/drills/test_reconfigure.py."""
import asyncio
import datetime
import json
import os
import socket
import ssl
import time

import nats
import nats.js.errors
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scenario import ALL, PKI, PORTS, container_ip as _ip, exercise_roles, once, run_site, served_serial, tls_context, urls


def test_tls_files_are_owned_and_private(host):
    key = host.file("/etc/nats-server/tls/tls.key")
    assert key.user == "nats" and key.mode == 0o600
    for name in ("tls.crt", "ca.crt"):
        f = host.file("/etc/nats-server/tls/" + name)
        assert f.user == "root" and f.mode == 0o644
    conf = host.file("/etc/nats-server/nats-server.conf")
    assert conf.user == "root" and conf.group == "nats" and conf.mode == 0o640
    assert host.file("/etc/nats-server/tls").mode == 0o750


def _plaintext_refused(ip, port):
    """Speak plaintext to a TLS-only listener: it must never answer like a NATS or HTTP server. The client port
    sends INFO (tls_required) before the TLS upgrade; routes and gateways expect the TLS handshake first."""
    s = socket.create_connection((ip, port), timeout=5)
    s.settimeout(5)
    try:
        if port == PORTS["monitor"]:
            s.sendall(b"GET /varz HTTP/1.0\r\n\r\n")
            reply = s.recv(4096)
            return b"200 OK" not in reply and b"server_id" not in reply
        if port == PORTS["client"]:
            first = s.recv(4096)
            assert first.startswith(b"INFO") and b'"tls_required":true' in first, first[:200]
        s.sendall(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        time.sleep(0.5)
        reply = s.recv(4096)
        return b"PONG" not in reply and b"INFO" not in reply
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return True
    finally:
        s.close()


def test_plaintext_is_refused_on_client_route_gateway_and_monitoring_ports(host):
    once(host)
    for node in ("c1-n1", "c2-n2", "c3-n3"):
        ip = _ip(node)
        for name, port in PORTS.items():
            assert _plaintext_refused(ip, port), "%s %s port accepted plaintext" % (node, name)
            assert served_serial(ip, port) > 0  # and the same port completes a verified TLS handshake


def _foreign_identity(tmp):
    """A client certificate 'admin' signed by a key that is not our CA's (the intruder's CA certificate itself is
    never needed: the servers only ever see the leaf)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intruder CA")])
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "admin")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("admin")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    d = os.path.join(tmp, "clients", "admin")
    os.makedirs(d)
    with open(os.path.join(d, "tls.crt"), "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(d, "tls.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return tmp


async def _refused(**kwargs):
    errors = []

    async def on_error(e):
        errors.append(e)
    try:
        nc = await nats.connect(urls(["c1-n1"]), connect_timeout=3, allow_reconnect=False,
                                max_reconnect_attempts=0, error_cb=on_error, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any refusal is the expected outcome
        return str(exc) or type(exc).__name__
    await nc.close()
    return None


def test_foreign_ca_and_missing_client_certificate_are_refused(host, tmp_path):
    once(host)
    foreign = _foreign_identity(str(tmp_path))
    assert asyncio.run(_refused(tls=tls_context("admin", pki=foreign))) is not None
    assert asyncio.run(_refused(tls=tls_context(None))) is not None
    # A route or gateway peer must present a certificate of our CA too.
    for port in (PORTS["route"], PORTS["gateway"]):
        assert _peer_refused(_ip("c2-n1"), port, tls_context("admin", pki=foreign)), port


def _peer_refused(ip, port, ctx):
    """A TLS client with a foreign certificate: the handshake fails or the server closes the connection."""
    s = socket.create_connection((ip, port), timeout=3)
    try:
        with ctx.wrap_socket(s) as t:
            t.sendall(b"PING\r\n")
            return t.recv(4096) == b""
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError, socket.timeout):
        return True


def test_admin_reader_and_sys_roles(host):
    once(host)
    asyncio.run(asyncio.wait_for(exercise_roles(), 120))


def _expired_ca_bundle(tmp):
    """A CA whose validity ended yesterday and a node certificate it signed (itself still valid)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=10))
          .not_valid_after(now - datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "c2-n2")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("c2-n2")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": os.path.join(tmp, "ca.crt"), "cert": os.path.join(tmp, "tls.crt"), "key": os.path.join(tmp, "tls.key")}
    with open(paths["ca"], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths["cert"], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(paths["key"], "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


def _node_fingerprint(node):
    import subprocess
    return subprocess.check_output(["docker", "exec", node, "sh", "-c",
                                    "sha256sum /etc/nats-server/nats-server.conf /etc/nats-server/tls/*; "
                                    "systemctl show -p MainPID --value nats-server"], text=True)


def test_bad_security_input_fails_in_preflight_before_any_change(host, tmp_path):
    once(host)
    expired = _expired_ca_bundle(str(tmp_path))
    other_key = os.path.join(PKI, "servers", "c1-n1", "tls.key")
    cases = [
        ({"nats_server_tls_cert_src": "/nonexistent/tls.crt"}, ["nats_server_tls_cert_src", "/nonexistent/tls.crt"]),
        ({"nats_server_tls_key_src": other_key}, ["nats_server_tls_key_src", other_key, "does not match"]),
        ({"nats_server_tls_ca_src": expired["ca"], "nats_server_tls_cert_src": expired["cert"],
          "nats_server_tls_key_src": expired["key"]}, ["nats_server_tls_ca_src", expired["ca"], "expired"]),
        ({"nats_server_app_users": [{"name": "admin", "permissions": "admin"}, {"name": "bob", "permissions": "ops"}]},
         ["nats_server_app_users", "'bob'", "permission set 'ops'"]),
        ({"nats_server_app_users": [{"name": "admin", "permissions": "admin"}, {"name": "carol", "permissions": "reader"}]},
         ["nats_server_app_users", "'carol' has no client certificate", "nats_pki_extra_identities"]),
    ]
    before = _node_fingerprint("c2-n2")
    for extra, expected in cases:
        proc = run_site("--limit", "c2-n2", "-e", json.dumps(extra))
        out = " ".join((proc.stdout + proc.stderr).split())
        assert proc.returncode != 0, out[-2000:]
        for text in expected:
            assert text in out, (text, out[-2000:])
        assert "changed=0" in out and "Configure |" not in out, out[-2000:]
    assert _node_fingerprint("c2-n2") == before


def test_files_already_on_the_node_are_used_in_place(host):
    """Bring your own files on the hosts (nats_server_tls_remote_src): nothing is copied, a missing file is named."""
    once(host)
    on_node = {"nats_server_tls_remote_src": True, "nats_server_tls_cert_src": "/etc/nats-server/tls/tls.crt",
               "nats_server_tls_key_src": "/etc/nats-server/tls/tls.key", "nats_server_tls_ca_src": "/etc/nats-server/tls/ca.crt"}
    before = _node_fingerprint("c3-n1")
    same = run_site("--limit", "c3-n1", "-e", json.dumps(on_node))
    assert same.returncode == 0 and "changed=0" in same.stdout, same.stdout[-3000:]
    missing = run_site("--limit", "c3-n1", "-e", json.dumps(dict(on_node, nats_server_tls_ca_src="/etc/nats-server/tls/other-ca.crt")))
    out = " ".join((missing.stdout + missing.stderr).split())
    assert missing.returncode != 0
    assert "nats_server_tls_ca_src /etc/nats-server/tls/other-ca.crt does not exist on c3-n1" in out, out[-2000:]
    assert _node_fingerprint("c3-n1") == before


def test_check_mode_reports_reloads_and_restarts_and_changes_nothing(host):
    once(host)
    before = {n: _node_fingerprint(n) for n in ALL}
    reload = run_site("--check", "-e", "nats_server_max_payload=2MB")
    assert reload.returncode == 0, reload.stdout[-3000:]
    assert reload.stdout.count("will reload: configuration") == 9
    restart = run_site("--check", "-e", "nats_server_lame_duck_duration=45s")
    assert restart.returncode == 0, restart.stdout[-3000:]
    assert restart.stdout.count("needs a restart: lame_duck") == 9
    assert {n: _node_fingerprint(n) for n in ALL} == before
