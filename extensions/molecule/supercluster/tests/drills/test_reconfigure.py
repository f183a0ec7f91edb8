"""A permission change on the running supercluster is a reload everywhere, and the next run puts it back (runs once,
from c1-n1). A reload nats-server refuses and password mode in one cluster are steps of their own
(steps/rejected.yml, steps/password.yml)."""
import asyncio
import json

import nats

from scenario import once, pids, run_site, tls_context, urls


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
