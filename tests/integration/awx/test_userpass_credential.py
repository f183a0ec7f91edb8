"""The "NATS user and password (natsops)" credential type (awx/credential_types.yml) as a job gets it: only the
environment variables its injectors set (NATS_URL, NATS_CA, NATS_USER, NATS_PASSWORD), nothing in the playbooks'
variables. backup.yml and restore.yml run with them against a real nats-server with TLS and a password user; the
password appears in no output, even at -vvv, and a wrong one is refused."""
import os
import shutil
import subprocess
import tempfile

import pytest

from awxjob import BIN, backup_inventory, injected_env as inject, make_pki, run
from natsproc import ROOT, free_ports, server_from

SECRET = "Pw-9f3c1e7b-userpass"
STREAM = "UPBACKUP"


def injected_env(ca_file, servers, user, password):
    """The env the credential type's injectors give a job, rendered from awx/credential_types.yml itself."""
    inputs = {"servers": servers, "ca": open(ca_file).read(), "user": user, "password": password}
    env = inject("NATS user and password (natsops)", inputs, os.path.dirname(ca_file))
    assert set(env) == {"NATS_URL", "NATS_CA", "NATS_USER", "NATS_PASSWORD"}
    return env


@pytest.fixture(scope="module")
def server():
    """A nats-server with TLS (the pki role's certificates for n1) and an account APP with JetStream whose only
    user is app with SECRET."""
    work = tempfile.mkdtemp(prefix="natsops-userpass-")
    pki = os.path.join(work, "pki")
    make_pki(pki)
    port, = free_ports(1)
    s = os.path.join(pki, "servers", "n1")
    conf = os.path.join(work, "server.conf")
    with open(conf, "w") as f:
        f.write("""server_name: up-n1
listen: 127.0.0.1:%d
jetstream { store_dir: "%s/js" }
tls { cert_file: "%s/tls.crt", key_file: "%s/tls.key", timeout: 2 }
accounts { APP: { jetstream: enabled, users: [{user: app, password: "%s"}] } }
""" % (port, work, s, s, SECRET))
    try:
        with server_from(conf, BIN + "/nats-server"):
            yield {"url": "tls://127.0.0.1:%d" % port, "ca": os.path.join(pki, "ca.crt"), "work": work}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def nats_cli(server, *args):
    env = dict(os.environ, NATS_URL=server["url"], NATS_CA=server["ca"], NATS_USER="app", NATS_PASSWORD=SECRET)
    return subprocess.run([os.path.join(ROOT, ".cache", "tools", "bin", "nats")] + list(args), env=env,
                          capture_output=True, text=True, timeout=30, check=True).stdout


def test_backup_and_restore_with_the_user_password_credential(server, tmp_path):
    nats_cli(server, "stream", "add", STREAM, "--subjects", "upbackup.>", "--storage", "file", "--defaults")
    nats_cli(server, "pub", "upbackup.x", "m {{Count}}", "--count", "12")
    inv, backups = backup_inventory(tmp_path, STREAM)
    env = injected_env(server["ca"], server["url"], "app", SECRET)

    proc, out = run("backup.yml", inv, env, "-vvv")
    assert proc.returncode == 0, out[-3000:]
    assert SECRET not in out
    (run_dir,) = os.listdir(str(backups))
    assert os.path.isfile(os.path.join(str(backups), run_dir, STREAM, "manifest.json"))

    nats_cli(server, "stream", "rm", STREAM, "-f")
    proc, out = run("restore.yml", inv, env, "-vvv")
    assert proc.returncode == 0, out[-3000:]
    assert SECRET not in out and "%s: 12" % STREAM in out, out[-3000:]
    assert '"messages": 12' in nats_cli(server, "stream", "info", STREAM, "--json")

    # Each variable matters: a wrong password is refused (and not printed either), and without NATS_CA the
    # server's certificate is not trusted.
    proc, out = run("backup.yml", inv, dict(env, NATS_PASSWORD="not-" + SECRET))
    assert proc.returncode != 0 and "uthorization" in out, out[-3000:]
    assert "not-" + SECRET not in out and SECRET not in out
    proc, out = run("backup.yml", inv, {k: v for k, v in env.items() if k != "NATS_CA"})
    assert proc.returncode != 0 and SECRET not in out, out[-3000:]
    assert "certificate" in out.lower(), out[-3000:]
    nats_cli(server, "stream", "rm", STREAM, "-f")
