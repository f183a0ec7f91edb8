"""Reconfiguration drills on the running supercluster, each putting the supercluster back as it found it (runs
once, from c1-n1): a reload nats-server rejects fails the play and the node keeps running; password mode in one
cluster is a rolling restart of that cluster only and back to mTLS; a permission change is a reload everywhere."""
import asyncio
import json
import os
import subprocess
import urllib.request

import nats
import pytest

from scenario import (ALL, SECRETS, container_ip, exercise_roles, once, pids, publish_retrying, run_site, tls_context,
                      urls)


def test_a_reload_nats_server_rejects_fails_the_play_and_the_node_keeps_running(host):
    once(host)
    before = pids()
    # max_closed_clients passes `nats-server -t` but cannot be changed by a reload.
    proc = run_site("--limit", "c3-n3", "-e", json.dumps({"nats_server_extra_config": {"max_closed_clients": 5}}))
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "did not apply the new configuration" in out, out[-3000:]
    assert "config reload not supported for MaxClosedClients" in out
    assert pids() == before
    healthy = json.loads(urllib.request.urlopen("https://%s:8222/healthz" % container_ip("c3-n3"), timeout=3,
                                                context=tls_context(None)).read())
    assert healthy["status"] == "ok"
    back = run_site("--limit", "c3-n3")
    assert back.returncode == 0, back.stdout[-3000:]
    assert pids() == before


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
    await publish_retrying(js, "pw.events.a", b"1")
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
    before = pids()
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
    now = pids()
    assert all(now[n] != before[n] for n in c2) and all(now[n] == before[n] for n in ALL if n not in c2)
    asyncio.run(asyncio.wait_for(exercise_roles(), 120))


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
    before = pids()
    proc = run_site("-e", json.dumps({"nats_server_data_subjects": ["secure.>"]}))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert proc.stdout.count("will reload: configuration") == 9 and "needs a restart" not in proc.stdout
    violations = asyncio.run(asyncio.wait_for(_narrowed_admin(), 60))
    assert any('permissions violation for publish to "other.denied"' in v for v in violations), violations
    assert not any("secure.allowed" in v for v in violations), violations
    back = run_site()
    assert back.returncode == 0 and back.stdout.count("will reload: configuration") == 9, back.stdout[-4000:]
    assert asyncio.run(asyncio.wait_for(_narrowed_admin(), 60)) == []
    assert pids() == before
