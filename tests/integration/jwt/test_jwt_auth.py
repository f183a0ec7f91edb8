"""Issue 15, first layer: the nkey, operator_jwt, account_jwt and user_jwt modules against a real nats-server in
operator mode (memory resolver), nats-py, the NATS CLI and @nats-io/jwt."""
import asyncio
import json
import os
import shutil
import stat
import subprocess
import tempfile
import time

import nats
import nats.js.api
import nats.js.errors
import pytest

from conftest import OperatorServer, nats_cli, node_checker
from plays import run_play

NS = "natsops.jetstream."
USERS = ("alice", "bob", "revoked", "jsuser", "scoped", "expiring", "tieruser")


@pytest.fixture(scope="module")
def lab():
    """Keys, JWTs and .creds files made by one playbook, and a server that trusts them."""
    work = tempfile.mkdtemp(prefix="natsops-jwt-lab-")
    keys, jwts, creds = os.path.join(work, "keys"), os.path.join(work, "jwt"), os.path.join(work, "creds")
    revoke_at = int(time.time()) + 3600  # every JWT of the revoked user issued before this is refused
    nkeys = [("operator", "operator"), ("operator-signing", "operator"), ("sys", "account"), ("app", "account"),
             ("app-signing", "account"), ("app-scoped", "account"), ("tiered", "account")] + [(u, "user") for u in USERS]
    tasks = [{"name": "nkeys", NS + "nkey": {"name": "{{ item.0 }}", "type": "{{ item.1 }}", "dir": keys},
              "loop": nkeys, "register": "k"},
             {"set_fact": {"pk": "{{ dict(k.results | map(attribute='item.0') | zip(k.results | "
                                 "map(attribute='public_key'))) }}"}}]
    tasks += operator_tasks(keys, jwts) + account_tasks(keys, jwts, revoke_at) + user_tasks(keys, jwts, creds)
    results, stdout = run_play(work, tasks)
    pk = dict((r["item"][0], r["public_key"]) for r in results[0]["results"])
    server = OperatorServer(os.path.join(jwts, "operator.jwt"), pk["sys"],
                            {pk["sys"]: os.path.join(jwts, "SYS.jwt"), pk["app"]: os.path.join(jwts, "APP.jwt"),
                             pk["tiered"]: os.path.join(jwts, "TIERED.jwt")})
    server.start()
    yield dict(work=work, keys=keys, jwts=jwts, creds=creds, pk=pk, server=server, tasks=tasks, results=results,
               revoke_at=revoke_at, stdout=stdout)
    server.stop()
    shutil.rmtree(work, ignore_errors=True)


def operator_tasks(keys, jwts):
    return [{"name": "operator", NS + "operator_jwt": {
        "path": os.path.join(jwts, "operator.jwt"), "name": "natsops-test",
        "seed_file": os.path.join(keys, "operator.nk"), "signing_keys": ["{{ pk['operator-signing'] }}"],
        "system_account": "{{ pk['sys'] }}", "operator_service_urls": ["nats://127.0.0.1:4222"]}}]


def account_tasks(keys, jwts, revoke_at):
    return [
        {"name": "system account", NS + "account_jwt": {
            "path": os.path.join(jwts, "SYS.jwt"), "name": "SYS", "seed_file": os.path.join(keys, "sys.nk"),
            "issuer_seed_file": os.path.join(keys, "operator-signing.nk"),
            "operator_jwt": os.path.join(jwts, "operator.jwt")}},
        {"name": "application account", NS + "account_jwt": {
            "path": os.path.join(jwts, "APP.jwt"), "name": "APP", "public_key": "{{ pk['app'] }}",
            "issuer_seed_file": os.path.join(keys, "operator-signing.nk"),
            "operator_jwt": os.path.join(jwts, "operator.jwt"),
            "limits": {"conn": 100, "payload": "1MiB"},
            "jetstream": {"mem_storage": "64MiB", "disk_storage": "64MiB", "streams": 2, "consumer": 10},
            "signing_keys": ["{{ pk['app-signing'] }}",
                             {"key": "{{ pk['app-scoped'] }}", "role": "readers",
                              "template": {"pub": {"allow": ["_INBOX.>"]}, "sub": {"allow": ["scoped.>", "_INBOX.>"]}}}],
            "revocations": "{{ {pk['revoked']: %d} }}" % revoke_at,
            "exports": [{"name": "orders", "subject": "orders.>", "type": "stream"}],
            "description": "the test application"}},
        {"name": "account with JetStream tiers", NS + "account_jwt": {
            "path": os.path.join(jwts, "TIERED.jwt"), "name": "TIERED", "seed_file": os.path.join(keys, "tiered.nk"),
            "issuer_seed_file": os.path.join(keys, "operator.nk"), "operator_jwt": os.path.join(jwts, "operator.jwt"),
            "jetstream_tiers": {"R1": {"mem_storage": "32MiB", "disk_storage": "32MiB", "streams": 1},
                                "R3": {"mem_storage": "16MiB", "disk_storage": "16MiB", "streams": 3}}}},
    ]


