"""A playbook that would run on no host fails, naming the group it looked for, before any host is contacted: the
inventory's only hosts point at containers that do not exist and sit in a group that is not the NATS group (an
unreachable host would show up as UNREACHABLE, a silent run as "skipping: no hosts matched" and exit code 0)."""
import os
import subprocess
import textwrap

import pytest
from natsproc import ansible_env

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PLAYBOOKS = ["site.yml", "health.yml", "drain.yml", "remove_node.yml", "monitoring.yml"]

INVENTORY = """
all:
  vars:
    ansible_connection: community.docker.docker
    ansible_host: natsops-nohosts-does-not-exist-{{ inventory_hostname }}
  children:
    brokers:
      hosts:
        b1: {}
        b2: {}
"""


def run(tmp_path, playbook, *extra):
    inv = tmp_path / "hosts.yml"
    inv.write_text(textwrap.dedent(INVENTORY))
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", str(inv),
           os.path.join(ROOT, "playbooks", playbook), "-e", "nats_drain_node=b1", "-e", "nats_remove_node=b1"]
    for item in extra:
        cmd += ["-e", item]
    env = ansible_env(ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "UNREACHABLE" not in out and "no hosts matched" not in out, out
    return " ".join(out.split())


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_inventory_without_the_nats_group(tmp_path, playbook):
    out = run(tmp_path, playbook)
    assert ("The inventory has no host in the group 'nats' (groups: brokers). Put the NATS nodes in that group, or "
            "set nats_server_group to the group that holds them (an inventory or extra variable).") in out


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_wrong_nats_server_group(tmp_path, playbook):
    out = run(tmp_path, playbook, "nats_server_group=natz")
    assert "The inventory has no host in the group 'natz' (groups: brokers)." in out


def test_monitoring_without_monitoring_hosts(tmp_path):
    out = run(tmp_path, "monitoring.yml", "nats_server_group=brokers")
    assert ("The inventory has no host in the group 'monitoring' (groups: brokers). Put the Prometheus hosts in that "
            "group, or set nats_monitoring_host_group to the group that holds them") in out
    # The NATS group was found: the run stopped before its play.
    assert "Monitoring of the NATS supercluster" not in out
