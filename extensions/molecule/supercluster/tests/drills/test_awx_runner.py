"""Run the playbooks the way AWX runs a job: ansible-runner, a private data directory, the built collection.

Each job gets what AWX gives it: project/ (wrapper playbooks importing natsops.jetstream.<playbook>, an
ansible.cfg), inventory/ (a copy of the inventory under test), the collection installed from the built tarball
into requirements_collections/ (AWX installs a project's collections/requirements.yml there), env/extravars
and env/envvars written per job, and the "NATS client identity" credential injected as files in env/ plus
environment variables and extra vars (see docs/awx.md, credential type natsops_nats_client). The jobs' events
are checked: no failed or unreachable host, the changed counts each job must have, the health report (file
and set_stats artifact), the backup manifest, and no private key in any output.

A second backup lands on an inventory host, the monitoring group's first host (`mon`), chosen by inventory
variables (host_vars/localhost.yml: nats_backup_host, nats_backup_dir), from a private data directory that is then
removed whole; the run is still on that host, and a restore job (another private data directory, as AWX gives
each job its own) brings the stream back from it.

Inventory: NATSOPS_TEST_INVENTORY (e.g. inventories/lab), else the Molecule scenario's inventory. The test
leaves the cluster as it found it: its stream (AWXRUN_ORDERS) is deleted before and after, whatever happens, and
its backup directory on the backup host is removed.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from scenario import ROOT

ansible_runner = pytest.importorskip("ansible_runner")

VENV_BIN = os.path.join(ROOT, ".venv", "bin")
STREAM = "AWXRUN_ORDERS"
MESSAGES = 25
DELETE = {"jetstream_streams": [{"name": STREAM, "state": "absent"}]}
HOST_BACKUP_DIR = "/var/backups/natsops-awxrun"     # on the backup host; removed by the fixture


def _inventory():
    if os.environ.get("NATSOPS_TEST_INVENTORY"):
        return os.path.abspath(os.path.join(ROOT, os.environ["NATSOPS_TEST_INVENTORY"]))
    if os.environ.get("MOLECULE_INVENTORY_FILE"):
        return os.path.dirname(os.environ["MOLECULE_INVENTORY_FILE"])
    pytest.skip("no inventory: set NATSOPS_TEST_INVENTORY or run inside Molecule")
    return None


def _run(cmd, **kw):
    env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_CONFIG", None)
    env.pop("PYTHONPATH", None)
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, **kw)


class Job:
    """One AWX-like private data directory; run() writes the per-job env files and launches a playbook."""

    def __init__(self, pdd, persistent):
        self.pdd = pdd
        self.persistent = persistent
        self.envvars = {}
        self.extravars = {}
        self.secrets = []
        self.durations = {}

    def fork(self, pdd):
        """Another job's private data directory: the same project, inventory, collection and credential files."""
        shutil.copytree(self.pdd, pdd, ignore=shutil.ignore_patterns("artifacts"))
        other = Job(pdd, self.persistent)
        moved = {k: v.replace(self.pdd, pdd) if isinstance(v, str) else v for k, v in self.__dict__.items()
                 if k not in ("pdd", "envvars", "durations")}
        other.__dict__.update(moved)
        other.envvars = {k: v.replace(self.pdd, pdd) for k, v in self.envvars.items()}
        other.durations = self.durations
        return other

    def run(self, name, playbook=None, extravars=None, **kw):
        with open(os.path.join(self.pdd, "env", "extravars"), "w") as f:
            json.dump(dict(self.extravars, **(extravars or {})), f)
        with open(os.path.join(self.pdd, "env", "envvars"), "w") as f:
            json.dump(self.envvars, f)
        start = time.monotonic()
        result = ansible_runner.run(private_data_dir=self.pdd, playbook=playbook, ident=name, quiet=True,
                                    inventory=os.path.join(self.pdd, "inventory"), **kw)
        self.durations[name] = round(time.monotonic() - start, 1)
        stdout = result.stdout.read()
        for secret in self.secrets:
            assert secret not in stdout, "%s: a secret appears in the job output" % name
        return result, stdout


def _ok(result, stdout, name):
    assert result.status == "successful", "%s: %s rc=%s\n%s" % (name, result.status, result.rc, stdout[-4000:])
    stats = result.stats
    assert not stats["failures"] and not stats["dark"], "%s: %s" % (name, stats)
    return stats


