"""A node changed by hand is put back by the next run (runs once, from c1-n1).

Every item the server role manages on a node is broken by hand on c3-n1: the config's content and mode, the unit's
content and mode, the certificate's and the CA's mode, the key's owner and mode, the configuration, TLS and store
directories' modes, the binary's content and link, and the service's enabled state. One site.yml run puts every
item back (the changed unit means a restart behind /healthz), the other eight nodes are not touched, and the next
run changes nothing."""
import re
import subprocess


from scenario import ALL, once, node_monitor, run_site

NODE = "c3-n1"
CONF = "/etc/nats-server/nats-server.conf"
UNIT = "/etc/systemd/system/nats-server.service"
TLS = "/etc/nats-server/tls"
LINK = "/usr/local/bin/nats-server"  # the scenario's nats_server_binary_link

# path -> owner:group:mode the role leaves
EXPECTED = {
    CONF: "root:nats:640",
    UNIT: "root:root:644",
    TLS: "root:nats:750",
    TLS + "/tls.crt": "root:nats:644",
    TLS + "/tls.key": "nats:nats:600",
    TLS + "/ca.crt": "root:nats:644",
    "/etc/nats-server": "root:nats:750",
    "/var/lib/nats": "nats:nats:750",
}

BREAK = " && ".join([
    "echo '# edited by hand' >> %s" % CONF,
    "chmod 0644 %s" % CONF,
    "echo '# edited by hand' >> %s" % UNIT,
    "chmod 0600 %s" % UNIT,
    "chmod 0600 %s/tls.crt" % TLS,
    "chown root:root %s/tls.key && chmod 0644 %s/tls.key" % (TLS, TLS),
    "chmod 0640 %s/ca.crt" % TLS,
    "chmod 0755 %s" % TLS,
    "chmod 0755 /etc/nats-server",
    "chmod 0777 /var/lib/nats",
    "rm -f %s" % LINK,
    # the binary's content (replaced, as a running executable can only be: by a rename in its directory)
    "B=$(readlink -f /opt/nats-server/current)/nats-server && cp $B $B.tmp && printf x >> $B.tmp && mv $B.tmp $B",
    "systemctl disable nats-server 2>/dev/null",
])


def sh(node, command):
    return subprocess.run(["docker", "exec", node, "sh", "-c", command], capture_output=True, text=True, check=True).stdout


def modes(node):
    out = sh(node, "stat -c '%%n %%U:%%G:%%a' %s" % " ".join(sorted(EXPECTED)))
    return dict(line.split(" ", 1) for line in out.splitlines())


def pids():
    return dict((n, sh(n, "systemctl show -p MainPID --value nats-server").strip()) for n in ALL)


def test_every_managed_item_changed_by_hand_is_put_back_by_the_next_run(host):
    once(host)
    assert modes(NODE) == EXPECTED  # the scenario's converge left it so
    before = pids()
    sh(NODE, BREAK)
    assert modes(NODE) != EXPECTED

    fix = run_site()
    assert fix.returncode == 0, fix.stdout[-4000:]
    out = " ".join(fix.stdout.split())
    # The unit's content changed: a restart (the config is in it too), on this node only.
    assert "%s (canary) needs a restart: systemd unit" % NODE in out, out[-3000:]
    assert modes(NODE) == EXPECTED
    assert "# edited by hand" not in sh(NODE, "cat %s %s" % (CONF, UNIT))
    assert sh(NODE, "readlink %s" % LINK).strip() == "/opt/nats-server/current/nats-server"
    binary = sh(NODE, "B=$(readlink -f /opt/nats-server/current)/nats-server; sha256sum $B | cut -d' ' -f1; cat $B.sha256")
    assert len(set(binary.split())) == 1, binary  # the release's binary again
    assert sh(NODE, "systemctl is-enabled nats-server; systemctl is-active nats-server").split() == ["enabled", "active"]
    assert node_monitor(NODE, "healthz")["status"] == "ok"
    after = pids()
    assert after[NODE] != before[NODE]
    assert dict((n, p) for n, p in after.items() if n != NODE) == dict(
        (n, p) for n, p in before.items() if n != NODE), "a node that was not changed by hand restarted"

    again = run_site()
    assert again.returncode == 0 and set(re.findall(r"changed=(\d+)", again.stdout)) == {"0"}, again.stdout[-3000:]
