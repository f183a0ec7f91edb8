"""One node over SSH as an unprivileged user with sudo: service, files, JetStream round trip."""
import asyncio
import json

import nats


def monitor(host, path):
    out = host.check_output(
        "python3 -c \"import urllib.request,sys;sys.stdout.write(urllib.request.urlopen("
        "'http://127.0.0.1:8222/%s', timeout=5).read().decode())\"" % path)
    return json.loads(out)


def test_connected_over_ssh_as_unprivileged_user_with_sudo(host):
    # The deploy user logged in through sshd with the scenario's key (not docker exec as root)...
    logins = host.check_output("journalctl -u ssh --no-pager -o cat")
    assert "Accepted publickey for molecule from" in logins
    assert "Accepted publickey for root" not in logins
    # ...and reached root through sudo (become), which is how the play installed everything.
    assert host.user().name == "root"
    assert host.check_output("sudo -n -l -U molecule").count("NOPASSWD: ALL") == 1


def test_service_runs_as_nats(host):
    svc = host.service("nats-server")
    assert svc.is_running and svc.is_enabled
    pid = host.check_output("systemctl show -p MainPID --value nats-server")
    assert host.check_output("ps -o user= -p %s" % pid) == "nats"


def test_files_and_modes(host):
    with host.sudo():
        conf = host.file("/etc/nats-server/nats-server.conf")
        assert (conf.user, conf.group, conf.mode) == ("root", "nats", 0o640)
        assert "cluster {" not in conf.content_string and "gateway {" not in conf.content_string
        store = host.file("/var/lib/nats")
        assert (store.user, store.group, store.mode) == ("nats", "nats", 0o750)
        assert host.file("/etc/nats-server").mode == 0o750
    assert host.file("/opt/nats-server/2.15.1/nats-server").mode == 0o755
    assert host.file("/opt/nats-server/current").linked_to == "/opt/nats-server/2.15.1"


def test_healthy_with_jetstream(host):
    assert monitor(host, "healthz") == {"status": "ok"}
    varz = monitor(host, "varz")
    assert varz["server_name"] == "natsops-single"
    assert varz["jetstream"]["config"]["store_dir"] == "/var/lib/nats/jetstream"
    assert varz["tags"] == ["az:1"]


async def _round_trip():
    nc = await nats.connect("nats://172.30.96.10:4222", connect_timeout=3, max_reconnect_attempts=1)
    try:
        js = nc.jetstream()
        await js.add_stream(name="MOLECULE_SINGLE", subjects=["single.>"])
        ack = await js.publish("single.one", b"hello")
        msg = await js.get_msg("MOLECULE_SINGLE", ack.seq)
        assert msg.data == b"hello"
        await js.delete_stream("MOLECULE_SINGLE")
    finally:
        await nc.close()


def test_r1_stream_round_trip(host):
    asyncio.run(asyncio.wait_for(_round_trip(), 30))


def test_a_renamed_server_is_refused_before_anything_changes(host):
    """server_name identifies the JetStream peer: a changed nats_server_name fails in preflight, names the
    variable, and leaves the running node and its config untouched."""
    import os
    import subprocess
    root = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    with host.sudo():
        conf = host.file("/etc/nats-server/nats-server.conf").content_string
    pid = host.check_output("systemctl show -p MainPID --value nats-server")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(root, ".cache", "collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([os.path.join(root, ".venv", "bin", "ansible-playbook"),
                           "-i", os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"]),
                           os.path.join(root, "playbooks", "site.yml"), "-e", "nats_server_name=renamed-1"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0
    assert "already runs as server 'natsops-single'" in out and "nats_server_allow_rename" in out
    assert "changed=0" in out
    with host.sudo():
        assert host.file("/etc/nats-server/nats-server.conf").content_string == conf
    assert host.check_output("systemctl show -p MainPID --value nats-server") == pid