def user_tasks(keys, jwts, creds):
    def user(name, issuer="app.nk", account="APP.jwt", **claims):
        args = {"name": name, "seed_file": os.path.join(keys, name + ".nk"),
                "issuer_seed_file": os.path.join(keys, issuer), "account_jwt": os.path.join(jwts, account),
                "path": os.path.join(jwts, name + ".jwt"), "creds_path": os.path.join(creds, name + ".creds")}
        args.update(claims)
        return {"name": "user " + name, NS + "user_jwt": args}
    return [
        user("alice", issuer="app-signing.nk", pub={"allow": ["app.>", "_INBOX.>"], "deny": ["app.secret"]},
             sub={"allow": ["app.>", "_INBOX.>"]}),
        user("bob", pub={"allow": ["bob.>", "_INBOX.>"]}, sub={"allow": ["bob.>", "_INBOX.>"]}, resp={"max": 1, "ttl": "5s"},
             allowed_connection_types=["STANDARD"], src=["127.0.0.0/8"]),
        user("revoked"),
        user("jsuser"),
        user("scoped", issuer="app-scoped.nk"),
        user("tieruser", issuer="tiered.nk", account="TIERED.jwt"),
    ]


def read(path):
    with open(path) as f:
        return f.read()


# --------------------------------------------------------------------------------------------------------------
# files, formats, idempotence
# --------------------------------------------------------------------------------------------------------------

def test_files_modes_and_no_seed_in_output(lab):
    for name in ("operator", "app", "alice"):
        path = os.path.join(lab["keys"], name + ".nk")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert read(path).startswith({"operator": "SO", "app": "SA", "alice": "SU"}[name])
    assert stat.S_IMODE(os.stat(lab["keys"]).st_mode) == 0o700
    for user in ("alice", "bob"):
        assert stat.S_IMODE(os.stat(os.path.join(lab["creds"], user + ".creds")).st_mode) == 0o600
    # no seed of any key appears in what the play printed (every result, diff included)
    for name in os.listdir(lab["keys"]):
        assert read(os.path.join(lab["keys"], name)).strip() not in lab["stdout"]


def test_creds_file_is_nsc_format(lab):
    text = read(os.path.join(lab["creds"], "alice.creds"))
    token = read(os.path.join(lab["jwts"], "alice.jwt")).strip()
    seed = read(os.path.join(lab["keys"], "alice.nk")).strip()
    # nats.go jwt.FormatUserConfig / nsc generate creds, byte for byte
    assert text == ("-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
                    "************************* IMPORTANT *************************\n"
                    "NKEY Seed printed below can be used to sign and prove identity.\n"
                    "NKEYs are sensitive and should be treated as secrets.\n\n"
                    "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n"
                    "*************************************************************\n" % (token, seed))


def test_second_run_changes_nothing(lab):
    before = dict((n, read(os.path.join(lab["jwts"], n))) for n in os.listdir(lab["jwts"]))
    results, dummy = run_play(lab["work"], lab["tasks"])
    changed = [r.get("item", r.get("invocation", {}).get("module_args", {}).get("name")) for r in results
               if r.get("changed")] + [x["item"] for r in results for x in r.get("results", []) if x.get("changed")]
    assert changed == []
    after = dict((n, read(os.path.join(lab["jwts"], n))) for n in os.listdir(lab["jwts"]))
    assert before == after  # not signed again: same iat and jti


def test_check_mode_and_diff_show_claim_changes_without_signing(lab):
    tasks = list(lab["tasks"][:2]) + [t for t in lab["tasks"] if t.get("name") == "application account"]
    changed = json.loads(json.dumps(tasks))
    changed[-1][NS + "account_jwt"]["jetstream"]["streams"] = 5
    path = os.path.join(lab["jwts"], "APP.jwt")
    before = read(path)
    results, dummy = run_play(lab["work"], changed, check=True, diff=True)
    res = results[-1]
    assert res["changed"] and res["operation"] == "updated"
    assert res["changes"] == ["nats.limits.streams"]
    assert res["diff"]["before"]["nats"]["limits"]["streams"] == 2
    assert res["diff"]["after"]["nats"]["limits"]["streams"] == 5
    assert read(path) == before


