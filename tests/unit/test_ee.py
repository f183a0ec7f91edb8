"""Execution environment metadata: what ansible-builder sees in the installed artifact and the context it creates.

`ansible-builder introspect` and `ansible-builder create` run offline and call no container runtime.
scripts/ee.sh builds the image itself (outside CI; see docs/awx.md).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
if not (ROOT / "scripts" / "setup.sh").exists():
    # `ansible-test units` runs on the collection as it ships (build_ignore applied): no repository tree to build.
    pytest.skip("the repository tree is not here (collection-only copy)", allow_module_level=True)
PYTHON_DEPS = {"nats-py", "nkeys", "cryptography", "passlib", "bcrypt"}


def _run(*args, cwd):
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("ANSIBLE_CONFIG", None)
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, env=env, cwd=cwd)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The built tarball, installed into an empty collections path the way an EE build installs it."""
    tmp = tmp_path_factory.mktemp("ee")
    _run(VENV_BIN / "ansible-galaxy", "collection", "build", "--output-path", tmp, ROOT, cwd=tmp)
    (tarball,) = tmp.glob("natsops-jetstream-*.tar.gz")
    _run(VENV_BIN / "ansible-galaxy", "collection", "install", "--force", "--offline", "--no-deps", "-p",
         tmp / "collections", tarball, cwd=tmp)
    return tmp, tarball


def _names(lines):
    return {re.split(r"[<>=!~ \[]", line.strip(), maxsplit=1)[0].lower() for line in lines
            if line.strip() and not line.strip().startswith("#")}


def test_meta_execution_environment_is_v3_and_runtime_only():
    meta = yaml.safe_load((ROOT / "meta/execution-environment.yml").read_text())
    assert meta["version"] == 3
    reqs = (ROOT / meta["dependencies"]["python"]).read_text().splitlines()
    names = _names(reqs)
    assert names == PYTHON_DEPS
    # Certification rules: no ansible / ansible-core, no pins or upper bounds.
    assert not names & {"ansible", "ansible-core"}
    assert not [r for r in reqs if re.search(r"==|<", r.split("#")[0])]
    assert (ROOT / meta["dependencies"]["system"]).is_file()


def test_introspect_reads_the_installed_artifact(installed):
    tmp = installed[0]
    out = yaml.safe_load(_run(VENV_BIN / "ansible-builder", "introspect", "--sanitize", tmp / "collections",
                              cwd=tmp).stdout)
    assert _names(line.split("#")[0] for line in out["python"]) == PYTHON_DEPS
    assert any(line.startswith("openssh-client [platform:dpkg]") for line in out["system"])


def test_create_produces_the_build_context(installed):
    tmp, tarball = installed
    ctx = tmp / "context"
    definition = {
        "version": 3,
        "images": {"base_image": {"name": "natsops/debian12-systemd:1"}},
        "dependencies": {
            "ansible_core": {"package_pip": "ansible-core"},
            "ansible_runner": {"package_pip": "ansible-runner"},
            "galaxy": {"collections": [{"name": tarball.name, "type": "file"}]},
            "python_interpreter": {"python_path": "/usr/bin/python3"},
        },
        "additional_build_files": [{"src": str(tarball), "dest": "collections"}],
        "options": {"package_manager_path": "/usr/bin/apt-get", "skip_ansible_check": False},
    }
    path = tmp / "execution-environment.yml"
    path.write_text(yaml.safe_dump(definition))
    _run(VENV_BIN / "ansible-builder", "create", "-f", path, "-c", ctx, "--output-filename", "Containerfile",
         cwd=tmp)
    containerfile = (ctx / "Containerfile").read_text()
    assert "ARG EE_BASE_IMAGE=\"natsops/debian12-systemd:1\"" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "assemble" in containerfile
    galaxy = yaml.safe_load((ctx / "_build/requirements.yml").read_text())
    assert galaxy["collections"] == [{"name": tarball.name, "type": "file"}]
    assert (ctx / "_build/collections" / tarball.name).is_file()
    assert (ctx / "_build/scripts/assemble").is_file()
    assert (ctx / "_build/scripts/introspect.py").is_file()
