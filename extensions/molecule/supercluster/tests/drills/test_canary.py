"""Canary apply: a change that passes preflight and `nats-server -t` goes to one running node first, and a
client's functional probe through that node (connect with the deployment's own certificate, request/reply,
a JetStream API call) must pass before any other node is touched. A failed canary is put back."""
import json
import re
import subprocess


from scenario import ALL, once, node_monitor, run_site


def fingerprint(node):
    """Config, TLS files, unit, the files in the config directory and the PID of one node."""
    return subprocess.check_output(
        ["docker", "exec", node, "sh", "-c",
         "sha256sum /etc/nats-server/nats-server.conf /etc/nats-server/tls/* /etc/systemd/system/nats-server.service;"
         " ls -A /etc/nats-server; systemctl show -p MainPID --value nats-server"], text=True)


def release(node):
    """The release directory a node's stable link points at (the unit runs <install dir>/current/nats-server)."""
    return subprocess.check_output(["docker", "exec", node, "readlink", "/opt/nats-server/current"], text=True).strip()


def healthy(node):
    probe = ("import ssl, urllib.request; c = ssl._create_unverified_context(); "
             "print(urllib.request.urlopen('https://127.0.0.1:8222/healthz', context=c, timeout=5).read().decode())")
    out = subprocess.run(["docker", "exec", node, "python3", "-c", probe], capture_output=True, text=True,
                         check=False).stdout
    return '"ok"' in out


def flat(proc):
    return " ".join((proc.stdout + proc.stderr).split())


def refused_and_put_back(extra_config, *expected):
    """site.yml with nats_server_extra_config fails naming each of `expected`; afterwards every node holds the same
    files and PID as before (a file the canary replaced is back), and the next plain run changes nothing."""
    before = {n: fingerprint(n) for n in ALL}
    proc = run_site("-e", json.dumps({"nats_server_extra_config": extra_config}))
    out = flat(proc)
    assert proc.returncode != 0, out[-3000:]
    for text in expected:
        assert text in out, (text, out[-3000:])
    assert {n: fingerprint(n) for n in ALL} == before
    assert all(healthy(n) for n in ALL)
    again = run_site()
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-3000:]


def test_a_config_nats_server_t_refuses_is_never_written(host):
    once(host)
    # An unknown key passes preflight (the role cannot know every key of every release) but not `nats-server -t`:
    # the canary's live file is never replaced and no temporary file is left beside it.
    refused_and_put_back({"natsops_unknown_key": 1}, "nats-server.conf: the new content failed validation",
                         "natsops_unknown_key")


def test_reload_that_breaks_clients_stops_at_the_canary(host):
    once(host)
    # Passes `nats-server -t` and reloads, but no client's CONNECT fits in 32 bytes. The canary's config is restored
    # (same PID: it was a reload); the others are never written.
    refused_and_put_back({"max_control_line": 32}, "c1-n1 (canary) will reload: configuration",
                         "The canary node c1-n1 failed after taking the change", "failed at step authenticate",
                         "maximum control line exceeded")


def test_restart_that_breaks_clients_stops_at_the_canary_and_restores_it(host):
    once(host)
    before = {n: fingerprint(n) for n in ALL}
    links = {n: release(n) for n in ALL}
    # The change also moves to another release: the canary restarts into it, every other node keeps its own.
    other = "2.15.1" if links["c2-n1"].endswith("/2.14.6") else "2.14.6"
    # After the restart either /healthz fails first (the tiny control line can also keep the routes out, so no meta
    # leader) or the probe does (no client's CONNECT fits); either stops the rollout at the canary.
    proc = run_site("--limit", "c2", "-e", json.dumps({"nats_server_lame_duck_duration": "31s",
                                                       "nats_server_health_retries": 20,
                                                       "nats_server_version": other,
                                                       "nats_server_extra_config": {"max_control_line": 32}}))
    out = flat(proc)
    assert proc.returncode != 0, out[-3000:]
    assert re.search(r"c2-n1 \(canary\) needs a restart: version, [a-z_, ]*lame_duck", out), out[-3000:]
    assert ("The canary node c2-n1 failed after taking the change (Health | Wait for /healthz on c2-n1" in out
            or "The canary node c2-n1 failed after taking the change (Canary | Probe it as a client" in out), out[-3000:]
    after = {n: fingerprint(n) for n in ALL}
    # The canary restarted twice (with the change, then back): new PID, same files. Nobody else changed.
    canary_files = lambda fp: fp.rsplit("\n", 2)[0]  # noqa: E731 - everything but the PID line
    assert canary_files(after["c2-n1"]) == canary_files(before["c2-n1"])
    assert after["c2-n1"] != before["c2-n1"]
    assert {n: after[n] for n in ALL if n != "c2-n1"} == {n: before[n] for n in ALL if n != "c2-n1"}
    assert healthy("c2-n1")
    # The new release was unpacked beside the old one, but every node, the canary included, runs from the release
    # it ran before: a node that restarts before the rollout reaches it cannot start the untested release.
    assert {n: release(n) for n in ALL} == links
    assert node_monitor("c2-n1")["version"] == links["c2-n1"].rsplit("/", 1)[1]


def test_a_good_change_passes_the_canary_then_reaches_every_node(host):
    once(host)
    proc = run_site("-e", "nats_server_max_payload=2MB")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert proc.stdout.count("will reload: configuration") == 9
    assert "c1-n1 (canary) will reload: configuration" in proc.stdout
    assert "Canary | Probe it as a client" in proc.stdout
    back = run_site()
    assert back.returncode == 0 and back.stdout.count("will reload: configuration") == 9, back.stdout[-3000:]


def test_bad_settings_are_refused_before_any_node_is_contacted(host):
    once(host)
    before = {n: fingerprint(n) for n in ALL}
    bad = {"nats_server_max_payload": -5, "nats_server_write_deadline": "-1s", "nats_server_max_connections": 0,
           "nats_server_jetstream_max_file_store": "lots"}
    proc = run_site("-e", json.dumps(bad))
    out = flat(proc)
    assert proc.returncode != 0
    for variable in bad:
        assert variable in out, (variable, out[-3000:])
    assert "Probe the node" not in out, "preflight contacted the nodes before refusing"
    assert {n: fingerprint(n) for n in ALL} == before