# --------------------------------------------------------------------------------------------------------------
# independent implementations: @nats-io/jwt, nats-py, the NATS CLI
# --------------------------------------------------------------------------------------------------------------

def test_nats_io_jwt_decodes_and_verifies(lab):
    check = node_checker()
    jwts = dict((n[:-4], read(os.path.join(lab["jwts"], n)).strip()) for n in os.listdir(lab["jwts"]))
    creds = dict((u, os.path.join(lab["creds"], u + ".creds")) for u in ("alice", "bob", "scoped"))
    out = check(jwts=jwts, creds=creds)
    pk = lab["pk"]
    for label, res in out["jwts"].items():
        assert res["ok"], (label, res)
        assert res["header"] == {"typ": "JWT", "alg": "ed25519-nkey"}
        assert res["claims"]["nats"]["version"] == 2
    op, app, alice = out["jwts"]["operator"]["claims"], out["jwts"]["APP"]["claims"], out["jwts"]["alice"]["claims"]
    assert op["iss"] == op["sub"] == pk["operator"] and op["nats"]["system_account"] == pk["sys"]
    assert app["iss"] == pk["operator-signing"] and app["sub"] == pk["app"]
    assert app["nats"]["limits"]["streams"] == 2 and app["nats"]["limits"]["mem_storage"] == 64 * 1024 * 1024
    assert alice["iss"] == pk["app-signing"] and alice["nats"]["issuer_account"] == pk["app"]
    assert alice["nats"]["pub"] == {"allow": ["app.>", "_INBOX.>"], "deny": ["app.secret"]}
    assert out["jwts"]["bob"]["claims"]["nats"]["resp"] == {"max": 1, "ttl": 5000000000}
    for user in ("alice", "bob", "scoped"):
        c = out["creds"][user]
        assert c["ok"] and c["signs"] and c["public_key"] == pk[user] and c["aid"] == pk["app"], c


def test_node_refuses_a_tampered_jwt(lab):
    check = node_checker()
    token = read(os.path.join(lab["jwts"], "alice.jwt")).strip()
    head, body, sig = token.split(".")
    import base64
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["nats"]["pub"]["allow"].append(">")
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    out = check(jwts={"forged": "%s.%s.%s" % (head, forged, sig)})
    assert not out["jwts"]["forged"]["ok"]


async def _session(url, creds, **kw):
    errors = []

    async def error_cb(exc):
        errors.append(str(exc))
    nc = await nats.connect(url, user_credentials=creds, error_cb=error_cb, allow_reconnect=False,
                            connect_timeout=3, max_reconnect_attempts=0, **kw)
    return nc, errors


def test_nats_py_connects_with_creds_and_permissions_hold(lab):
    url, creds = lab["server"].url, os.path.join(lab["creds"], "alice.creds")

    async def run():
        nc, errors = await _session(url, creds)
        got = []

        async def cb(msg):
            got.append(msg.subject)
        sub = await nc.subscribe("app.>", cb=cb)
        await nc.publish("app.orders", b"1")
        await nc.flush()
        await nc.publish("app.secret", b"2")   # denied
        await nc.publish("other.subject", b"3")  # not allowed
        await nc.flush()
        await asyncio.sleep(0.5)
        await sub.unsubscribe()
        try:
            await nc.subscribe("bob.x")  # not allowed for alice
            await nc.flush()
            await asyncio.sleep(0.3)
        finally:
            await nc.close()
        return got, errors
    got, errors = asyncio.run(run())
    assert got == ["app.orders"]
    text = " ".join(errors).lower()  # nats-py lower-cases the server's -ERR
    assert 'permissions violation for publish to "app.secret"' in text
    assert 'permissions violation for publish to "other.subject"' in text
    assert 'permissions violation for subscription to "bob.x"' in text


def test_scoped_signing_key_template_applies(lab):
    url, creds = lab["server"].url, os.path.join(lab["creds"], "scoped.creds")

    async def run():
        nc, errors = await _session(url, creds)
        await nc.subscribe("scoped.x")
        await nc.publish("scoped.x", b"1")  # template allows publish on _INBOX.> only
        await nc.flush()
        await asyncio.sleep(0.3)
        await nc.close()
        return errors
    errors = asyncio.run(run())
    assert errors and 'permissions violation for publish to "scoped.x"' in " ".join(errors).lower()


