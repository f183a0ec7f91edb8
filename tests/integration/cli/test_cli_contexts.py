# Copyright: natsops.jetstream contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin, reader and sys client bundles the pki role ships (context.json, nats.env, ca.crt, tls.crt, tls.key)
against the real NATS CLI (natscli v0.5.0) and a loopback nats-server with TLS, verify_and_map and the server
role's own accounts template. Only the URL is rewritten (the bundle names the first inventory host); the CA,
certificate and key paths are used as shipped."""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from natsproc import ROOT, free_ports, server_from

BIN = os.path.join(ROOT, ".venv", "bin")
IDENTITIES = ("admin", "reader", "sys")
DENIED_TIMEOUT = ["--timeout", "2s"]        # a denied JetStream API request only times out


def _playbook(args):
    env = dict(os.environ, PATH=BIN + ":" + os.environ["PATH"])
    proc = subprocess.run([BIN + "/ansible-playbook"] + args, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.fixture(scope="module")
def secure(cli):
    work = tempfile.mkdtemp(prefix="natscli-sec-")
    pki = os.path.join(work, "pki")
    _playbook(["-i", "tests/integration/security/inventory.ini", "tests/integration/security/pki.yml",
               "-e", "nats_pki_dir=" + pki])
    _playbook(["-i", "localhost,", "tests/integration/security/render_accounts.yml",
               "-e", "dest=" + os.path.join(work, "accounts.conf")])
    port, = free_ports(1)
    s = os.path.join(pki, "servers", "n1")
    conf = os.path.join(work, "server.conf")
    with open(conf, "w") as f:
        f.write("""server_name: cli-n1
