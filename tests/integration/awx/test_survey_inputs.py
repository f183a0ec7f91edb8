"""A bad survey answer stops resources.yml (its validate_argument_spec task), backup.yml and restore.yml (the
backup and restore roles' argument specs, checked before the roles' first task) with the spec's message, before
any task touches a server. Runs ansible-playbook against localhost; no NATS needed
(the servers point at a closed port, so a task that got past validation would fail differently)."""
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from natsproc import ROOT, ansible_env  # noqa: E402

NOWHERE = '["nats://127.0.0.1:1"]'

VALIDATE = "Check the job's inputs"                                   # resources.yml's task
ROLE_SPEC = "Validating arguments against arg spec 'main'"            # a role's entry-point validation

CASES = [
    # playbook, bad extra vars, words the spec's message must contain, the validating task
    ("resources.yml", ["-e", "jetstream_request_replicas=2", "-e", "jetstream_servers=" + NOWHERE],
     ["jetstream_request_replicas", "1, 3, 5"], VALIDATE),
    ("backup.yml", ["-e", "nats_backup_keep=seven", "-e", "nats_backup_servers=" + NOWHERE],
     ["nats_backup_keep", "int"], "natsops.jetstream.backup : " + ROLE_SPEC),
    ("restore.yml", ["-e", "nats_restore_replicas=three", "-e", "nats_restore_run=/nonexistent",
                     "-e", "nats_restore_servers=" + NOWHERE],
     ["nats_restore_replicas", "int"], "natsops.jetstream.restore : " + ROLE_SPEC),
]


@pytest.mark.parametrize("playbook,extra,words,validating", CASES, ids=[c[0] for c in CASES])
def test_bad_survey_answer_fails_at_the_spec(tmp_path, playbook, extra, words, validating):
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,",
           os.path.join(ROOT, "playbooks", playbook)] + extra
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=ansible_env(ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default"),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120, check=False)
    out = proc.stdout
    assert proc.returncode != 0, out
    assert "Validation of arguments failed" in out, out
    for word in words:
        assert word in out, out
    # The validation task is the first of the play and the only one that ran.
    tasks = [line for line in out.splitlines() if line.startswith("TASK [")]
    assert len(tasks) == 1 and validating in tasks[0], tasks
    assert "changed=0" in out and "failed=1" in out, out


@pytest.mark.parametrize("extra,group", [([], "nats"), (["-e", "nats_server_group=natz"], "natz")], ids=["nats", "natz"])
def test_site_with_no_host_in_the_group_fails_naming_it(tmp_path, extra, group):
    """An empty or misnamed group is an error naming the group, never "no hosts matched" and success."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    brokers:\n      hosts:\n        b1: {ansible_connection: local}\n")
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", str(inventory),
           os.path.join(ROOT, "playbooks", "site.yml")] + extra
    proc = subprocess.run(cmd, cwd=str(tmp_path), env=ansible_env(ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default"),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120, check=False)
    out = " ".join(proc.stdout.split())
    assert proc.returncode != 0, out
    assert "no host in the group '%s' (groups: brokers)" % group in out, out