def cli(lab, user, *args):
    binary = nats_cli()
    if not binary:
        pytest.skip("the NATS CLI is not installed (scripts/tools.sh)")
    return subprocess.run([binary, "--server", lab["server"].url, "--creds", os.path.join(lab["creds"], user + ".creds"),
                           "--timeout", "3s"] + list(args), capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, HOME=lab["work"]), check=False)


def test_nats_cli_accepts_creds(lab):
    ok = cli(lab, "bob", "pub", "bob.hello", "hi")
    assert ok.returncode == 0, ok.stderr
    check = cli(lab, "bob", "server", "check", "connection")
    assert check.returncode == 0 and "OK" in check.stdout, check.stdout + check.stderr
    denied = cli(lab, "bob", "pub", "app.orders", "hi")
    assert denied.returncode != 0
    assert 'Permissions Violation for Publish to "app.orders"' in denied.stdout + denied.stderr
    info = cli(lab, "jsuser", "account", "info")
    assert info.returncode == 0, info.stderr
    assert lab["pk"]["app"] in info.stdout


def test_revoked_user_is_refused(lab):
    url = lab["server"].url

    async def connect(user):
        nc, dummy = await _session(url, os.path.join(lab["creds"], user + ".creds"))
        await nc.close()
    with pytest.raises(Exception) as err:
        asyncio.run(connect("revoked"))
    assert "authorization violation" in str(err.value).lower()
    asyncio.run(connect("jsuser"))  # same account, not revoked
    res = cli(lab, "revoked", "server", "check", "connection")
    assert res.returncode != 0


def test_expired_user_is_refused(lab):
    exp = int(time.time()) + 8
    args = dict(user_tasks(lab["keys"], lab["jwts"], lab["creds"])[0][NS + "user_jwt"], name="expiring", expires=exp,
                seed_file=os.path.join(lab["keys"], "expiring.nk"), path=os.path.join(lab["jwts"], "expiring.jwt"),
                creds_path=os.path.join(lab["creds"], "expiring.creds"))
    task = {"name": "expiring", NS + "user_jwt": args}
    results, dummy = run_play(lab["work"], [task])
    assert results[0]["claims"]["exp"] == exp
    creds = os.path.join(lab["creds"], "expiring.creds")

    async def connect():
        nc, dummy = await _session(lab["server"].url, creds)
        await nc.close()
    if time.time() < exp - 1:
        asyncio.run(connect())  # valid until exp
    time.sleep(max(0, exp - time.time()) + 1.5)
    with pytest.raises(Exception) as err:
        asyncio.run(connect())
    assert "authorization violation" in str(err.value).lower()


def test_account_jetstream_max_streams_enforced(lab):
    creds = os.path.join(lab["creds"], "jsuser.creds")

    async def run():
        nc, dummy = await _session(lab["server"].url, creds)
        js = nc.jetstream()
        try:
            info = await js.account_info()
            await js.add_stream(name="S1", subjects=["s1.>"], storage=nats.js.api.StorageType.MEMORY)
            await js.add_stream(name="S2", subjects=["s2.>"], storage=nats.js.api.StorageType.MEMORY)
            with pytest.raises(nats.js.errors.BadRequestError) as err:
                await js.add_stream(name="S3", subjects=["s3.>"], storage=nats.js.api.StorageType.MEMORY)
            await js.delete_stream("S2")
            # a stream reserving more than the account's 64 MiB of memory storage
            with pytest.raises(nats.js.errors.APIError) as big:
                await js.add_stream(name="BIG", subjects=["big.>"], storage=nats.js.api.StorageType.MEMORY,
                                    max_bytes=100 * 1024 * 1024)
            return info, err.value, big.value
        finally:
            await nc.close()
    info, err, big = asyncio.run(run())
    assert info.limits.max_streams == 2 and info.limits.max_memory == 64 * 1024 * 1024
    assert info.limits.max_storage == 64 * 1024 * 1024
    assert "maximum number of streams reached" in str(err).lower(), str(err)
    assert "insufficient" in str(big).lower() or "exceeds" in str(big).lower(), str(big)


# --------------------------------------------------------------------------------------------------------------
# bad input fails before anything is signed
# --------------------------------------------------------------------------------------------------------------

