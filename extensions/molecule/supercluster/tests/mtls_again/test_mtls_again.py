"""After steps/mtls.yml (site.yml with the inventory as it is, after steps/password.yml): cluster c2 is back on
mTLS, one node at a time, no other node restarted, and every role works by certificate across the clusters. Runs
once, from c1-n1."""
import asyncio
import subprocess

import pytest

from scenario import exercise_roles, once
from step_record import assert_restarted_only, record

C2 = ["c2-n1", "c2-n2", "c2-n3"]


@pytest.fixture(scope="module")
def mtls_again():
    return record("mtls_again")


def test_c2_is_back_on_mtls_and_only_c2_restarted(host, mtls_again):
    once(host)
    assert_restarted_only(mtls_again, C2, "tls_listeners")
    conf = subprocess.check_output(["docker", "exec", "c2-n1", "cat", "/etc/nats-server/nats-server.conf"], text=True)
    assert '"verify_and_map": true' in conf and "$2b$" not in conf


def test_every_role_works_by_certificate(host):
    once(host)
    asyncio.run(asyncio.wait_for(exercise_roles(), 120))
