"""Each preflight error of the server role: the play fails with a message naming the host, group or
variable, before any host is contacted (the inventory's hosts point at containers that do not exist,
so any task that reached a host would show up as unreachable rather than as the preflight failure)."""
import json
import os
import subprocess
import textwrap

import pytest
from natsproc import ansible_env

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def run_site(tmp_path, inventory, extra_vars=None):
    inv = tmp_path / "hosts.yml"
    inv.write_text(textwrap.dedent(inventory))
    cmd = [os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", str(inv),
           os.path.join(ROOT, "playbooks", "site.yml")]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    env = ansible_env(ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    # Nothing was contacted, nothing changed.
    assert "UNREACHABLE" not in out, out
    for line in out.splitlines():
        if ": ok=" in line:
            assert "changed=0" in line and "unreachable=0" in line, line
    return " ".join(out.split())


HEAD = """
all:
  vars:
    ansible_connection: community.docker.docker
    ansible_host: natsops-preflight-does-not-exist-{{ inventory_hostname }}
  children:
    nats:
      vars:
        nats_server_cluster_groups: %s
      children:
"""


def clusters(*sizes, extra=""):
    body = ""
    for i, size in enumerate(sizes, start=1):
        body += "        c%d:\n          hosts:\n" % i
        for n in range(1, size + 1):
            body += "            c%d-n%d: {}\n" % (i, n)
    return body + extra


def names(count):
    return "[" + ", ".join("c%d" % i for i in range(1, count + 1)) + "]"


def test_host_in_two_cluster_groups(tmp_path):
    inv = HEAD % names(2) + clusters(3, 3) + "        c2x:\n          hosts:\n            c1-n1: {}\n"
    out = run_site(tmp_path, inv, {"nats_server_cluster_groups": ["c1", "c2", "c2x"],
                                   "nats_server_allow_small_clusters": True})
    assert "host 'c1-n1' is in several cluster groups (c1, c2x)" in out


def test_host_in_no_cluster_group(tmp_path):
    inv = HEAD % names(2) + clusters(3, 3) + "        loose:\n          hosts:\n            stray-1: {}\n"
    out = run_site(tmp_path, inv)
    assert "host 'stray-1' is in group 'nats' but in none of the cluster groups" in out


def test_duplicate_cluster_names(tmp_path):
    inv = HEAD % names(2) + clusters(3, 3)
    inv = inv.replace("        c2:\n", "        c2:\n          vars: {nats_server_cluster_name: c1}\n")
    out = run_site(tmp_path, inv)
    assert "cluster name 'c1' is used by groups 'c1' and 'c2'" in out


def test_duplicate_server_names(tmp_path):
    inv = (HEAD % names(2) + clusters(3, 3)).replace("c2-n3: {}", "c2-n3: {nats_server_name: c1-n1}")
    out = run_site(tmp_path, inv)
    assert "server name 'c1-n1' is used by hosts 'c1-n1' and 'c2-n3'" in out


@pytest.mark.parametrize("size", [1, 2, 4])
def test_small_or_even_jetstream_cluster(tmp_path, size):
    out = run_site(tmp_path, HEAD % names(2) + clusters(size, 3))
    assert "cluster 'c1' (group 'c1') has %d node(s)" % size in out
    assert "nats_server_allow_small_clusters: true" in out


def test_gateways_need_two_clusters(tmp_path):
    out = run_site(tmp_path, HEAD % names(1) + clusters(3), {"nats_server_gateways_enabled": True})
    assert "gateways join at least two clusters" in out


def test_invalid_port(tmp_path):
    inv = (HEAD % names(2) + clusters(3, 3)).replace("c1-n2: {}", "c1-n2: {nats_server_cluster_port: 70000}")
    out = run_site(tmp_path, inv)
    assert "host 'c1-n2': nats_server_cluster_port is '70000'; it must be an integer from 1 to 65535" in out


def test_clashing_ports(tmp_path):
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {"nats_server_http_port": 4222})
    assert "nats_server_client_port and nats_server_http_port are both 4222" in out


