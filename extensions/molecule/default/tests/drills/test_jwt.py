"""Decentralized auth on a real node (systemd, SSH, nats-server 2.15.1), and the migration to it with data.

One module of steps, each a real ansible-playbook run (the collection's modules and the server role) and real
clients (nats-py): the node is converged in password mode with TLS (config-file accounts), a stream gets messages,
it is backed up; operator, account and user keys and JWTs are made; the node is converged in jwt mode (full
resolver); a second converge changes nothing; the stream is restored into the new account with the same messages;
account JWTs are pushed without a restart (a new account, a revocation). At the end the node is converged back to
the scenario's own settings (no auth, no TLS), so tests/converged/ runs the same before or after this file."""
import asyncio
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time

import nats
import nats.js.errors
import pytest

NS = "natsops.jetstream."
ADDRESS = "172.30.96.10"
STREAM, SUBJECTS = "MIGRATE", ["mig.>"]
MESSAGES = [("mig.%d" % (i % 3), ("message %d " % i).encode() * (i + 1)) for i in range(25)]


def _env():
    root = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    return root, dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(root, ".cache", "collections"),
                      ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


def playbook(path, extra=None, timeout=300, check=True):
    """ansible-playbook against the scenario's inventory; returns the output in one line."""
    root, env = _env()
    cmd = [os.path.join(root, ".venv", "bin", "ansible-playbook"),
           "-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]), path]
    if extra is not None:
        extra_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(extra, extra_file)
        extra_file.close()
        cmd += ["-e", "@" + extra_file.name]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    out = proc.stdout + proc.stderr
    if check:
        assert proc.returncode == 0, out[-6000:]
    return proc.returncode, out


def site(extra):
    root, dummy = _env()
    return playbook(os.path.join(root, "playbooks", "site.yml"), extra)


def local_play(work, name, tasks):
    """A play on the controller (the collection's JWT, backup and restore modules run there)."""
    path = os.path.join(work, name + ".yml")
    with open(path, "w") as f:
        json.dump([{"name": name, "hosts": "localhost", "connection": "local", "gather_facts": False,
                    "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, "tasks": tasks}], f)
    return playbook(path)


def recap(out):
    line = [ln for ln in out.splitlines() if ln.startswith("natsops-single")][-1]
    return dict(kv.split("=") for kv in line.split(":", 1)[1].split())


def node(host, cmd):
    with host.sudo():
        return host.check_output(cmd)


def pid(host):
    return node(host, "systemctl show -p MainPID --value nats-server")


async def _connect(url, **kw):
    return await nats.connect(url, connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=0, **kw)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def _messages(url, **kw):
    nc = await _connect(url, **kw)
    try:
        js = nc.jetstream()
        info = await js.stream_info(STREAM)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(STREAM, seq)
            out.append((msg.subject, msg.data))
        return info.config.subjects, out
    finally:
        await nc.close()


async def _refused(url, **kw):
    try:
        nc = await _connect(url, **kw)
    except Exception as exc:  # nats-py raises several kinds for an authorization violation
        return str(exc) or type(exc).__name__
    await nc.close()
    return None


@pytest.fixture(scope="module")
def mig(host):
    """Password mode with TLS and a stream with messages, backed up; then JWTs made and the node in jwt mode."""
    work = tempfile.mkdtemp(prefix="natsops-molecule-jwt-")
    keys, jwts, creds = (os.path.join(work, d) for d in ("keys", "jwt", "creds"))
    pki, secrets, backup = (os.path.join(work, d) for d in ("pki", "secrets", "backup"))
    os.makedirs(backup)
    ca = os.path.join(pki, "ca.crt")
    tls = {"nats_server_tls_enabled": True, "nats_pki_dir": pki, "nats_server_secrets_dir": secrets}
    timings = {}

    # 1. Config-file accounts: password mode (it needs TLS on the client port), as a site would run today.
    started = time.time()
    site(dict(tls, nats_server_auth_mode="password"))
    timings["converge password+tls"] = time.time() - started
    url = "tls://%s:4222" % ADDRESS
    ctx = ssl.create_default_context(cafile=ca)
    with open(os.path.join(secrets, "users", "admin")) as f:
        password = f.read().split()[0]

    async def fill():
        nc = await _connect(url, tls=ctx, user="admin", password=password)
        try:
            js = nc.jetstream()
            try:  # left by an interrupted run
                await js.delete_stream(STREAM)
            except nats.js.errors.NotFoundError:
                pass
            await js.add_stream(name=STREAM, subjects=SUBJECTS)
            for subject, data in MESSAGES:
                await js.publish(subject, data)
        finally:
            await nc.close()
    run(fill())
    before = run(_messages(url, tls=ctx, user="admin", password=password))
    assert len(before[1]) == len(MESSAGES)

    # 2. Keys and JWTs (operator, system account, application account with JetStream, users), and the backup of
    #    the stream through the old account, in one play on the controller.
    op = os.path.join(jwts, "operator.jwt")
    nkeys = [("operator", "operator"), ("sys", "account"), ("app", "account"), ("other", "account"),
             ("sysadmin", "user"), ("admin", "user"), ("mallory", "user"), ("olive", "user")]
    tasks = [
        {"name": "nkeys", NS + "nkey": {"name": "{{ item.0 }}", "type": "{{ item.1 }}", "dir": keys},
         "loop": nkeys, "register": "k"},
        {"ansible.builtin.set_fact": {"pk": "{{ dict(k.results | map(attribute='item.0') | zip(k.results | "
                                            "map(attribute='public_key'))) }}"}},
        {"name": "pubkeys", "ansible.builtin.copy": {"content": "{{ pk | to_json }}",
                                                     "dest": os.path.join(work, "pk.json"), "mode": "0600"}},
        {"name": "operator", NS + "operator_jwt": {
            "path": op, "name": "molecule", "seed_file": os.path.join(keys, "operator.nk"),
            "system_account": "{{ pk.sys }}"}},
        account_task(keys, jwts, "SYS", "sys"),
        account_task(keys, jwts, "APP", "app", jetstream=True),
        account_task(keys, jwts, "OTHER", "other"),
        user_task(keys, jwts, creds, "sysadmin", "SYS"),
        user_task(keys, jwts, creds, "admin", "APP"),
        user_task(keys, jwts, creds, "mallory", "APP"),
        user_task(keys, jwts, creds, "olive", "OTHER"),
        {"name": "back up the stream through the old account", NS + "stream_backup": {
            "servers": [url], "tls_ca": ca, "user": "admin", "password": password, "stream": STREAM,
            "dest": os.path.join(backup, STREAM)}, "no_log": True},
    ]
    started = time.time()
    local_play(work, "keys-and-backup", tasks)
    timings["keys, JWTs and backup"] = time.time() - started
    with open(os.path.join(work, "pk.json")) as f:
        pk = json.load(f)
    # The backup is complete (its manifest written after the checksum): the stream goes from the old account, and
    # the account's JetStream directory from the store. In operator mode nats-server would try to resolve 'APP' as
    # an account public key for that directory, and /healthz would fail ("JetStream account 'APP' could not be
    # resolved"), so the canary would roll the switch back.
    assert os.path.isfile(os.path.join(backup, STREAM, "manifest.json"))

    async def drop_old():
        nc = await _connect(url, tls=ctx, user="admin", password=password)
        try:
            await nc.jetstream().delete_stream(STREAM)
        finally:
            await nc.close()
    run(drop_old())
    node(host, "rm -rf /var/lib/nats/jetstream/APP")

    def read(name):
        with open(os.path.join(jwts, name + ".jwt")) as f:
            return f.read().strip()

    # 3. jwt mode, full resolver: the system account and (as a bootstrap) the application account preloaded.
    jwt_vars = dict(tls, nats_server_auth_mode="jwt", nats_server_jwt_operator_file=op,
                    nats_server_jwt_system_account=pk["sys"],
                    nats_server_jwt_resolver_preload={pk["sys"]: read("SYS"), pk["app"]: read("APP")},
                    nats_server_jwt_allow_delete=True,
                    nats_server_probe_creds=os.path.join(creds, "admin.creds"))
    pid_before = pid(host)
    started = time.time()
    dummy, out = site(jwt_vars)
    timings["converge jwt"] = time.time() - started
    state = dict(work=work, keys=keys, jwts=jwts, creds=creds, pk=pk, op=op, ca=ca, ctx=ctx, url=url,
                 before=before, backup=backup, jwt_vars=jwt_vars, first_out=out, pid_before=pid_before,
                 timings=timings, password=password, pki=pki)
    yield state

    # Back to the scenario's own settings (no auth, no TLS); the migrated stream is removed first.
    async def drop():
        nc = await _connect(url, tls=ctx, user_credentials=os.path.join(creds, "admin.creds"))
        try:
            await nc.jetstream().delete_stream(STREAM)
        finally:
            await nc.close()
    try:
        run(drop())
        node(host, "rm -rf /var/lib/nats/jetstream/%s /var/lib/nats/jwt" % pk["app"])
    finally:
        started = time.time()
        site({})
        timings["converge back to none"] = time.time() - started
        print("step timings (s): %s" % json.dumps(dict((k, round(v, 1)) for k, v in timings.items())))
        shutil.rmtree(work, ignore_errors=True)


def account_task(keys, jwts, name, key, jetstream=False, revocations=None):
    args = {"path": os.path.join(jwts, name + ".jwt"), "name": name, "seed_file": os.path.join(keys, key + ".nk"),
            "issuer_seed_file": os.path.join(keys, "operator.nk"), "operator_jwt": os.path.join(jwts, "operator.jwt")}
    if jetstream:
        args["jetstream"] = {"mem_storage": "64MiB", "disk_storage": "256MiB", "streams": 10}
    if revocations:
        args["revocations"] = revocations
    return {"name": "account " + name, NS + "account_jwt": args}


def user_task(keys, jwts, creds, name, account):
    return {"name": "user " + name, NS + "user_jwt": {
        "name": name, "seed_file": os.path.join(keys, name + ".nk"),
        "issuer_seed_file": os.path.join(keys, account.lower() + ".nk"),
        "account_jwt": os.path.join(jwts, account + ".jwt"), "creds_path": os.path.join(creds, name + ".creds")}}


def test_jwt_mode_is_rendered_and_the_canary_probed_with_creds(host, mig):
    out = " ".join(mig["first_out"].split())
    # Switching the auth mode restarts the running node (system_account and operator cannot be reloaded), as the
    # canary, probed from the controller with the admin user's .creds.
    assert "(canary) needs a restart: system_account, jwt" in out
    assert "Probe it from the controller with a user's .creds" in out
    assert pid(host) != mig["pid_before"]
    with host.sudo():
        conf = host.file("/etc/nats-server/nats-server.conf").content_string
    assert "operator: \"eyJ" in conf and "system_account: \"%s\"" % mig["pk"]["sys"] in conf
    assert "type: full" in conf and "dir: \"/var/lib/nats/jwt\"" in conf and "allow_delete: true" in conf
    assert "accounts {" not in conf and "password" not in conf
    assert node(host, "stat -c %U /var/lib/nats/jwt") == "nats"


def test_old_password_user_is_refused_and_creds_connect(host, mig):
    err = run(_refused(mig["url"], tls=mig["ctx"], user="admin", password=mig["password"]))
    assert err is not None and "authorization" in err.lower()
    assert run(_refused(mig["url"], tls=mig["ctx"], user_credentials=os.path.join(mig["creds"], "admin.creds"))) is None


def test_second_converge_changes_nothing(host, mig):
    conf = node(host, "sha256sum /etc/nats-server/nats-server.conf")
    before = pid(host)
    started = time.time()
    dummy, out = site(mig["jwt_vars"])
    mig["timings"]["second converge jwt"] = time.time() - started
    assert recap(out)["changed"] == "0", out[-3000:]
    assert node(host, "sha256sum /etc/nats-server/nats-server.conf") == conf
    assert pid(host) == before


def test_stream_restored_into_the_new_account_with_the_same_messages(host, mig):
    admin = os.path.join(mig["creds"], "admin.creds")
    started = time.time()
    local_play(mig["work"], "restore", [{"name": "restore into the application account", NS + "stream_restore": {
        "servers": [mig["url"]], "tls_ca": mig["ca"], "creds": admin, "src": os.path.join(mig["backup"], STREAM)}}])
    mig["timings"]["restore"] = time.time() - started
    after = run(_messages(mig["url"], tls=mig["ctx"], user_credentials=admin))
    assert after == mig["before"]
    assert len(after[1]) == len(MESSAGES)
    # The stream is in the account named by its public key now.
    assert node(host, "test -d /var/lib/nats/jetstream/%s/streams/%s && echo yes" % (mig["pk"]["app"], STREAM)) == "yes"


def test_accounts_pushed_without_restart_and_a_revoked_user_refused(host, mig):
    pk, creds, url, ctx = mig["pk"], mig["creds"], mig["url"], mig["ctx"]
    mallory, olive = os.path.join(creds, "mallory.creds"), os.path.join(creds, "olive.creds")
    before_pid = pid(host)
    conf = node(host, "sha256sum /etc/nats-server/nats-server.conf")
    assert run(_refused(url, tls=ctx, user_credentials=mallory)) is None
    err = run(_refused(url, tls=ctx, user_credentials=olive))  # OTHER is not preloaded: unknown until pushed
    assert err is not None and "authorization" in err.lower()
    revoked = {pk["mallory"]: int(time.time())}
    push = {"servers": [url], "tls_ca": mig["ca"], "creds": os.path.join(creds, "sysadmin.creds"),
            "operator_jwt": mig["op"], "expected_servers": 1,
            "paths": [os.path.join(mig["jwts"], n + ".jwt") for n in ("APP", "OTHER")]}
    started = time.time()
    dummy, out = local_play(mig["work"], "push", [
        account_task(mig["keys"], mig["jwts"], "APP", "app", jetstream=True, revocations=revoked),
        {"name": "push", NS + "account_jwt_push": push, "register": "pushed"},
        {"name": "push again", NS + "account_jwt_push": push, "register": "again"},
        {"ansible.builtin.assert": {"that": ["pushed is changed", "again is not changed"]}}])
    mig["timings"]["push"] = time.time() - started
    err = run(_refused(url, tls=ctx, user_credentials=mallory))
    assert err is not None and "authorization" in err.lower()
    assert run(_refused(url, tls=ctx, user_credentials=olive)) is None
    assert run(_refused(url, tls=ctx, user_credentials=os.path.join(creds, "admin.creds"))) is None
    assert node(host, "test -f /var/lib/nats/jwt/%s.jwt && echo yes" % pk["other"]) == "yes"
    # Neither a restart nor a reload: same process, same config file.
    assert pid(host) == before_pid
    assert node(host, "sha256sum /etc/nats-server/nats-server.conf") == conf


def test_health_playbook_reads_the_node_with_a_system_account_users_creds(host, mig):
    root, dummy = _env()
    started = time.time()
    dummy, out = playbook(os.path.join(root, "playbooks", "health.yml"), {
        "nats_server_tls_enabled": True, "nats_pki_dir": mig["pki"],
        "nats_health_creds": os.path.join(mig["creds"], "sysadmin.creds")})
    mig["timings"]["health.yml"] = time.time() - started
    assert "natsops-single" in out and "failed=0" in out


def test_memory_resolver_resolves_only_the_preloaded_accounts(host, mig):
    """The small-site variant: resolver MEMORY with the preloaded accounts (the application account as last
    signed, with its revocation); changing the resolver's kind restarts the node."""
    pk, creds, url, ctx = mig["pk"], mig["creds"], mig["url"], mig["ctx"]
    with open(os.path.join(mig["jwts"], "APP.jwt")) as f:
        app = f.read().strip()
    memory = dict(mig["jwt_vars"], nats_server_jwt_resolver="memory",
                  nats_server_jwt_resolver_preload=dict(mig["jwt_vars"]["nats_server_jwt_resolver_preload"],
                                                        **{pk["app"]: app}))
    before = pid(host)
    started = time.time()
    site(memory)
    mig["timings"]["converge memory resolver"] = time.time() - started
    assert pid(host) != before
    with host.sudo():
        conf = host.file("/etc/nats-server/nats-server.conf").content_string
    assert "resolver: MEMORY" in conf and "type: full" not in conf
    admin = os.path.join(creds, "admin.creds")
    assert run(_messages(url, tls=ctx, user_credentials=admin)) == mig["before"]
    for user in ("mallory", "olive"):  # revoked in the preloaded JWT; OTHER is not preloaded
        err = run(_refused(url, tls=ctx, user_credentials=os.path.join(creds, user + ".creds")))
        assert err is not None and "authorization" in err.lower(), user
