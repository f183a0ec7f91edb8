"""After steps/password.yml (cluster c2 to password authentication, c1 and c3 on mTLS, one site.yml run over every
node): c2 restarted one node at a time and no other node restarted, the R3 stream in c1 lost nothing, the passwords
are kept 0600 and never printed, the config holds bcrypt hashes only, clients authenticate by password on c2 and by
certificate on c1 and c3, and both reach the same accounts across the gateways. Runs once, from c1-n1; changes
nothing."""
import asyncio
import os
import subprocess

import nats
import pytest

from scenario import SECRETS, assert_nothing_lost, once, tls_context, urls
from step_record import assert_restarted_only, record

C2 = ["c2-n1", "c2-n2", "c2-n3"]


@pytest.fixture(scope="module")
def password():
    return record("password")


@pytest.fixture(scope="module")
def passwords():
    found = {}
    for name in ("admin", "reader", "sys"):
        path = os.path.join(SECRETS, "users", name)
        assert oct(os.stat(path).st_mode & 0o777) == "0o600", path
        found[name] = open(path).read().split()[0]
    return found


def test_only_c2_restarted(host, password):
    once(host)
    assert_restarted_only(password, C2, "tls_listeners")


def test_the_load_in_c1_lost_nothing(host, password):
    once(host)
    print("password mode in c2: " + assert_nothing_lost(password[1]))


def test_passwords_are_never_printed_and_the_config_holds_hashes(host, password, passwords):
    once(host)
    output = password[2]
    assert not [name for name, pw in passwords.items() if pw in output]
    c2 = subprocess.check_output(["docker", "exec", "c2-n1", "cat", "/etc/nats-server/nats-server.conf"], text=True)
    assert c2.count('"password": "$2b$11$') == 3 and not any(p in c2 for p in passwords.values())
    assert '"verify_and_map": true' not in c2
    c1 = subprocess.check_output(["docker", "exec", "c1-n1", "cat", "/etc/nats-server/nats-server.conf"], text=True)
    assert '"verify_and_map": true' in c1 and "$2b$" not in c1


async def _clients(passwords):
    violations = []

    async def on_error(e):
        violations.append(str(e).lower())

    async def by_password(user, password, node="c2-n1"):
        return await nats.connect(urls([node]), tls=tls_context(None), user=user, password=password, connect_timeout=3,
                                  allow_reconnect=False, max_reconnect_attempts=0, error_cb=on_error)

    # On c2 by password: the reader reads the stream the load wrote in c1, across the gateway, in the same account.
    reader = await by_password("reader", passwords["reader"])
    assert (await reader.jetstream().get_msg("PWLOAD", 1)).data == b"0"
    await reader.publish("pwload.m", b"not allowed")
    await reader.flush()
    await asyncio.sleep(0.5)
    assert any('permissions violation for publish to "pwload.m"' in v for v in violations), violations
    await reader.close()
    admin = await by_password("admin", passwords["admin"], "c2-n2")
    assert (await admin.jetstream().account_info()).streams >= 1
    await admin.close()
    for wrong in ({"user": "admin", "password": "wrong" + passwords["admin"]}, {}):
        # A wrong password, and a client certificate alone, are refused on c2.
        with pytest.raises(Exception):
            await nats.connect(urls(["c2-n3"]), tls=tls_context("admin" if not wrong else None), connect_timeout=3,
                               allow_reconnect=False, max_reconnect_attempts=0, **wrong)
    # On c1 and c3 the certificates still authenticate.
    for node in ("c1-n1", "c3-n1"):
        nc = await nats.connect(urls([node]), tls=tls_context("admin"), connect_timeout=3, allow_reconnect=False,
                                max_reconnect_attempts=0)
        assert (await nc.jetstream().account_info()).streams >= 1
        await nc.close()


def test_password_clients_on_c2_and_certificates_on_c1_and_c3(host, passwords):
    once(host)
    asyncio.run(asyncio.wait_for(_clients(passwords), 120))