def test_bad_input_is_refused_before_signing(lab):
    keys, jwts, creds = lab["keys"], lab["jwts"], lab["creds"]
    target = os.path.join(lab["work"], "bad")
    base = {"name": "carol", "seed_file": os.path.join(keys, "bob.nk"), "issuer_seed_file": os.path.join(keys, "app.nk"),
            "path": os.path.join(target, "carol.jwt"), "creds_path": os.path.join(target, "carol.creds")}
    cases = [
        (dict(base, issuer_seed_file=os.path.join(keys, "alice.nk")),
         "issuer_seed_file (%s): this is the seed of a user key (SU...), an account seed (SA...) is needed"
         % os.path.join(keys, "alice.nk")),
        (dict(dict((k, v) for k, v in base.items() if k != "issuer_seed_file"),
              issuer_seed="{{ lookup('file', '%s') }}" % os.path.join(keys, "operator.nk")),
         "issuer_seed: this is the seed of an operator key (SO...), an account seed (SA...) is needed"),
        (dict(base, pub={"allow": ["app..x"]}), "pub.allow: 'app..x' is not a subject"),
        (dict(base, pub={"allow": ["app.>.x"]}), "pub.allow: 'app.>.x' is not a subject: > must be the last token"),
        (dict(base, pub={"allow": ["a b"]}), "pub.allow: 'a b' is not a subject: subjects have no spaces"),
        (dict(base, pub={"alow": ["app.>"]}), "alow"),
        (dict(base, expires="2020-01-01T00:00:00Z"), "expires: '2020-01-01T00:00:00Z' (2020-01-01T00:00:00Z) is not "
                                                     "in the future"),
        (dict(base, allowed_connection_types=["TELNET"]), "TELNET"),
        (dict(base, src=["10.0.0.0/33"]), "src: '10.0.0.0/33' is not a network"),
        (dict(base, account_jwt=os.path.join(jwts, "NOPE.jwt")), "account_jwt: no account JWT at %s"
         % os.path.join(jwts, "NOPE.jwt")),
        (dict(base, account_jwt=os.path.join(jwts, "APP.jwt"), issuer_seed_file=os.path.join(keys, "sys.nk")),
         "is neither the account %s nor one of its signing keys" % lab["pk"]["app"]),
        (dict(base, account_jwt=os.path.join(jwts, "APP.jwt"), issuer_seed_file=os.path.join(keys, "app-scoped.nk"),
              pub={"allow": ["x"]}), "pub: the issuer is a scoped signing key"),
    ]
    tasks = [{"name": "case %d" % i, NS + "user_jwt": args, "ignore_errors": True} for i, (args, dummy) in
             enumerate(cases)]
    tasks.append({"name": "account with a user seed as issuer", NS + "account_jwt": {
        "path": os.path.join(target, "X.jwt"), "name": "X", "public_key": lab["pk"]["app"],
        "issuer_seed_file": os.path.join(keys, "app.nk")}, "ignore_errors": True})
    tasks.append({"name": "account with an unknown limit", NS + "account_jwt": {
        "path": os.path.join(target, "X.jwt"), "name": "X", "public_key": lab["pk"]["app"],
        "issuer_seed_file": os.path.join(keys, "operator.nk"), "jetstream": {"max_streams": 3}}, "ignore_errors": True})
    tasks.append({"name": "account signed by a stranger", NS + "account_jwt": {
        "path": os.path.join(target, "X.jwt"), "name": "X", "public_key": lab["pk"]["app"],
        "issuer_seed_file": os.path.join(keys, "operator.nk"), "operator_jwt": os.path.join(jwts, "operator.jwt"),
        "imports": [{"subject": "x", "account": lab["pk"]["alice"], "type": "stream"}]}, "ignore_errors": True})
    results, stdout = run_play(lab["work"], tasks, expect_fail=True)
    for (args, message), res in zip(cases, results):
        assert res.get("failed"), (args, res)
        assert message in res["msg"], (message, res["msg"])
    assert "issuer_seed_file (%s): this is the seed of an account key (SA...), an operator seed (SO...) is needed" \
        % os.path.join(keys, "app.nk") in results[len(cases)]["msg"]
    assert "jetstream: unknown key max_streams" in results[len(cases) + 1]["msg"]
    assert "imports[0].account: %s is the public key of a user" % lab["pk"]["alice"] in results[len(cases) + 2]["msg"]
    assert not os.path.exists(target)  # nothing written
    for name in os.listdir(keys):
        assert read(os.path.join(keys, name)).strip() not in stdout