def test_unknown_cluster_group(tmp_path):
    out = run_site(tmp_path, HEAD % "[c1, c2, c9]" + clusters(3, 3))
    assert "nats_server_cluster_groups names group 'c9', which is not in the inventory" in out


def test_no_cluster_groups(tmp_path):
    out = run_site(tmp_path, HEAD % "[]" + clusters(3, 3))
    assert "nats_server_cluster_groups must list the inventory groups" in out


def test_differing_domains(tmp_path):
    inv = (HEAD % names(2) + clusters(3, 3)).replace("c2-n1: {}", "c2-n1: {nats_server_jetstream_domain: hub}")
    out = run_site(tmp_path, inv)
    assert "nats_server_jetstream_domain differs between nodes" in out


def test_lame_duck_too_short(tmp_path):
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {"nats_server_lame_duck_duration": "10s"})
    assert "nats_server_lame_duck_duration must be at least 30s (is '10s')" in out


def test_mtls_without_client_tls(tmp_path):
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {"nats_server_auth_mode": "mtls"})
    assert "nats_server_auth_mode 'mtls' needs TLS on the client port (nats_server_tls_client_enabled: true)" in out


def test_unknown_permission_set(tmp_path):
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {
        **_byo_vars(_byo_pki(tmp_path)), "nats_server_auth_mode": "password",
        "nats_server_secrets_dir": str(tmp_path / "secrets"),
        "nats_server_app_users": [{"name": "admin", "permissions": "admin"}, {"name": "bob", "permissions": "ops"}]})
    assert ("nats_server_app_users: user 'bob' uses permission set 'ops', which is not defined; "
            "known sets: admin, reader") in out
    assert not (tmp_path / "secrets").exists()  # no secret was generated either


def test_unknown_identity_in_mtls_mode(tmp_path):
    pki = tmp_path / "pki"
    for ident in ("admin", "reader", "sys"):
        (pki / "clients" / ident).mkdir(parents=True)
        (pki / "clients" / ident / "tls.crt").write_text("placeholder")
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {
        **_byo_vars(_byo_pki(tmp_path)), "nats_server_auth_mode": "mtls", "nats_server_tls_pki_dir": str(pki),
        "nats_server_app_users": [{"name": "admin", "permissions": "admin"}, {"name": "dave", "permissions": "reader"}]})
    assert "nats_server_app_users: user 'dave' has no client certificate in %s/clients" % pki in out
    assert "add it to nats_pki_extra_identities" in out


# --- Semantic checks of every setting (plugins/filter/settings.py), all before any host is contacted -----------

def test_settings_that_broke_a_lab_are_refused_together(tmp_path):
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {
        "nats_server_max_payload": -5, "nats_server_write_deadline": "-1s", "nats_server_max_connections": 0,
        "nats_server_jetstream_max_file_store": "lots"})
    assert "Invalid settings of the server role (nothing was changed on any host)" in out
    assert "nats_server_max_payload must be a size from 1 byte to 64 MiB (67108864) (is -5) on every host (6)." in out
    assert ("nats_server_write_deadline must be a duration greater than 0, e.g. 10s (at 0 or below every write to a "
            "client times out at once) (is '-1s') on every host (6).") in out
    assert ("nats_server_max_connections must be a whole number of at least 1 (nats-server turns 0 and negative "
            "values into 'refuse every client') (is 0) on every host (6).") in out
    assert "nats_server_jetstream_max_file_store must be a size of at least 0, or -1" in out
    assert ("(is 'lots') on every host (6). Sizes are a whole number of bytes, or a whole number with a unit: KB/KiB, "
            "MB/MiB, GB/GiB, TB/TiB (all powers of 1024, as nats-server reads them), e.g. 512MB or 10GB.") in out
    assert "human_to_bytes" not in out.split("Sizes are", maxsplit=1)[0]  # no raw filter error
    assert "Probe the node" not in out


def test_per_host_value_names_its_host(tmp_path):
    inv = (HEAD % names(2) + clusters(3, 3)).replace("c1-n2: {}", "c1-n2: {nats_server_max_payload: 1.5MB}")
    out = run_site(tmp_path, inv)
    assert "nats_server_max_payload must be a size from 1 byte to 64 MiB (67108864) (is '1.5MB') on host 'c1-n2'." in out


