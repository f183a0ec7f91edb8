"""The "NATS credentials file (natsops)" credential type (awx/credential_types.yml) as a job gets it: the CA and the
.creds file written into a private data directory and only the environment variables its injectors set (NATS_URL,
NATS_CA, NATS_CREDS). backup.yml and restore.yml run with them against a real nats-server in operator mode (memory
resolver) with TLS, the account, user and .creds made by the collection's nkey, operator_jwt, account_jwt and
user_jwt modules. The .creds content appears in no output, even at -vvv; a revoked user's and an unknown account's
.creds are refused."""
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from awxjob import backup_inventory, injected_env, make_pki, run
from natsproc import ROOT
from plays import run_play

NS = "natsops.jetstream."
STREAM = "CREDSBACKUP"
TYPE = "NATS credentials file (natsops)"


def _jwt_helpers():
    """tests/integration/jwt/conftest.py (OperatorServer, nats_cli), loaded under its own name: 'conftest' is
    tests/integration/conftest.py here."""
    spec = importlib.util.spec_from_file_location(
        "natsops_jwt_conftest", os.path.join(ROOT, "tests", "integration", "jwt", "conftest.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


jwt_helpers = _jwt_helpers()


def read(path):
    with open(path) as f:
        return f.read()


@pytest.fixture(scope="module")
def lab():
    """Operator, SYS and APP (JetStream) accounts, users app (the credential's), revoked (revoked in APP's JWT)
    and stranger (of an account the server does not know), made by one playbook; an operator-mode server with the
    memory resolver and the pki role's TLS certificate for n1."""
    work = tempfile.mkdtemp(prefix="natsops-awx-creds-")
    keys, jwts, creds = os.path.join(work, "keys"), os.path.join(work, "jwt"), os.path.join(work, "creds")
    tls = make_pki(os.path.join(work, "pki"))
    op = os.path.join(jwts, "operator.jwt")
    nkeys = [("operator", "operator"), ("sys", "account"), ("app", "account"), ("other", "account"),
             ("app-user", "user"), ("revoked", "user"), ("stranger", "user")]

    def account(name, seed, **extra):
        args = {"path": os.path.join(jwts, name + ".jwt"), "name": name, "seed_file": os.path.join(keys, seed),
                "issuer_seed_file": os.path.join(keys, "operator.nk"), "operator_jwt": op}
        args.update(extra)
        return {"name": "account " + name, NS + "account_jwt": args}

    def user(name, account_name, issuer):
        return {"name": "user " + name, NS + "user_jwt": {
            "name": name, "seed_file": os.path.join(keys, name + ".nk"), "issuer_seed_file": os.path.join(keys, issuer),
            "account_jwt": os.path.join(jwts, account_name + ".jwt"), "creds_path": os.path.join(creds, name + ".creds")}}

    tasks = [
        {"name": "nkeys", NS + "nkey": {"name": "{{ item.0 }}", "type": "{{ item.1 }}", "dir": keys},
         "loop": nkeys, "register": "k"},
        {"set_fact": {"pk": "{{ dict(k.results | map(attribute='item.0') | zip(k.results | "
                            "map(attribute='public_key'))) }}"}},
        {"name": "operator", NS + "operator_jwt": {"path": op, "name": "natsops-awx", "system_account": "{{ pk['sys'] }}",
                                                   "seed_file": os.path.join(keys, "operator.nk")}},
        account("SYS", "sys.nk"),
        account("APP", "app.nk", jetstream={"mem_storage": "64MiB", "disk_storage": "64MiB", "streams": 2},
                revocations="{{ {pk['revoked']: %d} }}" % (int(time.time()) + 3600)),
        account("OTHER", "other.nk", jetstream={"mem_storage": "64MiB", "disk_storage": "64MiB", "streams": 2}),
        user("app-user", "APP", "app.nk"),
        user("revoked", "APP", "app.nk"),
        user("stranger", "OTHER", "other.nk"),
    ]
    results = run_play(work, tasks)[0]
    pk = dict((r["item"][0], r["public_key"]) for r in results[0]["results"])
    # OTHER is signed by the operator but not preloaded: the memory resolver knows SYS and APP only.
    server = jwt_helpers.OperatorServer(op, pk["sys"], {pk["sys"]: os.path.join(jwts, "SYS.jwt"),
                                                        pk["app"]: os.path.join(jwts, "APP.jwt")})
    with open(server.conf, "a") as f:
        f.write('tls { cert_file: "%s", key_file: "%s", timeout: 2 }\n' % (tls["cert"], tls["key"]))
    server.start()
    try:
        yield dict(work=work, creds=creds, ca=tls["ca"], url="tls://127.0.0.1:%d" % server.port, server=server)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def job_env(lab, user, private_dir):
    """What a job with the credential for ``user`` gets: the files in its private data directory, the env."""
    os.makedirs(str(private_dir), exist_ok=True)
    env = injected_env(TYPE, {"servers": lab["url"], "ca": read(lab["ca"]),
                              "creds_key": read(os.path.join(lab["creds"], user + ".creds"))}, private_dir)
    assert set(env) == {"NATS_URL", "NATS_CA", "NATS_CREDS"}
    return env


def secrets(lab, user):
    """The .creds file's seed line and JWT line (neither may be printed)."""
    lines = [line.strip() for line in read(os.path.join(lab["creds"], user + ".creds")).splitlines()]
    seed = [line for line in lines if line.startswith("SU")]
    jwt = [line for line in lines if line.startswith("eyJ")]
    assert len(seed) == 1 and len(jwt) == 1
    return seed + jwt


def nats(env, *args):
    return subprocess.run([jwt_helpers.nats_cli()] + list(args), env=dict(os.environ, **env), capture_output=True,
                          text=True, timeout=30, check=True).stdout


def test_backup_and_restore_with_the_creds_credential(lab, tmp_path):
    env = job_env(lab, "app-user", tmp_path / "job")
    nats(env, "stream", "add", STREAM, "--subjects", "credsbackup.>", "--storage", "file", "--defaults")
    nats(env, "pub", "credsbackup.x", "m {{Count}}", "--count", "15")
    inv, backups = backup_inventory(tmp_path, STREAM)
    hidden = secrets(lab, "app-user")

    proc, out = run("backup.yml", inv, env, "-vvv")
    assert proc.returncode == 0, out[-3000:]
    assert not [s for s in hidden if s in out]
    (run_dir,) = os.listdir(str(backups))
    assert os.path.isfile(os.path.join(str(backups), run_dir, STREAM, "manifest.json"))

    nats(env, "stream", "rm", STREAM, "-f")
    proc, out = run("restore.yml", inv, env, "-vvv")
    assert proc.returncode == 0, out[-3000:]
    assert not [s for s in hidden if s in out]
    assert "%s: 15" % STREAM in out, out[-3000:]
    info = nats(env, "stream", "info", STREAM, "--json")
    assert '"messages": 15' in info, info
    assert nats(env, "stream", "get", STREAM, "15").strip().endswith("m 15")

    # The revoked user's .creds and those of an account the server does not know are refused (and not printed);
    # without NATS_CA the server's certificate is not trusted.
    for user in ("revoked", "stranger"):
        bad = job_env(lab, user, tmp_path / user)
        proc, out = run("backup.yml", inv, bad, "-vvv")
        assert proc.returncode != 0 and "uthorization" in out, out[-3000:]
        assert not [s for s in secrets(lab, user) if s in out]
    proc, out = run("backup.yml", inv, {k: v for k, v in env.items() if k != "NATS_CA"})
    assert proc.returncode != 0 and "certificate" in out.lower(), out[-3000:]
    assert not [s for s in hidden if s in out]
    assert len(os.listdir(str(backups))) == 1
    nats(env, "stream", "rm", STREAM, "-f")
