"""Modules read the connection options a task leaves out from the NATS CLI's environment variables, as the
collection's AWX credential types inject them (awx/credential_types.yml): a play with no connection option at
all manages a stream on a real nats-server with password auth, and the password never appears in the output."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from natsproc import ROOT, Supercluster, ansible_env  # noqa: E402

SECRET = "s3cret-app-pw"


def run(tmp_path, tasks, **env):
    play = [{"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": tasks}]
    path = tmp_path / "play.yml"
    path.write_text(json.dumps(play))
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", str(path), "-v"],
                          capture_output=True, text=True, env=ansible_env(ANSIBLE_NOCOLOR="1", **env), timeout=180,
                          check=False)
    return proc, proc.stdout + proc.stderr


def test_connection_options_come_from_the_environment(tmp_path):
    sc = Supercluster({"s": 1}, accounts=True)
    # The APP account's user gets a password of our own (not the fixture's app/app), to look for it in the output.
    conf = sc.nodes[0].conf
    with open(conf) as f:
        text = f.read()
    assert "{user: app, password: app}" in text
    with open(conf, "w") as f:
        f.write(text.replace("{user: app, password: app}", "{user: app, password: %s}" % SECRET))
    sc.start()
    try:

        stream = {"natsops.jetstream.stream": {"name": "ENVCRED", "subjects": ["envcred.>"]}}
        env = dict(NATS_URL=sc.urls()[0], NATS_USER="app", NATS_PASSWORD=SECRET)
        proc, out = run(tmp_path, [stream], **env)
        assert proc.returncode == 0, out[-3000:]
        assert "changed=1" in out, out[-3000:]
        assert SECRET not in out
        again, out = run(tmp_path, [stream], **env)
        assert again.returncode == 0 and "changed=0" in out, out[-3000:]

        # Without the variables the module falls back to its defaults (127.0.0.1:4222, no user) and says so.
        nothing, out = run(tmp_path, [stream])
        assert nothing.returncode != 0, out[-3000:]
        # A value given to the task wins over the environment.
        task = {"natsops.jetstream.stream": {"name": "ENVCRED", "subjects": ["envcred.>"], "password": "wrong"}}
        wrong, out = run(tmp_path, [task], **env)
        assert wrong.returncode != 0 and "uthorization" in out, out[-3000:]
        assert SECRET not in out
    finally:
        sc.stop()