def test_day_duration_is_refused(tmp_path):
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {"nats_server_write_deadline": "1d"})
    assert ("nats_server_write_deadline must be a duration greater than 0, e.g. 10s (is '1d') on every host (6). "
            "nats-server's config refuses days and weeks ('d', 'w') (Ansible's to_seconds would read them): write "
            "hours instead, e.g. 24h.") in out


def test_fractional_size_is_refused(tmp_path):
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {"nats_server_jetstream_max_memory_store": "1.5GB"})
    assert "nats_server_jetstream_max_memory_store must be a size of at least 0, or -1" in out
    assert "(is '1.5GB') on every host (6)." in out
    assert ("nats-server refuses fractions (Ansible's human_to_bytes would accept them): write a smaller unit, "
            "e.g. 1536MB for 1.5GB.") in out


def test_node_without_the_unique_tag_is_refused(tmp_path):
    inv = HEAD % names(2) + clusters(3, 3)
    for c in (1, 2):
        for n in (1, 2, 3):
            tags = "[]" if (c, n) == (2, 2) else '["az:%d"]' % n
            inv = inv.replace("c%d-n%d: {}" % (c, n), "c%d-n%d: {nats_server_tags: %s}" % (c, n, tags))
    out = run_site(tmp_path, inv, {"nats_server_jetstream_unique_tag": "az:"})
    assert ("nats_server_jetstream_unique_tag is 'az:' but host 'c2-n2' carries no tag starting with it in "
            "nats_server_tags: nats-server never places a replica on a node without one") in out


def test_port_out_of_range_is_refused(tmp_path):
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {"nats_server_client_port": 70000})
    assert "host 'c1-n1': nats_server_client_port is '70000'; it must be an integer from 1 to 65535" in out


def test_extra_config_key_the_role_renders_is_refused(tmp_path):
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3),
                   {"nats_server_extra_config": {"max_payload": 8388608, "ping_interval": "2m"}})
    out = out.replace("\\'", "'").replace("''", "'")  # as printed by the error line or the YAML callback
    assert ("nats_server_extra_config must be free of settings the role renders itself ('max_payload'); set them "
            "with the role's variables instead.") in out
    assert "(is [\"max_payload\", \"ping_interval\"]) on every host (6)." in out


def test_boolean_that_is_not_one_is_refused(tmp_path):
    # The role's argument spec reads booleans as the settings check does, and refuses this first.
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), {"nats_server_debug": "maybe"})
    assert "argument 'nats_server_debug' is of type str and we were unable to convert to bool" in out


# --- Bring-your-own certificates (nats_pki_mode: byo): checked on the controller before any host is contacted ----

