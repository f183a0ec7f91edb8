"""After steps/rotate.yml (every certificate re-issued by site.yml): it was a reload on every node, never a restart.
PIDs unchanged, every listener of every node serves a new certificate, /healthz held throughout, no secret in the
step's output, and clients with the re-issued certificates work. Runs once, from c1-n1; changes nothing."""
import asyncio
import json

import nats
import pytest

from scenario import ALL, PORTS, container_ip, once, pids, secrets, served_serial, tls_context, urls
from step_record import record


@pytest.fixture(scope="module")
def rotated():
    return record("rotated")


def test_every_node_reloaded_and_none_restarted(host, rotated):
    once(host)
    before, watch, output = rotated
    assert output.count("will reload: certificates") == 9, output[-4000:]
    assert "needs a restart" not in output
    assert pids() == before["pids"]


def test_every_listener_serves_a_new_certificate(host, rotated):
    once(host)
    before = rotated[0]
    ips = {n: container_ip(n) for n in ALL}
    unchanged = [key for key, serial in before["serials"].items()
                 if str(served_serial(ips[key.split("/")[0]], PORTS[key.split("/")[1]])) == serial]
    assert not unchanged, unchanged


def test_health_held_during_the_rotation(host, rotated):
    once(host)
    watch = rotated[1]
    assert watch["stopped_by"] == "step"
    assert watch["polls"] >= 3 and not watch["bad"], (watch["bad"][:5], watch["blips"][:5])
    print("rotation: %d health polls of 9 nodes, %d single failed polls %s"
          % (watch["polls"], len(watch["blips"]), watch["blips"][:3]))


def test_no_secret_in_the_output(host, rotated):
    once(host)
    output = rotated[2]
    assert "will reload: certificates" in output
    found = secrets()
    assert len(found) > 15
    leaked = [s[:6] for s in found if s in output]
    assert not leaked, leaked


def test_clients_with_the_reissued_certificates_work(host):
    once(host)

    async def check():
        for identity in ("admin", "reader", "sys"):
            nc = await nats.connect(urls(["c1-n1", "c2-n1", "c3-n1"]), tls=tls_context(identity), connect_timeout=3,
                                    max_reconnect_attempts=1)
            try:
                if identity == "sys":
                    reply = await nc.request("$SYS.REQ.SERVER.PING.HEALTHZ", b"", timeout=5)
                else:
                    reply = await nc.request("$JS.API.INFO", b"", timeout=5)
                assert "error" not in json.loads(reply.data), (identity, reply.data[:300])
            finally:
                await nc.close()
    asyncio.run(asyncio.wait_for(check(), 60))
