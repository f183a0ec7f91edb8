"""Security of the deployed supercluster with real clients over real TLS (runs before the upgrade test).

TLS on the client, route, gateway and monitoring ports; users by client certificate (verify_and_map);
admin/reader/sys roles; key files 0600; certificate rotation by reload with unchanged PIDs; a reload that
nats-server rejects fails the play."""
import asyncio
import datetime
import glob
import json
import os
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request

import nats
import nats.js.errors
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scenario import ALL, PKI, SECRETS, container_ip as _ip, name_of, run_site, tls_context, urls

PORTS = {"client": 4222, "route": 6222, "gateway": 7222, "monitor": 8222}


def once(host):
    if name_of(host) != "c1-n1":
        pytest.skip("supercluster-wide check runs once, from c1-n1")


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


def served_serial(ip, port, identity=None):
    """Serial of the certificate a listener serves, read from a real TLS handshake."""
    ctx = tls_context(identity)
    s = socket.create_connection((ip, port), timeout=3)
    if port == PORTS["client"]:
        s.recv(4096)  # the client port sends INFO before the TLS upgrade; the others start with TLS
    with ctx.wrap_socket(s) as t:
        return x509.load_der_x509_certificate(t.getpeercert(binary_form=True)).serial_number


def test_plaintext_is_refused_on_client_route_gateway_and_monitoring_ports(host):
    once(host)
    for node in ("c1-n1", "c2-n2", "c3-n3"):
        ip = _ip(node)
        for name, port in PORTS.items():
            assert _plaintext_refused(ip, port), "%s %s port accepted plaintext" % (node, name)
            assert served_serial(ip, port) > 0  # and the same port completes a verified TLS handshake