def _changed(stats):
    return {host: n for host, n in stats["changed"].items() if n}


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    inventory = _inventory()
    tmp = str(tmp_path_factory.mktemp("awx"))
    pdd = os.path.join(tmp, "pdd")
    persistent = os.path.join(tmp, "persistent")      # stands for a volume that outlives the job's container
    for d in ("project/collections", "inventory", "env", "requirements_collections"):
        os.makedirs(os.path.join(pdd, d))
    os.makedirs(os.path.join(persistent, "backups"))

    # The collection, as AWX gets it: the built artifact installed into requirements_collections/.
    _run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--output-path", tmp, ROOT], cwd=tmp)
    (tarball,) = glob.glob(os.path.join(tmp, "natsops-jetstream-*.tar.gz"))
    _run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "install", "--force", "--offline", "--no-deps",
          "-p", os.path.join(pdd, "requirements_collections"), tarball], cwd=tmp)

    # project/: what a user's AWX project holds (docs/awx.md); inventory/: the inventory under test.
    for name in ("site", "health", "resources", "backup", "restore"):
        with open(os.path.join(pdd, "project", name + ".yml"), "w") as f:
            f.write("---\n- name: natsops.jetstream.%s\n  ansible.builtin.import_playbook: natsops.jetstream.%s\n"
                    % (name, name))
    with open(os.path.join(pdd, "project", "collections", "requirements.yml"), "w") as f:
        f.write("---\ncollections:\n  - name: natsops.jetstream\n")
    with open(os.path.join(pdd, "project", "ansible.cfg"), "w") as f:
        f.write("[defaults]\nforks = 12\nhost_key_checking = False\ninterpreter_python = auto_silent\n"
                "[connection]\npipelining = True\n")
    shutil.copytree(inventory, os.path.join(pdd, "inventory"), dirs_exist_ok=True)

    j = Job(pdd, persistent)
    j.envvars = {"ANSIBLE_COLLECTIONS_PATH": os.path.join(pdd, "requirements_collections"),
                 "ANSIBLE_CONFIG": os.path.join(pdd, "project", "ansible.cfg"),
                 "ANSIBLE_NOCOLOR": "1", "PYTHONPATH": "",
                 "PATH": VENV_BIN + os.pathsep + os.environ.get("PATH", "")}

    # What the inventory says (templated, as the job sees it): the nodes and the PKI's persistent directory.
    result, stdout = j.run("inventory", host_pattern="localhost", module="ansible.builtin.debug",
                           module_args="msg={{ {'pki': hostvars[groups[nats_server_group | default('nats')][0]]"
                                       ".nats_pki_dir, 'nodes': groups[nats_server_group | default('nats')]"
                                       " | map('extract', hostvars) | map(attribute='ansible_host', default='')"
                                       " | list, 'names': groups[nats_server_group | default('nats')],"
                                       " 'mon': (groups.monitoring | default([]))[:1] | map('extract', hostvars)"
                                       " | map(attribute='ansible_host', default=(groups.monitoring"
                                       " | default(['']))[0]) | list, 'mon_name': (groups.monitoring"
                                       " | default([]))[:1]} }}")
    _ok(result, stdout, "inventory")
    (facts,) = [e["event_data"]["res"]["msg"] for e in result.events if e["event"] == "runner_on_ok"]
    containers = [host or name for host, name in zip(facts["nodes"], facts["names"])]
    ips = [subprocess.check_output(["docker", "inspect", "-f",
                                    "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c],
                                   text=True).strip() for c in containers]
    j.servers = ["tls://%s:4222" % ip for ip in ips]
    j.pki = facts["pki"]
    # The backup host (inventory name) and its container.
    j.backup_host = (facts["mon_name"] or [None])[0]
    j.backup_container = (facts["mon"] or [None])[0]
    if j.backup_container:      # a run left by an interrupted test
        subprocess.run(["docker", "exec", j.backup_container, "rm", "-rf", HOST_BACKUP_DIR], check=True, timeout=60)

    # The "NATS client identity" credential (admin): AWX writes its file injectors into the private data
    # directory and sets the env and extra_vars injectors. Paths the playbooks read come from those.
    files = {}
    for field, src in (("ca", "ca.crt"), ("cert", "tls.crt"), ("key", "tls.key")):
        path = os.path.join(pdd, "env", "tmp_nats_" + field)
        shutil.copyfile(os.path.join(j.pki, "clients", "admin", src), path)
        os.chmod(path, 0o600)
        files[field] = path
    with open(files["key"]) as f:
        j.secrets = [line for line in f.read().splitlines() if line and not line.startswith("-----")]
    servers = ",".join(j.servers)
    j.envvars.update(NATS_URL=servers, NATS_CA=files["ca"], NATS_CERT=files["cert"], NATS_KEY=files["key"])
    # The credential type's extra vars; backup.yml and restore.yml connect through the env above.
    j.extravars = {"jetstream_servers": servers,
                   # resources.yml reads a client bundle directory (ca.crt, tls.crt, tls.key), which AWX's
                   # randomly named injector files cannot form: the PKI's persistent directory is used.
                   "jetstream_tls": True, "jetstream_client_dir": os.path.join(j.pki, "clients", "admin")}
    j.run("cleanup-before", "resources.yml", DELETE)       # a stream left by an interrupted run
    yield j
    # Leave the cluster and the backup host as they were found.
    if j.backup_container:
        subprocess.run(["docker", "exec", j.backup_container, "rm", "-rf", HOST_BACKUP_DIR], check=False, timeout=60)
    result, stdout = j.run("cleanup", "resources.yml", DELETE)
    _ok(result, stdout, "cleanup")
    sys.stderr.write("awx runner job durations (s): %s\n" % j.durations)


def _publish(job, count=MESSAGES, delete=False):
    """Publish count messages (0: none) and return the stream's message count; delete: delete the stream instead."""
    import asyncio
    import ssl

    import nats

    async def main():
        ctx = ssl.create_default_context(cafile=os.path.join(job.pki, "ca.crt"))
        ctx.check_hostname = False
        d = os.path.join(job.pki, "clients", "admin")
        ctx.load_cert_chain(os.path.join(d, "tls.crt"), os.path.join(d, "tls.key"))
        nc = await nats.connect(job.servers, tls=ctx, connect_timeout=5, max_reconnect_attempts=2)
        js = nc.jetstream()
        if delete:
            await js.delete_stream(STREAM)
            await nc.close()
            return 0
        for i in range(count):
            await js.publish("awxrun.orders.%d" % i, b"order %d" % i)
        info = await js.stream_info(STREAM)
        await nc.close()
        return info.state.messages

    return asyncio.run(main())


def _on_host(job, script):
    return subprocess.run(["docker", "exec", job.backup_container, "sh", "-c", script], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def _tempdirs(result):
    """Paths of the temporary directories the backup and restore roles made on the controller in this job."""
    return [e["event_data"]["res"]["path"] for e in result.events
            if e["event"] == "runner_on_ok"
            and e["event_data"].get("task", "").endswith("Make a temporary directory for the run")]


def test_awx_jobs(job):
    # Deploy (a converged supercluster: nothing changes) and a bad survey answer stopped by the spec.
    result, stdout = job.run("site", "site.yml")
    assert _changed(_ok(result, stdout, "site")) == {}
    result, stdout = job.run("site-bad-survey", "site.yml", {"nats_pki_mode": "make"})
    assert result.status == "failed"
    assert "value of nats_pki_mode must be one of: generate, byo, got: make" in stdout
    assert not [e for e in result.events if e["event"] == "runner_on_ok" and e["event_data"].get("res", {})
                .get("changed")]

    # Health: the report as a file on the persistent path and as a set_stats artifact.
    report = os.path.join(job.persistent, "health.json")
    result, stdout = job.run("health", "health.yml", {"nats_health_report_file": report})
    stats = _ok(result, stdout, "health")
    assert set(_changed(stats).values()) <= {1}      # only the report file
    with open(report) as f:
        assert json.load(f)["healthy"] is True
    (done,) = [e for e in result.events if e["event"] == "playbook_on_stats"]
    assert done["event_data"]["artifact_data"]["nats_health"]["healthy"] is True

    # Request a stream and a consumer (the self-service survey), then again: idempotent.
    resources = {"jetstream_streams": [{"name": STREAM, "subjects": ["awxrun.orders.>"], "replicas": 3}],
                 "jetstream_consumers": [{"stream": STREAM, "name": "awxrun-worker"}]}
    result, stdout = job.run("resources", "resources.yml", resources)
    assert _changed(_ok(result, stdout, "resources")) == {"localhost": 1}
    result, stdout = job.run("resources-again", "resources.yml", resources)
    assert _changed(_ok(result, stdout, "resources-again")) == {}
    assert _publish(job) == MESSAGES

    # Backup to the persistent path; the run survives the job's private data directory.
    backups = os.path.join(job.persistent, "backups")
    result, stdout = job.run("backup", "backup.yml", {"nats_backup_dir": backups, "nats_backup_streams": [STREAM]})
    assert _changed(_ok(result, stdout, "backup")) == {"localhost": 2}    # the run directory, the stream
    (manifest,) = glob.glob(os.path.join(backups, "*", STREAM, "manifest.json"))
    with open(manifest) as f:
        manifest_data = json.load(f)
    assert manifest_data["format"] == "natsops.jetstream/backup-v1"
    assert (manifest_data["stream"], manifest_data["messages"]) == (STREAM, MESSAGES)
    run_dir = os.path.dirname(os.path.dirname(manifest))
    shutil.rmtree(os.path.join(job.pdd, "artifacts"))
    assert os.path.isfile(manifest)

    # Lose the stream, restore it from the run.
    result, stdout = job.run("delete", "resources.yml", DELETE)
    assert _changed(_ok(result, stdout, "delete")) == {"localhost": 1}
    result, stdout = job.run("restore", "restore.yml", {"nats_restore_run": run_dir})
    assert _changed(_ok(result, stdout, "restore")) == {"localhost": 1}
    assert "%s: %d" % (STREAM, MESSAGES) in stdout

    # The backup lands on an inventory host, chosen by inventory variables (as an AWX inventory update would set
    # them; the survey's nats_backup_dir is not sent). The job's private data directory is then removed whole.
    if not job.backup_host:
        pytest.skip("the inventory has no monitoring host to keep backups on")
    start = time.monotonic()
    os.makedirs(os.path.join(job.pdd, "inventory", "host_vars"), exist_ok=True)
    with open(os.path.join(job.pdd, "inventory", "host_vars", "localhost.yml"), "w") as f:
        json.dump({"nats_backup_host": job.backup_host, "nats_backup_dir": HOST_BACKUP_DIR, "nats_backup_keep": 2,
                   "nats_backup_streams": [STREAM]}, f)
    backup_job = job.fork(job.pdd + "-backup")
    result, stdout = backup_job.run("backup-to-host", "backup.yml")
    changed = _changed(_ok(result, stdout, "backup-to-host"))
    assert list(changed) == ["localhost"], changed
    assert "run: %s:%s/" % (job.backup_host, HOST_BACKUP_DIR) in stdout, stdout[-3000:]
    tmp_dirs = _tempdirs(result)
    assert len(tmp_dirs) == 1 and not os.path.exists(tmp_dirs[0]), tmp_dirs    # the controller's copy is gone
    shutil.rmtree(backup_job.pdd)
    listing = _on_host(job, "cd %s && stat -c '%%a %%U %%n' . * */* */*/* && cat */%s/manifest.json"
                       % (HOST_BACKUP_DIR, STREAM))
    lines = listing.splitlines()
    (run_line,) = [line for line in lines if line.endswith("Z") and "/" not in line.split()[-1]]
    assert all(line.split()[0] in ("700", "600") for line in lines if line[:1].isdigit()), listing
    host_manifest = json.loads(listing[listing.index("{"):])
    assert (host_manifest["stream"], host_manifest["messages"]) == (STREAM, MESSAGES), host_manifest

    # Lose the stream again (directly: the delete job was shown above); a restore job (its own private data
    # directory) takes the latest run from the host.
    _publish(job, delete=True)
    restore_job = job.fork(job.pdd + "-restore")
    result, stdout = restore_job.run("restore-from-host", "restore.yml", {"nats_restore_run": "latest"})
    assert _changed(_ok(result, stdout, "restore-from-host")).get("localhost"), stdout[-3000:]
    assert "run: %s:%s/%s" % (job.backup_host, HOST_BACKUP_DIR, run_line.split()[-1]) in stdout, stdout[-3000:]
    assert "%s: %d" % (STREAM, MESSAGES) in stdout
    assert _publish(job, 0) == MESSAGES
    tmp_dirs = _tempdirs(result)
    assert len(tmp_dirs) == 1 and not os.path.exists(tmp_dirs[0]), tmp_dirs
    assert "natsops-restore" not in _on_host(job, "ls -A %s" % HOST_BACKUP_DIR)   # the host's archive is gone
    shutil.rmtree(restore_job.pdd)
    sys.stderr.write("awx runner: backup to %s and restore from it added %.1f s\n"
                     % (job.backup_host, time.monotonic() - start))
