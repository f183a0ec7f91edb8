"""The collection artifact: `ansible-galaxy collection build` output, what it holds, and galaxy-importer's verdict.

The build runs once per session (about 1 s); galaxy-importer (about 10 s, with ansible-doc and an offline
ansible-lint, no ansible-test container) runs on the same tarball.
"""

import fnmatch
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
if not (ROOT / "scripts" / "setup.sh").exists():
    # `ansible-test units` runs on the collection as it ships (build_ignore applied): no repository tree to build.
    pytest.skip("the repository tree is not here (collection-only copy)", allow_module_level=True)

# Top-level entries an installed collection needs; anything else in the tarball is a packaging mistake.
SHIPPED_TOP = {"FILES.json", "MANIFEST.json", "LICENSE", "README.md", "changelogs", "docs", "meta", "playbooks",
               "plugins", "roles"}
NEVER_SHIPPED = ["tests/*", "awx/*", "extensions/*", "scripts/*", "benchmarks/*", "inventories/*", ".venv/*", ".cache/*",
                 "*/__pycache__/*", "*.pyc", "playbooks/lab_up.yml", "playbooks/lab_down.yml", "requirements.txt",
                 "Makefile", "ansible.cfg", "*.tar.gz"]

IMPORTER_CFG = """[galaxy-importer]
run_ansible_test = False
run_ansible_lint = True
offline_ansible_lint = True
run_ansible_doc = True
check_changelog = True
ansible_local_tmp = {tmp}/ansible-tmp
"""


def _env():
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("ANSIBLE_CONFIG", None)
    return env


@pytest.fixture(scope="session")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True, env=_env(), cwd=out)
    (path,) = out.glob("natsops-jetstream-*.tar.gz")
    return path


@pytest.fixture(scope="session")
def members(tarball):
    with tarfile.open(tarball) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_manifest_declares_the_dependencies_shipped_content_uses(tarball):
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    deps = manifest["collection_info"]["dependencies"]
    assert set(deps) == {"community.crypto", "community.general"}
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert manifest["collection_info"]["version"] == galaxy["version"]


def test_tarball_holds_only_what_ships(members):
    names = [n for n in members if members[n].isfile()]
    assert {n.split("/")[0] for n in members} <= SHIPPED_TOP
    leaked = [n for n in names if any(fnmatch.fnmatch(n, pat) for pat in NEVER_SHIPPED)]
    assert leaked == []


def test_every_tracked_runtime_file_ships(members):
    """Nothing a user needs is dropped by build_ignore: each git-tracked file under a shipped directory is in."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.split()
    expected = [f for f in tracked if f.split("/")[0] in SHIPPED_TOP and (ROOT / f).exists()
                and not any(fnmatch.fnmatch(f, pat) for pat in NEVER_SHIPPED)]
    assert expected, "git ls-files found nothing"
    missing = [f for f in expected if f not in members]
    assert missing == []
    for must in ("plugins/modules/apply.py", "roles/server/meta/argument_specs.yml", "playbooks/site.yml",
                 "meta/runtime.yml", "meta/execution-environment.yml", "meta/ee-requirements.txt",
                 "meta/ee-bindep.txt"):
        assert must in members, must


def test_galaxy_importer_accepts_the_tarball(tarball, tmp_path):
    cfg = tmp_path / "galaxy-importer.cfg"
    cfg.write_text(IMPORTER_CFG.format(tmp=tmp_path))
    env = _env()
    env["GALAXY_IMPORTER_CONFIG"] = str(cfg)
    env["HOME"] = str(tmp_path)
    res = subprocess.run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=300, check=False)
    log = res.stdout + res.stderr
    assert res.returncode == 0, log
    assert "Importer processing completed successfully" in log, log
    errors = [line for line in log.splitlines() if line.startswith("ERROR")]
    assert errors == [], "\n".join(errors)
