"""The backup and restore roles behind playbooks/backup.yml and restore.yml take their settings from the inventory
(role defaults, not play vars: group_vars of the group localhost is in used to be ignored), leave the servers to
NATS_URL when none are set (what AWX credential types inject), and check the inventory's values against the
argument spec before any server is contacted."""
import json
import os
import subprocess
import time

from jsutil import api, publish, stream_info
from natsproc import ROOT, ansible_env


def inventory(tmp_path, group_vars, host_vars=None):
    """An inventory file with localhost in the group `backups`, and that group's group_vars."""
    d = tmp_path / "inventory"
    (d / "group_vars").mkdir(parents=True)
    (d / "hosts.yml").write_text("all:\n  children:\n    backups:\n      hosts:\n        localhost: {}\n")
    (d / "group_vars" / "backups.yml").write_text(json.dumps(group_vars))
    if host_vars:
        (d / "host_vars").mkdir()
        (d / "host_vars" / "localhost.yml").write_text(json.dumps(host_vars))
    return str(d / "hosts.yml")


def playbook(name, inv, **env):
    environ = ansible_env(ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default")
    for var in [v for v in environ if v.startswith("NATS_")]:
        del environ[var]
    environ.update(env)
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", inv,
                           os.path.join(ROOT, "playbooks", name)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=environ,
                          timeout=300, check=False)
    return proc, proc.stdout


def test_inventory_settings_and_nats_url(single, tmp_path):
    url = single.urls()[0]
    api(url, "$JS.API.STREAM.CREATE.INVBACKUP", {"name": "INVBACKUP", "subjects": ["invbackup.>"], "num_replicas": 1})
    publish(url, "invbackup.x", 42)
    backups = tmp_path / "from-inventory"
    inv = inventory(tmp_path, {"nats_backup_dir": str(backups), "nats_backup_keep": 1,
                               "nats_backup_streams": ["INVBACKUP"]})

    # No server given anywhere but NATS_URL: the backup reads the test server (the default 127.0.0.1:4222 has none).
    runs = []
    for dummy in range(2):
        proc, out = playbook("backup.yml", inv, NATS_URL=url)
        assert proc.returncode == 0, out[-3000:]
        runs.append(sorted(os.listdir(str(backups))))
        time.sleep(1.1)  # run directories are named to the second
    # nats_backup_dir and nats_backup_keep: 1 came from group_vars: one run, the second's, in that directory.
    assert len(runs[0]) == 1 and len(runs[1]) == 1 and runs[0] != runs[1], runs
    run = os.path.join(str(backups), runs[1][0])
    assert os.listdir(run) == ["INVBACKUP"]
    with open(os.path.join(run, "INVBACKUP", "manifest.json")) as f:
        assert json.load(f)["messages"] == 42

    # The restore role the same way: the run from host_vars, the server from NATS_URL.
    api(url, "$JS.API.STREAM.DELETE.INVBACKUP")
    inv = inventory(tmp_path / "restore", {"nats_restore_streams": ["INVBACKUP"]}, {"nats_restore_run": run})
    proc, out = playbook("restore.yml", inv, NATS_URL=url)
    assert proc.returncode == 0, out[-3000:]
    assert "INVBACKUP: 42" in out
    assert stream_info(url, "INVBACKUP")["state"]["messages"] == 42
    api(url, "$JS.API.STREAM.DELETE.INVBACKUP")


def test_bad_inventory_value_fails_at_the_spec_before_any_server(tmp_path):
    """nats_backup_keep: seven in group_vars stops at the role's argument spec; NATS_URL points at a closed port,
    so a task that got past validation would fail differently."""
    inv = inventory(tmp_path, {"nats_backup_keep": "seven", "nats_backup_dir": str(tmp_path / "b")})
    proc, out = playbook("backup.yml", inv, NATS_URL="nats://127.0.0.1:1")
    assert proc.returncode != 0, out
    assert "Validation of arguments failed" in out and "nats_backup_keep" in out and "int" in out, out
    tasks = [line for line in out.splitlines() if line.startswith("TASK [")]
    assert len(tasks) == 1 and "Validating arguments against arg spec 'main'" in tasks[0], tasks
    assert "changed=0" in out and "failed=1" in out, out
    assert not os.path.exists(str(tmp_path / "b"))


def test_a_retention_below_one_run_fails_before_any_server(tmp_path):
    """nats_backup_keep: 0 is a valid int but would delete the run just written: refused by the role's own check
    (NATS_URL points at a closed port, so a task that got past it would fail differently)."""
    inv = inventory(tmp_path, {"nats_backup_keep": 0, "nats_backup_dir": str(tmp_path / "b")})
    proc, out = playbook("backup.yml", inv, NATS_URL="nats://127.0.0.1:1")
    assert proc.returncode != 0, out
    assert "nats_backup_keep must be a whole number of runs, at least 1 (is '0')" in " ".join(out.split()), out
    assert not os.path.exists(str(tmp_path / "b"))