def test_nkey_module(lab):
    d = os.path.join(lab["work"], "nk")
    path = os.path.join(d, "k1.nk")
    seed = read(os.path.join(lab["keys"], "alice.nk")).strip()
    tasks = [
        {"name": "check mode", NS + "nkey": {"name": "k1", "type": "account", "dir": d}, "check_mode": True},
        {"name": "create", NS + "nkey": {"name": "k1", "type": "account", "dir": d}},
        {"name": "again", NS + "nkey": {"name": "k1", "type": "account", "dir": d}},
        {"name": "wrong type", NS + "nkey": {"name": "k1", "type": "user", "dir": d}, "ignore_errors": True},
        {"name": "vault seed of the wrong type", NS + "nkey": {"name": "k2", "type": "account", "dir": d,
                                                               "seed": seed}, "ignore_errors": True},
        {"name": "vault seed", NS + "nkey": {"name": "k3", "type": "user", "dir": d, "seed": seed}},
        {"name": "mode", "ansible.builtin.file": {"path": path, "mode": "0644"}},
        {"name": "mode fixed", NS + "nkey": {"path": path, "type": "account"}},
    ]
    results, stdout = run_play(lab["work"], tasks, expect_fail=True)
    check, create, again, wrong, wrong_seed, vault, dummy, mode = results
    assert check["changed"] and check["operation"] == "created" and "public_key" not in check
    assert create["changed"] and create["public_key"].startswith("A")
    assert create["diff"]["after"]["public_key"] == create["public_key"] and create["diff"]["before"] == {}
    assert not again["changed"] and again["public_key"] == create["public_key"]
    assert wrong["failed"] and "this is the seed of an account key (SA...), a user seed (SU...) is needed" in wrong["msg"]
    assert wrong_seed["failed"] and "seed: this is the seed of a user key" in wrong_seed["msg"]
    assert vault["changed"] and vault["public_key"] == lab["pk"]["alice"]
    assert read(os.path.join(d, "k3.nk")).strip() == seed
    assert mode["changed"] and mode["operation"] == "mode"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert not os.path.exists(os.path.join(d, "k2.nk"))
    assert seed not in stdout and read(path).strip() not in stdout


def test_nats_cli_imports_the_operator_jwt(lab):
    """The CLI's operator store (nsc's layout, nats.go's jwt/v2 decoder) takes the operator JWT and its keys."""
    binary = nats_cli()
    if not binary:
        pytest.skip("the NATS CLI is not installed (scripts/tools.sh)")
    home = tempfile.mkdtemp(prefix="natsops-jwt-cli-", dir=lab["work"])
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_DATA_HOME=os.path.join(home, ".data"))
    res = subprocess.run([binary, "auth", "operator", "import", os.path.join(lab["jwts"], "operator.jwt"),
                          os.path.join(lab["keys"], "operator.nk"), os.path.join(lab["keys"], "operator-signing.nk")],
                         capture_output=True, text=True, timeout=30, env=env, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    info = subprocess.run([binary, "auth", "operator", "info", "natsops-test"], capture_output=True, text=True,
                          timeout=30, env=env, check=False)
    assert info.returncode == 0, info.stdout + info.stderr
    assert "Subject: %s" % lab["pk"]["operator"] in info.stdout
    assert lab["pk"]["operator-signing"] in info.stdout and "nats://127.0.0.1:4222" in info.stdout


def test_account_jetstream_tiers_enforced(lab):
    """Per-replica-tier limits (the claim nats-jwt drops): the R1 tier allows one stream."""
    creds = os.path.join(lab["creds"], "tieruser.creds")

    async def run():
        nc, dummy = await _session(lab["server"].url, creds)
        js = nc.jetstream()
        try:
            info = await js.account_info()
            await js.add_stream(name="T1", subjects=["t1.>"], storage=nats.js.api.StorageType.MEMORY)
            with pytest.raises(nats.js.errors.BadRequestError) as err:
                await js.add_stream(name="T2", subjects=["t2.>"], storage=nats.js.api.StorageType.MEMORY)
            return info, err.value
        finally:
            await nc.close()
    info, err = asyncio.run(run())
    assert sorted(info.tiers) == ["R1", "R3"], info
    assert info.tiers["R1"].limits.max_streams == 1 and info.tiers["R3"].limits.max_streams == 3
    assert info.tiers["R1"].limits.max_memory == 32 * 1024 * 1024
    assert "maximum number of streams reached" in str(err).lower(), str(err)
