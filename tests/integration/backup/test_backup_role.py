"""The backup and restore roles behind playbooks/backup.yml and restore.yml take their settings from the inventory
(role defaults, not play vars: group_vars of the group localhost is in used to be ignored), leave the servers to
NATS_URL when none are set (what AWX credential types inject), and check the inventory's values against the
argument spec before any server is contacted."""
import json
import os
import stat
import subprocess
import time

from jsutil import api, publish, stream_info
from natsproc import ROOT, ansible_env


def inventory(tmp_path, group_vars, host_vars=None, vault=False):
    """An inventory file with localhost in the group `backups`, and that group's group_vars; vault: also a host
    `vault` (a backup host, reached with the local connection; its files are this machine's)."""
    d = tmp_path / "inventory"
    (d / "group_vars").mkdir(parents=True)
    hosts = "all:\n  children:\n    backups:\n      hosts:\n        localhost: {}\n"
    if vault:
        hosts += "    vaults:\n      hosts:\n        vault: {ansible_connection: local}\n"
    (d / "hosts.yml").write_text(hosts)
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


def _modes(top):
    """{relative path: octal mode} of everything under top."""
    found = {}
    for base, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(base, name)
            found[os.path.relpath(path, top)] = stat.S_IMODE(os.lstat(path).st_mode)
    return found


def test_runs_kept_on_an_inventory_host(single, tmp_path):
    """nats_backup_host from group_vars: the run is written in a temporary directory on the controller, sent to
    nats_backup_dir on the backup host as one archive, the retention applied there, owner-only modes; restore
    fetches the latest (or a named) run from there. The controller's temporary copies are gone after each job
    (TMPDIR is a directory of the test's, checked empty), and so is the restore's archive on the backup host."""
    url = single.urls()[0]
    api(url, "$JS.API.STREAM.CREATE.HOSTBACKUP", {"name": "HOSTBACKUP", "subjects": ["hostbackup.>"],
                                                  "num_replicas": 1})
    publish(url, "hostbackup.x", 30)
    vault_dir = tmp_path / "vault" / "nats-backups"
    ctl_tmp = tmp_path / "controller-tmp"
    ctl_tmp.mkdir()
    settings = {"nats_backup_host": "vault", "nats_backup_dir": str(vault_dir), "nats_backup_keep": 2,
                "nats_backup_streams": ["HOSTBACKUP"]}
    inv = inventory(tmp_path, settings, vault=True)

    runs = []
    for dummy in range(3):
        proc, out = playbook("backup.yml", inv, NATS_URL=url, TMPDIR=str(ctl_tmp))
        assert proc.returncode == 0, out[-3000:]
        assert "Unpack the run on the backup host" in out and "run: vault:%s/" % vault_dir in out, out[-3000:]
        assert os.listdir(str(ctl_tmp)) == [], "temporary copy left on the controller"
        runs.append(sorted(os.listdir(str(vault_dir))))
        time.sleep(1.1)
    # keep 2 on the backup host: the last two runs, nothing partial.
    assert [len(r) for r in runs] == [1, 2, 2] and runs[2][0] == runs[1][1], runs
    assert all(r.endswith("Z") and "partial" not in r for r in runs[2]), runs
    modes = _modes(str(vault_dir))
    assert stat.S_IMODE(os.stat(str(vault_dir)).st_mode) == 0o700
    assert modes and all(m & 0o077 == 0 for m in modes.values()), modes      # nothing for group or others
    with open(os.path.join(str(vault_dir), runs[2][1], "HOSTBACKUP", "manifest.json")) as f:
        assert json.load(f)["messages"] == 30

    # Restore the latest run (the same group_vars: nats_backup_host and nats_backup_dir serve both roles).
    publish(url, "hostbackup.x", 5)       # 35 now: the restore must bring back the run's 30
    api(url, "$JS.API.STREAM.DELETE.HOSTBACKUP")
    inv = inventory(tmp_path / "restore", dict(settings, nats_restore_run="latest"), vault=True)
    proc, out = playbook("restore.yml", inv, NATS_URL=url, TMPDIR=str(ctl_tmp))
    assert proc.returncode == 0, out[-3000:]
    assert "run: vault:%s/%s" % (vault_dir, runs[2][1]) in out and "HOSTBACKUP: 30" in out, out[-3000:]
    assert stream_info(url, "HOSTBACKUP")["state"]["messages"] == 30
    assert os.listdir(str(ctl_tmp)) == [] and sorted(os.listdir(str(vault_dir))) == runs[2]

    # A named run that lacks the stream asked for: the job fails after the fetch, the copies are removed anyway.
    inv = inventory(tmp_path / "restore-bad", dict(settings, nats_restore_run=runs[2][0],
                                                   nats_restore_streams=["NOSUCH"]), vault=True)
    proc, out = playbook("restore.yml", inv, NATS_URL=url, TMPDIR=str(ctl_tmp))
    assert proc.returncode != 0 and "NOSUCH" in out and "Fetch the archive" in out, out[-3000:]
    assert os.listdir(str(ctl_tmp)) == [] and sorted(os.listdir(str(vault_dir))) == runs[2]

    # The transfer fails (a file stands where the run is unpacked, for every second of the next 5 minutes): the
    # job fails naming the backup host, the controller's copy is removed, no run directory appears.
    now = time.time()
    decoys = {time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + i)) + ".partial" for i in range(300)}
    for name in decoys:
        (vault_dir / name).write_text("")
    proc, out = playbook("backup.yml", inventory(tmp_path / "backup-bad", settings, vault=True), NATS_URL=url,
                         TMPDIR=str(ctl_tmp))
    assert proc.returncode != 0, out[-3000:]
    assert "The run could not be placed in vault:%s" % vault_dir in " ".join(out.split()), out[-3000:]
    assert os.listdir(str(ctl_tmp)) == []
    assert sorted(n for n in os.listdir(str(vault_dir)) if n not in decoys) == runs[2]
    api(url, "$JS.API.STREAM.DELETE.HOSTBACKUP")


def test_an_unknown_backup_host_fails_before_anything(tmp_path):
    """nats_backup_host naming no inventory host: both roles fail naming the variable and the value before any
    server (NATS_URL is a closed port) or host is contacted; nothing is created."""
    target = tmp_path / "b"
    for name, extra in (("backup.yml", {}), ("restore.yml", {"nats_restore_run": "latest"})):
        inv = inventory(tmp_path / name, dict(extra, nats_backup_host="vualt", nats_backup_dir=str(target)),
                        vault=True)
        proc, out = playbook(name, inv, NATS_URL="nats://127.0.0.1:1")
        assert proc.returncode != 0, out
        flat = " ".join(out.split())
        assert "nats_backup_host must be a host of the inventory" in flat and "'vualt' is not in the inventory" in flat
        assert "vault" in flat.split("'vualt' is not in the inventory", 1)[1], flat     # the hosts it could be
        assert "changed=0" in out and "failed=1" in out, out
        assert not os.path.exists(str(target))
