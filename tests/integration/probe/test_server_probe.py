"""The server_probe module against real nats-server processes: it passes on a working server and fails, naming
the step, on each way a node can break its clients while still passing `nats-server -t` and /healthz."""
import subprocess
import time

import pytest
from natsproc import DEFAULT_BINARY, free_ports


@pytest.fixture
def server(tmp_path):
    procs = []

    def start(extra=""):
        port, = free_ports(1)
        conf = tmp_path / ("s%d.conf" % port)
        conf.write_text("listen: 127.0.0.1:%d\n%s\n" % (port, extra))
        log = open(str(tmp_path / ("s%d.log" % port)), "wb")
        procs.append(subprocess.Popen([DEFAULT_BINARY, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT))
        deadline = time.time() + 10
        while time.time() < deadline:
            if subprocess.run(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/%d" % port], check=False).returncode == 0:
                return port
            time.sleep(0.1)
        raise AssertionError("nats-server did not start: %s" % (tmp_path / ("s%d.log" % port)).read_text())

    yield start
    for p in procs:
        p.kill()
        p.wait()


def probe(play, port, expect_fail=False, **args):
    task = {"natsops.jetstream.server_probe": dict(port=port, timeout=5, **args), "register": "r",
            "ignore_errors": expect_fail}
    return play([], [task])[0]


def test_a_working_server_passes_every_step(play, server, tmp_path):
    port = server("jetstream { store_dir: %s }" % (tmp_path / "js"))
    r = probe(play, port)
    assert not r.get("failed") and not r["changed"], r
    assert [s["step"] for s in r["steps"]] == ["connect", "authenticate", "request/reply", "jetstream"]


def test_a_negative_max_payload_fails_at_request_reply(play, server):
    r = probe(play, server("max_payload: -5"), expect_fail=True, jetstream=False)
    assert r["failed"] and r["failed_step"] == "request/reply round trip", r
    assert "max_payload -5" in r["msg"]


def test_a_control_line_no_client_fits_fails_at_authenticate(play, server):
    r = probe(play, server("max_control_line: 32"), expect_fail=True, jetstream=False)
    assert r["failed_step"] == "authenticate (CONNECT, PING/PONG)", r
    assert "maximum control line exceeded" in r["msg"]


def test_wrong_password_fails_at_authenticate_and_the_password_is_not_shown(play, server):
    port = server('authorization { users = [{user: admin, password: "right-one-xyz"}] }')
    ok = probe(play, port, jetstream=False, user="admin", password="right-one-xyz")
    assert not ok.get("failed"), ok
    r = probe(play, port, expect_fail=True, jetstream=False, user="admin", password="wrong-one-abc")
    assert r["failed_step"] == "authenticate (CONNECT, PING/PONG)" and "uthorization" in r["msg"], r
    assert "wrong-one-abc" not in str(r)


def test_no_jetstream_fails_at_the_jetstream_step(play, server):
    r = probe(play, server(), expect_fail=True)
    assert r["failed_step"] == "JetStream API ($JS.API.INFO)", r


def test_nothing_listening_fails_at_connect(play):
    port, = free_ports(1)
    r = probe(play, port, expect_fail=True)
    assert r["failed_step"] == "connect", r