def _byo_pki(directory):
    """A real CA, a node certificate it issued with its key, and a key of nothing, written as PEM files."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def cert(subject, key, issuer, issuer_key, ca):
        now = datetime.datetime.now(datetime.timezone.utc)
        return (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .sign(issuer_key, hashes.SHA256()))

    def write(path, data):
        path.write_bytes(data)
        return str(path)

    ca_key, key, other = (ec.generate_private_key(ec.SECP256R1()) for dummy in range(3))
    pem = serialization.Encoding.PEM

    def key_pem(k):
        return k.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    return {"ca": write(directory / "ca.crt", cert("byo CA", ca_key, "byo CA", ca_key, True).public_bytes(pem)),
            "cert": write(directory / "tls.crt", cert("node", key, "byo CA", ca_key, False).public_bytes(pem)),
            "key": write(directory / "tls.key", key_pem(key)),
            "other_key": write(directory / "other.key", key_pem(other))}


def _byo_vars(pki, **changes):
    values = {"nats_server_tls_enabled": True, "nats_pki_mode": "byo", "nats_server_tls_cert_src": pki["cert"],
              "nats_server_tls_key_src": pki["key"], "nats_server_tls_ca_src": pki["ca"]}
    values.update(changes)
    return values


def test_byo_key_of_another_certificate(tmp_path):
    pki = _byo_pki(tmp_path)
    inv = (HEAD % names(2) + clusters(3, 3)).replace("c2-n3: {}", "c2-n3: {nats_server_tls_key_src: %s}"
                                                     % pki["other_key"])
    # The good key for every other host as an inventory variable (an extra variable would beat the host's).
    inv = inv.replace("  vars:\n", "  vars:\n    nats_server_tls_key_src: %s\n" % pki["key"], 1)
    byo = _byo_vars(pki)
    del byo["nats_server_tls_key_src"]
    out = run_site(tmp_path, inv, byo)
    assert ("nats_server_tls_key_src must be the private key of the certificate in nats_server_tls_cert_src (is '%s': "
            "it does not match %s) on host 'c2-n3'." % (pki["other_key"], pki["cert"])) in out
    assert "PRIVATE KEY" not in out


def test_byo_missing_ca_file(tmp_path):
    pki = _byo_pki(tmp_path)
    missing = str(tmp_path / "missing-ca.crt")
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), _byo_vars(pki, nats_server_tls_ca_src=missing))
    assert ("nats_server_tls_ca_src must be a PEM CA certificate file readable on the controller (is '%s': [Errno 2] "
            "No such file or directory: '%s') on every host (6)." % (missing, missing)) in out


def test_byo_certificate_of_another_ca(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    mine, theirs = _byo_pki(tmp_path / "a"), _byo_pki(tmp_path / "b")
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3), _byo_vars(mine, nats_server_tls_ca_src=theirs["ca"]))
    assert ("nats_server_tls_cert_src must be a certificate issued by the CA in nats_server_tls_ca_src (is '%s': "
            "issued by 'CN=byo CA', which is not the CA 'CN=byo CA' in %s) on every host (6)."
            % (mine["cert"], theirs["ca"])) in out


def test_removed_pki_byo_variables_are_refused(tmp_path):
    pki = _byo_pki(tmp_path)
    out = run_site(tmp_path, HEAD % names(2) + clusters(3, 3),
                   {"nats_server_tls_enabled": True, "nats_pki_mode": "byo", "nats_pki_byo_cert": pki["cert"],
                    "nats_pki_byo_key": pki["key"]})
    assert "nats_pki_byo_cert, nats_pki_byo_key are no longer read" in out
    assert "nats_server_tls_cert_src (was nats_pki_byo_cert)" in out


def test_jwt_mode_bad_operator_and_system_account(tmp_path):
    """nats_server_auth_mode jwt: the operator JWT and the system account are decoded on the controller, and the
    play stops before any host is contacted, naming each variable, its value and what is allowed."""
    out = run_site(tmp_path, HEAD % names(1) + clusters(3), {
        "nats_server_auth_mode": "jwt", "nats_server_jwt_operator": "not-a-jwt",
        "nats_server_jwt_system_account": "SYS",
        "nats_server_probe_creds": "/nonexistent/probe.creds"})
    assert "Invalid settings of the server role (nothing was changed on any host)" in out
    assert "nats_server_jwt_operator must be an operator JWT (as the operator_jwt module writes it) (is 'not-a-jwt')" in out
    assert "nats_server_jwt_system_account must be the public key of the system account" in out and "(is 'SYS')" in out
    assert "nats_server_probe_creds must be the path of a .creds file on the controller" in out


def test_monitoring_refuses_jwt_mode(tmp_path):
    """The monitoring role's checks connect with a client certificate: in jwt mode it stops on the controller,
    saying why, before any host is contacted."""
    inv = tmp_path / "hosts.yml"
    inv.write_text(textwrap.dedent(HEAD % names(1) + clusters(1)) + "    monitoring:\n      hosts:\n        mon-1: {}\n")
    env = ansible_env(ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", str(inv),
                           os.path.join(ROOT, "playbooks", "monitoring.yml"), "-e", "nats_server_auth_mode=jwt"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT, check=False)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0
    assert "UNREACHABLE" not in out and "unreachable=1" not in out
    assert "nats_server_auth_mode is 'jwt': the monitoring role's checks" in out and "Nothing was changed" in out
