# Copyright: natsops.jetstream contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real nats-server (3-node cluster on loopback), real TLS, PKI made by the pki role."""
import asyncio
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import nats
import pytest
from nats.js.api import StreamConfig

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.path.join(ROOT, ".venv", "bin")
BASE = 24300


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="natspki-")
    env = dict(os.environ, PATH=BIN + ":" + os.environ["PATH"])
    for extra in ([], ["-e", "nats_pki_name=other"]):
        target = d if not extra else d + "-other"
        r = subprocess.run(
            [BIN + "/ansible-playbook", "-i", "tests/integration/security/inventory.ini",
             "tests/integration/security/pki.yml", "-e", "nats_pki_dir=" + target] + extra,
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
        assert r.returncode == 0, r.stdout[-3000:]
    yield d
    shutil.rmtree(d, ignore_errors=True)
    shutil.rmtree(d + "-other", ignore_errors=True)


def render_accounts(dest):
    """The accounts block exactly as the server role renders it (role defaults and vars, mtls mode)."""
    env = dict(os.environ, PATH=BIN + ":" + os.environ["PATH"])
    r = subprocess.run([BIN + "/ansible-playbook", "-i", "localhost,", "tests/integration/security/render_accounts.yml",
                        "-e", "dest=" + dest], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stdout[-3000:]


@pytest.fixture(scope="module")
def cluster(pki):
    work = tempfile.mkdtemp(prefix="natssec-")
    render_accounts(os.path.join(work, "accounts.conf"))
    procs = []
    for i, n in enumerate(["n1", "n2", "n3"]):
        s = os.path.join(pki, "servers", n)
        routes = ",".join('"tls://127.0.0.1:%d"' % (BASE + 10 + j) for j in range(3) if j != i)
        conf = f"""
server_name: {n}
listen: 127.0.0.1:{BASE + i}
https: 127.0.0.1:{BASE + 20 + i}
jetstream {{ store_dir: "{work}/js-{n}" }}
tls {{ cert_file: "{s}/tls.crt", key_file: "{s}/tls.key", ca_file: "{s}/ca.crt", verify_and_map: true, timeout: 2 }}
cluster {{
  name: sec
  listen: 127.0.0.1:{BASE + 10 + i}
  tls {{ cert_file: "{s}/tls.crt", key_file: "{s}/tls.key", ca_file: "{s}/ca.crt", verify: true, timeout: 2 }}
  routes: [{routes}]
}}
include ./accounts.conf
"""
        cp = os.path.join(work, n + ".conf")
        with open(cp, "w") as f:
            f.write(conf)
        log = open(os.path.join(work, n + ".log"), "w")
        procs.append(subprocess.Popen([BIN + "/nats-server", "-c", cp], stdout=log, stderr=subprocess.STDOUT))
    time.sleep(4)
    yield {"pki": pki, "work": work, "procs": procs}
    for p in procs:
        p.terminate()
        p.wait(10)
    shutil.rmtree(work, ignore_errors=True)


def ctx(pki, ident, other=False):
    base = (pki + "-other") if other else pki
    c = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    c.check_hostname = False
    if ident:
        c.load_cert_chain(os.path.join(base, "clients", ident, "tls.crt"), os.path.join(base, "clients", ident, "tls.key"))
    return c


def connect(pki, ident, other=False):
    return nats.connect(["tls://127.0.0.1:%d" % BASE], tls=ctx(pki, ident, other),
                        allow_reconnect=False, connect_timeout=3, max_reconnect_attempts=0)


def run(coro):
    return asyncio.new_event_loop().run_until_complete(coro)


def plaintext_refused(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.settimeout(3)
    try:
        first = s.recv(4096)
        if first.startswith(b"INFO") and b'"tls_required":true' in first:
            s.sendall(b"CONNECT {}\r\nPING\r\n")
            time.sleep(0.5)
            rest = s.recv(4096)
            return b"PONG" not in rest
        return not first.startswith(b"INFO")
    except (ConnectionResetError, socket.timeout):
        return True
    finally:
        s.close()


def test_plaintext_refused_client_and_route(cluster):
    assert plaintext_refused(BASE)
    assert plaintext_refused(BASE + 10)


def test_monitoring_is_https_only(cluster):
    import urllib.request
    with pytest.raises(Exception):
        urllib.request.urlopen("http://127.0.0.1:%d/varz" % (BASE + 20), timeout=3).read()
    c = ssl.create_default_context(cafile=os.path.join(cluster["pki"], "ca.crt"))
    c.check_hostname = False
    body = json.loads(urllib.request.urlopen("https://127.0.0.1:%d/varz" % (BASE + 20), timeout=3, context=c).read())
    assert body["server_name"] == "n1"


def test_no_cert_and_foreign_ca_refused(cluster):
    with pytest.raises(Exception):
        run(connect(cluster["pki"], None))
    with pytest.raises(Exception):
        run(connect(cluster["pki"], "admin", other=True))


def test_admin_reader_sys(cluster):
    pki = cluster["pki"]

    async def go():
        admin = await connect(pki, "admin")
        js = admin.jetstream()
        await js.add_stream(StreamConfig(name="ORDERS", subjects=["orders.>"], num_replicas=3))
        for k in range(5):
            await js.publish("orders.new", b"m%d" % k)
        info = await js.stream_info("ORDERS")
        assert info.state.messages == 5 and info.config.num_replicas == 3

        reader = await connect(pki, "reader")
        rjs = reader.jetstream()
        sub = await rjs.pull_subscribe("orders.>", durable="rd")
        msgs = await sub.fetch(5, timeout=5)
        assert [m.data for m in msgs] == [b"m%d" % k for k in range(5)]
        for m in msgs:
            await m.ack()
        got = await rjs.get_msg("ORDERS", 1)
        assert got.data == b"m0"
        with pytest.raises(Exception) as e:
            await rjs.publish("orders.new", b"x", timeout=2)
        with pytest.raises(Exception):
            await rjs.delete_stream("ORDERS")
        with pytest.raises(Exception):
            await rjs.purge_stream("ORDERS")
        with pytest.raises(Exception):
            await rjs.delete_msg("ORDERS", 1)
        assert (await js.stream_info("ORDERS")).state.messages == 5

        sysc = await connect(pki, "sys")
        r = await sysc.request("$SYS.REQ.SERVER.PING", b"", timeout=3)
        assert b"server" in r.data
        for c in (admin, reader, sysc):
            await c.close()
    run(go())


def served_serial(port):
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.recv(4096)  # INFO before TLS upgrade
    t = c.wrap_socket(s)
    der = t.getpeercert(binary_form=True)
    t.close()
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                         capture_output=True, check=True).stdout
    return out.decode().strip()


def test_rotation_by_sighup_keeps_pid(cluster):
    pki = cluster["pki"]
    before = served_serial(BASE)
    crt = os.path.join(pki, "servers", "n1", "tls.crt")
    os.unlink(crt)
    env = dict(os.environ, PATH=BIN + ":" + os.environ["PATH"])
    r = subprocess.run([BIN + "/ansible-playbook", "-i", "tests/integration/security/inventory.ini",
                        "tests/integration/security/pki.yml", "-e", "nats_pki_dir=" + pki, "--limit", "n1"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert r.returncode == 0, r.stdout[-3000:]
    p = cluster["procs"][0]
    pid = p.pid
    os.kill(pid, signal.SIGHUP)
    time.sleep(2)
    assert p.poll() is None and p.pid == pid
    after = served_serial(BASE)
    assert after != before
    with open(os.path.join(cluster["work"], "n1.log")) as f:
        log = f.read()
    assert "Reloaded server configuration" in log


def test_failed_reload_is_visible_in_log(cluster):
    cp = os.path.join(cluster["work"], "n2.conf")
    good = open(cp).read()
    with open(cp, "w") as f:
        f.write(good + "\nthis is { not valid\n")
    p = cluster["procs"][1]
    os.kill(p.pid, signal.SIGHUP)
    time.sleep(1.5)
    with open(cp, "w") as f:
        f.write(good)
    with open(os.path.join(cluster["work"], "n2.log")) as f:
        log = f.read()
    assert "Failed to reload server configuration" in log
    assert p.poll() is None


def _play(extra):
    env = dict(os.environ, PATH=BIN + ":" + os.environ["PATH"])
    return subprocess.run([BIN + "/ansible-playbook", "-i", "tests/integration/security/inventory.ini",
                           "tests/integration/security/pki.yml"] + extra,
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)


def test_preflight_key_not_matching_ca_names_variable(pki):
    target = tempfile.mkdtemp(prefix="natspki-bad-")
    os.rmdir(target)
    r = _play(["-e", "nats_pki_dir=" + target, "-e", "nats_pki_ca_cert_path=" + pki + "/ca.crt",
               "-e", "nats_pki_ca_key_path=" + pki + "-other/ca.key"])
    assert r.returncode != 0
    assert "nats_pki_ca_key_path" in r.stdout and "does not match" in r.stdout
    assert not os.path.exists(target)  # nothing created


def test_removed_byo_variables_are_refused_naming_their_replacements(pki):
    # Bring-your-own files are the server role's nats_server_tls_*_src (checked in tests/integration/role).
    r = _play(["-e", "nats_pki_mode=byo", "-e", "nats_pki_byo_cert=" + pki + "/servers/n1/tls.crt",
               "-e", "nats_pki_byo_key=" + pki + "/servers/n1/tls.key", "-e", "nats_pki_byo_ca=/nonexistent/ca.crt"])
    assert r.returncode != 0
    out = " ".join(r.stdout.split())
    assert "nats_pki_byo_ca, nats_pki_byo_cert, nats_pki_byo_key are no longer read" in out
    assert "nats_server_tls_ca_src (was nats_pki_byo_ca)" in out


def test_private_keys_not_in_output_and_0600(pki):
    r = _play(["-v", "-e", "nats_pki_dir=" + pki])
    assert r.returncode == 0
    assert "changed=0" in r.stdout  # idempotent
    for root, _dirs, files in os.walk(pki):
        for f in files:
            if f.endswith(".key"):
                p = os.path.join(root, f)
                assert oct(os.stat(p).st_mode & 0o777) == "0o600", p
                body = open(p).read().splitlines()[1]
                assert body not in r.stdout
