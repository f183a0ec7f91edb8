"""What an AWX job gets from one of the collection's credential types (awx/credential_types.yml), for the
integration tests that run backup.yml and restore.yml with it: the file injectors written into a private data
directory (0600, as AWX does) and the env injectors rendered from the YAML itself, then ansible-playbook with
only those NATS_* variables in its environment. Also the loopback PKI (the pki role's certificates for n1)."""
import os
import subprocess

import yaml

from natsproc import ROOT, ansible_env

BIN = os.path.join(ROOT, ".venv", "bin")


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def credential_type(name):
    with open(os.path.join(ROOT, "awx", "credential_types.yml")) as f:
        types = yaml.load(f, Loader=_Loader)["natsops_credential_types"]  # noqa: S506 - SafeLoader subclass
    (ctype,) = [t for t in types if t["name"] == name]
    return ctype


def injected_env(name, inputs, private_dir):
    """The env the credential type ``name`` gives a job for ``inputs``: each file injector's template written to a
    file in ``private_dir`` (its ``tower.filename.<id>``), each env injector's template rendered. The templates
    are single references ("{{ servers }}", "{{ tower.filename.ca }}"), which is all the types use."""
    ctype = credential_type(name)
    values = dict(inputs)
    for key, template in ctype["injectors"].get("file", {}).items():
        fid = key[len("template."):]
        path = os.path.join(str(private_dir), "tmp_" + fid)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(values[template.strip("{} ")])
        values["tower.filename." + fid] = path
    return dict((var, values[template.strip("{} ")]) for var, template in ctype["injectors"]["env"].items())


def backup_inventory(tmp_path, stream):
    """An inventory whose backup and restore settings, as a job template's inventory would hold them, back up
    ``stream`` into <tmp_path>/backups and restore the latest run: (inventory path, backups directory)."""
    backups = tmp_path / "backups"
    inv = tmp_path / "hosts.yml"
    inv.write_text("all:\n  hosts:\n    localhost:\n      nats_backup_dir: %s\n      nats_backup_streams: [%s]\n"
                   "      nats_restore_run: latest\n" % (backups, stream))
    return str(inv), backups


def run(playbook, inventory, env, verbosity="-v"):
    """ansible-playbook playbooks/<playbook> with the NATS_* variables of this process replaced by ``env``."""
    environ = ansible_env(ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="default")
    for var in [v for v in environ if v.startswith("NATS_")]:
        del environ[var]
    environ.update(env)
    proc = subprocess.run([BIN + "/ansible-playbook", verbosity, "-i", inventory,
                           os.path.join(ROOT, "playbooks", playbook)],
                          capture_output=True, text=True, env=environ, timeout=300, check=False)
    return proc, proc.stdout + proc.stderr


def make_pki(pki):
    """The pki role's CA and certificates (server n1's is valid for 127.0.0.1) under ``pki``."""
    proc = subprocess.run([BIN + "/ansible-playbook", "-i", "tests/integration/security/inventory.ini",
                           "tests/integration/security/pki.yml", "-e", "nats_pki_dir=" + pki],
                          cwd=ROOT, env=dict(os.environ, PATH=BIN + ":" + os.environ["PATH"]), capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return {"ca": os.path.join(pki, "ca.crt"), "cert": os.path.join(pki, "servers", "n1", "tls.crt"),
            "key": os.path.join(pki, "servers", "n1", "tls.key")}