listen: 127.0.0.1:%d
jetstream { store_dir: "%s/js" }
tls { cert_file: "%s/tls.crt", key_file: "%s/tls.key", ca_file: "%s/ca.crt", verify_and_map: true, timeout: 2 }
include ./accounts.conf
""" % (port, work, s, s, s))
    try:
        with server_from(conf, BIN + "/nats-server"):
            url = "tls://127.0.0.1:%d" % port
            bundles = {}
            os.makedirs(cli.context_dir, exist_ok=True)
            for ident in IDENTITIES:
                shipped = os.path.join(pki, "clients", ident)
                with open(os.path.join(shipped, "context.json")) as f:
                    ctx = json.load(f)
                assert set(ctx) == {"description", "url", "ca", "cert", "key"}, ctx
                assert ctx["url"] == "tls://n1:4222"
                for key, name in (("ca", "ca.crt"), ("cert", "tls.crt"), ("key", "tls.key")):
                    assert ctx[key] == os.path.join(shipped, name) and os.path.isfile(ctx[key]), (key, ctx)
                ctx["url"] = url
                path = os.path.join(work, "%s.json" % ident)
                with open(path, "w") as f:
                    json.dump(ctx, f)
                # the same bundle as a named context, the way `nats context` stores them
                shutil.copy(path, os.path.join(cli.context_dir, "natsops-%s.json" % ident))
                with open(os.path.join(shipped, "nats.env")) as f:
                    env = dict(line.strip().split("=", 1) for line in f if line.strip())
                env["NATS_URL"] = url
                bundles[ident] = {"context": path, "name": "natsops-" + ident, "env": env, "dir": shipped}
            yield {"url": url, "bundles": bundles, "work": work}
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def orders(secure, cli):
    """ORDERS, created and filled by admin through its context file."""
    admin = secure["bundles"]["admin"]["context"]
    cli.run("stream", "add", "ORDERS", "--subjects", "orders.>", "--storage", "file", "--defaults", context=admin)
    cli.run("pub", "orders.new", "order {{Count}}", "--count", "20", "-H", "Source:admin", context=admin)
    return secure


def stream_messages(cli, secure, name="ORDERS"):
    info = cli.run("stream", "info", name, "--json", context=secure["bundles"]["admin"]["context"]).stdout
    return json.loads(info)["state"]["messages"]


def test_admin_publishes_and_manages_streams(orders, cli):
    b = orders["bundles"]["admin"]
    assert stream_messages(cli, orders) == 20
    # by name, as a stored context
    info = json.loads(cli.run("context", "info", b["name"], "--json").stdout)
    shipped = tuple(os.path.join(b["dir"], n) for n in ("tls.crt", "tls.key", "ca.crt"))
    assert (info["cert"], info["key"], info["ca"]) == shipped
    cli.run("stream", "add", "SCRATCH", "--subjects", "scratch.>", "--storage", "memory", "--defaults",
            context=b["name"])
    assert "SCRATCH" in cli.run("stream", "ls", "-n", context=b["name"]).stdout.split()
    cli.run("stream", "edit", "SCRATCH", "--description", "edited by admin", "-f", context=b["name"])
    cli.run("stream", "rm", "SCRATCH", "-f", context=b["context"])
    assert cli.run("stream", "ls", "-n", context=b["context"]).stdout.split() == ["ORDERS"]
    # admin may publish data subjects only (nats_server_data_subjects is orders.> here)
    denied = cli.run("pub", "payments.new", "x", context=b["context"], check=False)
    assert denied.returncode != 0 and 'Permissions Violation for Publish to "payments.new"' in denied.output


def test_reader_reads_and_consumes_but_cannot_write(orders, cli):
    b = orders["bundles"]["reader"]
    r = b["context"]
    assert cli.run("stream", "ls", "-n", context=r).stdout.split() == ["ORDERS"]
    assert json.loads(cli.run("stream", "info", "ORDERS", "--json", context=r).stdout)["state"]["messages"] == 20
    got = cli.run("stream", "get", "ORDERS", "2", context=r).stdout
    assert "order 2" in got and "Source: admin" in got, got
    cli.run("consumer", "add", "ORDERS", "RC", "--pull", "--defaults", context=r)
    out = cli.run("consumer", "next", "ORDERS", "RC", "--count", "3", context=r).output
    assert out.count("Acknowledged message") == 3 and "order 3" in out, out
    admin = orders["bundles"]["admin"]["context"]
    floor = json.loads(cli.run("consumer", "info", "ORDERS", "RC", "--json", context=admin).stdout)
    assert floor["ack_floor"]["stream_seq"] == 3
    out = cli.run("sub", "--stream", "ORDERS", "--all", "--count", "20", context=b["name"]).output
    assert out.count("Received JetStream message") == 20, out

    denied = cli.run("pub", "orders.new", "forged", context=r, check=False)
    assert denied.returncode != 0 and 'Permissions Violation for Publish to "orders.new"' in denied.output
    denied = cli.run("stream", "add", "R2", "--subjects", "r2.>", "--defaults", *DENIED_TIMEOUT, context=r, check=False)
    assert denied.returncode != 0 and 'Permissions Violation for Publish to "$JS.API.STREAM.CREATE.R2"' in denied.output
    for args in (("stream", "rm", "ORDERS", "-f"), ("stream", "purge", "ORDERS", "-f"),
                 ("stream", "rmm", "ORDERS", "1", "-f")):
        denied = cli.run(*(args + tuple(DENIED_TIMEOUT)), context=r, check=False)
        assert denied.returncode != 0 and "Permissions Violation" in denied.output, (args, denied.output)
    assert cli.run("stream", "ls", "-n", context=admin).stdout.split() == ["ORDERS"]
    assert stream_messages(cli, orders) == 20


def test_sys_makes_system_requests_without_jetstream_data(orders, cli):
    s = orders["bundles"]["sys"]["context"]
    servers = json.loads(cli.run("server", "list", "--json", context=s).stdout)
    assert [x["server"]["name"] for x in servers] == ["cli-n1"]
    assert "Server information for cli-n1" in cli.run("server", "info", "cli-n1", context=s).stdout
    assert cli.run("server", "check", "connection", context=s).stdout.startswith("OK Connection")

    # SYS has no JetStream: no stream access, and its publishes never reach the application account.
    out = cli.run("server", "check", "jetstream", context=s, check=False)
    assert out.returncode != 0 and out.stdout.startswith("CRITICAL") and "JetStream not enabled for account" in out.stdout
    out = cli.run("stream", "info", "ORDERS", context=s, check=False)
    assert out.returncode != 0 and "JetStream not enabled for account" in out.output
    cli.run("pub", "orders.new", "from sys", context=s)
    assert stream_messages(cli, orders) == 20
    # and the application users cannot make system requests
    out = cli.run("server", "list", "--json", *DENIED_TIMEOUT, context=orders["bundles"]["admin"]["context"], check=False)
    assert out.returncode != 0 and 'Permissions Violation for Publish to "$SYS.REQ.SERVER.PING"' in out.output, out.output


def test_server_checks_ok_with_admin_and_sys(orders, cli):
    for ident in ("admin", "sys"):
        out = cli.run("server", "check", "connection", context=orders["bundles"][ident]["name"]).stdout
        assert out.startswith("OK Connection"), (ident, out)
    out = cli.run("server", "check", "jetstream", context=orders["bundles"]["admin"]["name"]).stdout
    assert out.startswith("OK JetStream") and "streams=1" in out, out


def test_nats_env_bundle(orders, cli):
    env = orders["bundles"]["admin"]["env"]
    assert sorted(env) == ["NATS_CA", "NATS_CERT", "NATS_KEY", "NATS_URL"]
    out = cli.run("server", "check", "connection", env=env).stdout
    assert out.startswith("OK Connection"), out
    assert cli.run("stream", "ls", "-n", env=env).stdout.split() == ["ORDERS"]
