"""AWX as code (awx/): credential types and job-template surveys checked against the playbooks' argument specs.

No AWX server runs here; these checks are what stands between a survey and a playbook that would not accept it.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _load(path):
    return yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass


def playbook_spec(playbook):
    """The options a playbook declares: playbooks/argument_specs/<name>.yml, the argument specs of the
    collection's roles its plays run (backup.yml, restore.yml), or its own first validate_argument_spec task
    (health.yml)."""
    path = ROOT / "playbooks" / "argument_specs" / playbook
    if path.exists():
        return _load(path)["argument_specs"]["main"]["options"]
    options = {}
    for play in _load(ROOT / "playbooks" / playbook):
        for role in play.get("roles", []):
            name = role["role"] if isinstance(role, dict) else role
            assert name.startswith("natsops.jetstream."), name
            spec = ROOT / "roles" / name.rsplit(".", 1)[1] / "meta" / "argument_specs.yml"
            options.update(_load(spec)["argument_specs"]["main"]["options"])
        for task in play.get("tasks", []):
            spec = task.get("ansible.builtin.validate_argument_spec")
            if spec and isinstance(spec.get("argument_spec"), dict):
                return spec["argument_spec"]
    if options:
        return options
    raise AssertionError(f"{playbook} declares no argument spec")


def test_backup_and_restore_take_their_settings_from_roles():
    """Play vars beat inventory variables: backup.yml and restore.yml only run their roles (issues 9 and 12)."""
    for name in ("backup", "restore"):
        (play,) = _load(ROOT / "playbooks" / f"{name}.yml")
        assert "vars" not in play and play["roles"] == [f"natsops.jetstream.{name}"], play
        assert not (ROOT / "playbooks" / "argument_specs" / f"{name}.yml").exists()
        defaults = _load(ROOT / "roles" / name / "defaults" / "main.yml")
        assert defaults[f"nats_{name}_servers"] == [], "unset servers leave the modules to NATS_URL"


def all_declared():
    names = set()
    for pb in ("site.yml", "health.yml", "resources.yml", "backup.yml", "restore.yml"):
        names |= set(playbook_spec(pb))
    for role_spec in (ROOT / "roles").glob("*/meta/argument_specs.yml"):
        for entry in _load(role_spec)["argument_specs"].values():
            names |= set(entry.get("options", {}))
    return names


TEMPLATES = _load(ROOT / "awx" / "job_templates.yml")["natsops_job_templates"]
CREDENTIAL_TYPES = _load(ROOT / "awx" / "credential_types.yml")["natsops_credential_types"]
SECRET_ENV = {"NATS_PASSWORD"}     # the only env vars a secret field may fill (modules read it, no_log)
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def test_the_job_templates_the_issue_asks_for():
    names = {t["name"] for t in TEMPLATES}
    for word in ("deploy", "health", "stream", "consumer", "identity", "backup", "restore"):
        assert any(word in n for n in names), word
    assert {t["playbook"] for t in TEMPLATES} <= {"site.yml", "health.yml", "resources.yml", "backup.yml",
                                                  "restore.yml"}
    assert {t["name"] for t in TEMPLATES if "schedule" in t} == {"NATS - health", "NATS - backup"}


@pytest.mark.parametrize("template", TEMPLATES, ids=[t["name"] for t in TEMPLATES])
def test_survey_matches_the_playbook_spec(template):
    spec = playbook_spec(template["playbook"])
    for q in template["survey"]:
        assert {"variable", "question_name", "type", "required"} <= set(q), q
        assert q["type"] in SURVEY_TYPES
        opt = spec.get(q["variable"])
        assert opt is not None, f"{template['playbook']} does not declare survey variable {q['variable']}"
        kind = opt.get("type", "str")
        if q["type"] in ("text", "textarea", "password"):
            assert kind in ("str", "path"), q["variable"]
            assert "choices" not in opt, f"{q['variable']}: the spec has choices, the survey must offer them"
        elif q["type"] == "integer":
            assert kind == "int" and "choices" not in opt, q["variable"]
        elif q["type"] == "float":
            assert kind == "float", q["variable"]
        elif q["type"] == "multiplechoice":
            if kind == "bool":
                assert set(q["choices"]) == {"true", "false"}
            elif kind == "int":
                assert [int(c) for c in q["choices"]] == opt["choices"]
            else:
                assert kind == "str" and q["choices"] == opt["choices"]
            if "default" in q:
                assert q["default"] in q["choices"]
        if "min" in q and "default" in q and q["type"] in ("integer", "float"):
            assert q["min"] <= q["default"] <= q["max"]


@pytest.mark.parametrize("template", TEMPLATES, ids=[t["name"] for t in TEMPLATES])
def test_extra_vars_use_survey_answers_and_declared_variables(template):
    spec = playbook_spec(template["playbook"])
    asked = {q["variable"] for q in template["survey"]}
    for var, value in (template.get("extra_vars") or {}).items():
        assert var in spec or var in all_declared(), var
        used = set(re.findall(r"{{\s*([a-z_]+)", yaml.safe_dump(value)))
        assert used and used <= asked, (var, used - asked)


@pytest.mark.parametrize("ctype", CREDENTIAL_TYPES, ids=[c["name"] for c in CREDENTIAL_TYPES])
def test_credential_type(ctype):
    assert ctype["kind"] in ("cloud", "net")
    fields = {f["id"]: f for f in ctype["inputs"]["fields"]}
    assert set(ctype["inputs"]["required"]) <= set(fields)
    for f in fields.values():
        assert f["type"] in ("string", "boolean")
        if "key" in f["id"] or "password" in f["id"] or "token" in f["id"]:
            assert f.get("secret") is True, f"{f['id']} must be secret"
    files = ctype["injectors"].get("file", {})
    assert all(k.startswith("template.") for k in files), "multi-file form only"
    file_ids = {k.split(".", 1)[1] for k in files}
    injected = list(files.values()) + list(ctype["injectors"].get("env", {}).values()) + \
        [v for v in ctype["injectors"].get("extra_vars", {}).values() if isinstance(v, str)]
    for text in injected:
        for ref in re.findall(r"{{\s*([\w.]+)\s*}}", text):
            if ref.startswith("tower.filename."):
                assert ref.split(".", 2)[2] in file_ids, ref
            else:
                assert ref in fields, ref
    # Secrets reach the job as files, never as extra vars (job variables can be printed); the one exception is a
    # password, which the modules take as a string: it may go to natscli's NATS_PASSWORD env var only, whole.
    secret = {i for i, f in fields.items() if f.get("secret")}
    for name, text in ctype["injectors"].get("env", {}).items():
        used = set(re.findall(r"{{\s*(\w+)\s*}}", text)) & secret
        if used:
            assert name in SECRET_ENV and re.fullmatch(r"{{\s*\w+\s*}}", text), (name, text)
            assert all(fields[f].get("secret") for f in used)
    for text in [v for v in ctype["injectors"].get("extra_vars", {}).values() if isinstance(v, str)]:
        assert not set(re.findall(r"{{\s*(\w+)\s*}}", text)) & secret, text
    declared = all_declared()
    for var in ctype["injectors"].get("extra_vars", {}):
        assert var in declared, f"{var} is injected but no playbook or role declares it"


def test_the_credential_types_the_issue_asks_for():
    """A client identity (CA/cert/key), a creds file and a user/password, each injecting natscli's env vars that the
    modules read (plugins/module_utils/_jetstream.py), and the PKI's CA."""
    by_name = {c["name"]: c for c in CREDENTIAL_TYPES}
    env = {name: set(c["injectors"].get("env", {})) for name, c in by_name.items()}
    assert env["NATS client identity (natsops)"] == {"NATS_URL", "NATS_CA", "NATS_CERT", "NATS_KEY"}
    assert env["NATS credentials file (natsops)"] == {"NATS_URL", "NATS_CA", "NATS_CREDS"}
    userpass = by_name["NATS user and password (natsops)"]
    assert env["NATS user and password (natsops)"] == {"NATS_URL", "NATS_CA", "NATS_USER", "NATS_PASSWORD"}
    fields = {f["id"]: f for f in userpass["inputs"]["fields"]}
    assert fields["password"].get("secret") is True and not fields["user"].get("secret")
    assert set(userpass["inputs"]["required"]) == {"servers", "ca", "user", "password"}
    assert "extra_vars" not in userpass["injectors"], "the password must not become a job variable"
    module_utils = (ROOT / "plugins" / "module_utils" / "_jetstream.py").read_text()
    for names in env.values():
        for name in names:
            assert '"%s"' % name in module_utils or "'%s'" % name in module_utils, f"no module reads {name}"
    assert "NATS PKI CA (natsops)" in by_name