def _foreign_identity(tmp):
    """A CA that is not ours, and a client certificate 'admin' signed by it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intruder CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
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


async def _publish(js, subject, data):
    """Publish with bounded retries: a stream just created in another cluster is reachable once the subject's
    interest has crossed the gateways, which can take a moment."""
    deadline = time.time() + 20
    while True:
        try:
            return await js.publish(subject, data, timeout=5)
        except nats.js.errors.NoStreamResponseError:
            if time.time() > deadline:
                raise
            await asyncio.sleep(0.25)


async def _roles():
    violations = []

    async def on_error(e):
        violations.append(str(e))

    async def connect(identity, node="c1-n1"):
        return await nats.connect(urls([node]), tls=tls_context(identity), connect_timeout=3,
                                  max_reconnect_attempts=1, error_cb=on_error)

    admin = await connect("admin")
    js = admin.jetstream()
    # Start clean even when an earlier run stopped half-way.
    await admin.request("$JS.API.STREAM.DELETE.SECURE_ORDERS", b"", timeout=10)
    cfg = {"name": "SECURE_ORDERS", "subjects": ["secure.orders.>"], "num_replicas": 3, "storage": "file",
           "placement": {"cluster": "c2"}}
    reply = json.loads((await admin.request("$JS.API.STREAM.CREATE.SECURE_ORDERS", json.dumps(cfg).encode(),
                                            timeout=10)).data)
    assert "error" not in reply, reply
    for i in range(5):
        await _publish(js, "secure.orders.new", b"order-%d" % i)
    assert (await js.stream_info("SECURE_ORDERS")).state.messages == 5

    reader = await connect("reader", "c3-n1")
    rjs = reader.jetstream()
    sub = await rjs.pull_subscribe("secure.orders.>", durable="reader_pull", stream="SECURE_ORDERS")
    # A just-created R3 consumer answers 503 (no responders) until its leader is elected; give it a few tries.
    for attempt in range(10):
        try:
            msgs = await sub.fetch(5, timeout=10)
            break
        except nats.js.errors.ServiceUnavailableError:
            if attempt == 9:
                raise
            await asyncio.sleep(1)
    assert [m.data for m in msgs] == [b"order-%d" % i for i in range(5)]
    for m in msgs:
        await m.ack()
    assert (await rjs.get_msg("SECURE_ORDERS", 1)).data == b"order-0"
    assert (await rjs.stream_info("SECURE_ORDERS")).state.messages == 5

    # What the reader may not do: publish data, delete or purge the stream, delete a message.
    denied = {"secure.orders.new": None, "$JS.API.STREAM.DELETE.SECURE_ORDERS": b"",
              "$JS.API.STREAM.PURGE.SECURE_ORDERS": b"", "$JS.API.STREAM.MSG.DELETE.SECURE_ORDERS": b'{"seq":1}'}
    for subject, payload in denied.items():
        with pytest.raises(Exception):
            await reader.request(subject, payload or b"x", timeout=2)
    await reader.flush()
    await asyncio.sleep(0.5)
    for subject in denied:
        assert any(('permissions violation for publish to "%s"' % subject).lower() in v.lower() for v in violations), \
            (subject, violations)
    assert (await js.stream_info("SECURE_ORDERS")).state.messages == 5

    # sys sees server data of all nine nodes; the application account cannot reach $SYS.
    sysc = await connect("sys")
    inbox = sysc.new_inbox()
    seen = set()
    sub = await sysc.subscribe(inbox)
    await sysc.publish("$SYS.REQ.SERVER.PING", b"", reply=inbox)
    deadline = time.time() + 5
    while len(seen) < 9 and time.time() < deadline:
        try:
            msg = await sub.next_msg(timeout=1)
            seen.add(json.loads(msg.data)["server"]["name"])
        except asyncio.TimeoutError:
            pass
    assert seen == set(ALL)
    with pytest.raises(Exception):
        await admin.request("$SYS.REQ.SERVER.PING", b"", timeout=2)

    await js.delete_stream("SECURE_ORDERS")
    for c in (admin, reader, sysc):
        await c.close()


def test_admin_reader_and_sys_roles(host):
    once(host)
    asyncio.run(asyncio.wait_for(_roles(), 120))


def _pids():
    import subprocess
    return {n: subprocess.check_output(["docker", "exec", n, "systemctl", "show", "-p", "MainPID", "--value",
                                        "nats-server"], text=True).strip() for n in ALL}


class HealthWatch(threading.Thread):
    """Polls /healthz of all nine nodes over HTTPS once a second until stopped (at most 600 s). A node counts as
    unhealthy when two polls in a row fail; a single failed poll is kept in `blips` (on this 2-core machine
    nats-server's own readiness probe inside /healthz, which allows 1 ms, now and then misses under CPU load)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop, self.polls, self.bad, self.blips = threading.Event(), 0, [], []
        self.ips = {n: _ip(n) for n in ALL}

    def _poll(self, ctx, ip):
        try:
            body = json.loads(urllib.request.urlopen("https://%s:8222/healthz" % ip, timeout=3, context=ctx).read())
            return None if body.get("status") == "ok" else body
        except urllib.error.HTTPError as exc:
            return "%s %s" % (exc.code, exc.read()[:200])
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and asserted on
            return str(exc)

    def run(self):
        ctx = tls_context(None)
        last = {n: None for n in ALL}
        deadline = time.time() + 600
        while not self.stop.is_set() and time.time() < deadline:
            for node, ip in self.ips.items():
                failure = self._poll(ctx, ip)
                if failure is not None:
                    (self.bad if last[node] is not None else self.blips).append((node, failure))
                last[node] = failure
            self.polls += 1
            self.stop.wait(1)


def _secrets():
    """Everything secret a run handles: route/gateway passwords and the base64 body of every private key."""
    out = []
    for path in glob.glob(os.path.join(SECRETS, "**", "*"), recursive=True):
        if os.path.isfile(path):
            out.append(open(path).read().split()[0])
    for path in glob.glob(os.path.join(PKI, "**", "*.key"), recursive=True):
        pem = open(path, "rb").read()
        # The tail of an EC key's PEM is its public point, which certificate info rightly prints: skip lines
        # that also occur in the public key's PEM.
        public = serialization.load_pem_private_key(pem, None).public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        out.extend(line for line in pem.decode().splitlines()[1:-1] if len(line) > 20 and line not in public)
    return out


def test_certificate_rotation_is_a_reload_with_unchanged_pids(host):
    once(host)
    ips = {n: _ip(n) for n in ALL}
    pids = _pids()
    before = {(n, p): served_serial(ips[n], port) for n in ALL for p, port in PORTS.items()}
    watch = HealthWatch()
    watch.start()
    try:
        # A renewal window longer than the certificates' life re-issues every certificate.
        proc = run_site("-v", "--diff", "-e", "nats_pki_renew_days=4000")
    finally:
        watch.stop.set()
        watch.join()
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert proc.stdout.count("will reload: certificates") == 9, proc.stdout[-4000:]
    assert "needs a restart" not in proc.stdout
    assert _pids() == pids
    after = {(n, p): served_serial(ips[n], port) for n in ALL for p, port in PORTS.items()}
    unchanged = [k for k in before if before[k] == after[k]]
    assert not unchanged, unchanged
    assert watch.polls >= 3 and not watch.bad, (watch.bad[:5], watch.blips[:5])
    print("rotation: %d health polls of 9 nodes, %d single failed polls %s" % (watch.polls, len(watch.blips), watch.blips[:3]))
    secrets = _secrets()
    assert len(secrets) > 15
    leaked = [s[:6] for s in secrets if s in proc.stdout or s in proc.stderr]
    assert not leaked, leaked
    # Clients with the re-issued certificates still work.
    asyncio.run(asyncio.wait_for(_roles(), 120))


def test_a_reload_nats_server_rejects_fails_the_play_and_the_node_keeps_running(host):
    once(host)
    pids = _pids()
    # max_closed_clients passes `nats-server -t` but cannot be changed by a reload.
    proc = run_site("--limit", "c3-n3", "-e", json.dumps({"nats_server_extra_config": {"max_closed_clients": 5}}))
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "did not apply the new configuration" in out, out[-3000:]
    assert "config reload not supported for MaxClosedClients" in out
    assert _pids() == pids
    healthy = json.loads(urllib.request.urlopen("https://%s:8222/healthz" % _ip("c3-n3"), timeout=3,
                                                context=tls_context(None)).read())
    assert healthy["status"] == "ok"
    back = run_site("--limit", "c3-n3")
    assert back.returncode == 0, back.stdout[-3000:]
    assert _pids() == pids


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


async def _password_clients(passwords):
    violations = []

    async def on_error(e):
        violations.append(str(e))

    async def connect(user):
        return await nats.connect(urls(["c2-n1"]), tls=tls_context(None), user=user, password=passwords[user],
                                  connect_timeout=3, max_reconnect_attempts=1, error_cb=on_error)

    admin = await connect("admin")
    js = admin.jetstream()
    await js.add_stream(name="PW_EVENTS", subjects=["pw.events.>"], num_replicas=3)
    await _publish(js, "pw.events.a", b"1")
    reader = await connect("reader")
    assert (await reader.jetstream().get_msg("PW_EVENTS", 1)).data == b"1"
    with pytest.raises(Exception):
        await reader.request("pw.events.b", b"x", timeout=2)
    await asyncio.sleep(0.3)
    assert any('permissions violation for publish to "pw.events.b"' in v.lower() for v in violations), violations
    with pytest.raises(Exception):
        await nats.connect(urls(["c2-n1"]), tls=tls_context(None), user="admin", password="wrong" + passwords["admin"],
                           connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=0)
    await js.delete_stream("PW_EVENTS")
    await admin.close()
    await reader.close()


def test_password_mode_in_one_cluster_and_back_to_mtls(host):
    """verify_and_map cannot be switched by a reload (nats-server: TLSMap), so a change of auth mode is a rolling
    restart; done on cluster c2 only, the other clusters keep running untouched."""
    once(host)
    import subprocess
    pids = _pids()
    c2 = [n for n in ALL if n.startswith("c2-")]
    proc = run_site("--limit", "c2", "-e", "nats_server_auth_mode=password")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert proc.stdout.count("needs a restart: tls_listeners") == 3, proc.stdout[-4000:]
    users = os.path.join(SECRETS, "users")
    passwords = {}
    for name in ("admin", "reader", "sys"):
        path = os.path.join(users, name)
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
        passwords[name] = open(path).read().split()[0]
        assert passwords[name] not in proc.stdout + proc.stderr
    conf = subprocess.check_output(["docker", "exec", "c2-n1", "cat", "/etc/nats-server/nats-server.conf"], text=True)
    assert conf.count('"password": "$2b$11$') == 3 and not any(p in conf for p in passwords.values())
    asyncio.run(asyncio.wait_for(_password_clients(passwords), 120))
    back = run_site("--limit", "c2")
    assert back.returncode == 0, back.stdout[-4000:]
    now = _pids()
    assert all(now[n] != pids[n] for n in c2) and all(now[n] == pids[n] for n in ALL if n not in c2)
    asyncio.run(asyncio.wait_for(_roles(), 120))


async def _narrowed_admin():
    violations = []

    async def on_error(e):
        violations.append(str(e).lower())
    nc = await nats.connect(urls(["c1-n2"]), tls=tls_context("admin"), connect_timeout=3, max_reconnect_attempts=1,
                            error_cb=on_error)
    await nc.publish("secure.allowed", b"x")
    await nc.publish("other.denied", b"x")
    await nc.flush()
    await asyncio.sleep(0.5)
    await nc.close()
    return violations


def test_permission_change_applies_by_reload(host):
    once(host)
    pids = _pids()
    proc = run_site("-e", json.dumps({"nats_server_data_subjects": ["secure.>"]}))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert proc.stdout.count("will reload: configuration") == 9 and "needs a restart" not in proc.stdout
    violations = asyncio.run(asyncio.wait_for(_narrowed_admin(), 60))
    assert any('permissions violation for publish to "other.denied"' in v for v in violations), violations
    assert not any("secure.allowed" in v for v in violations), violations
    back = run_site()
    assert back.returncode == 0 and back.stdout.count("will reload: configuration") == 9, back.stdout[-4000:]
    assert asyncio.run(asyncio.wait_for(_narrowed_admin(), 60)) == []
    assert _pids() == pids


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
