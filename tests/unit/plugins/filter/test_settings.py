# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every setting of the server role, checked as nats-server reads it: each rule with good and bad values; the
messages name the variable, the value, what is allowed and the hosts."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import os
import tempfile

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.natsops.jetstream.plugins.filter.settings import (
    INPUT_FACT, RESERVED_CONFIG_KEYS, nats_settings, tls_file_errors, validate_settings)
from ansible_collections.natsops.jetstream.plugins.filter.topology import compute_topology

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
ROLE = os.path.join(ROOT, "roles", "server")

with open(os.path.join(ROLE, "defaults", "main.yml")) as _f:
    ROLE_DEFAULTS = yaml.safe_load(_f)

# The role's defaults as a host sees them once templated (the templated ones filled in by hand).
TEMPLATED = {
    "nats_server_gateways_enabled": False,
    "nats_server_local_cache_path": "/home/op/.cache/natsops/nats-server",
    "nats_server_tls_client_enabled": False,
    "nats_server_tls_cluster_enabled": False,
    "nats_server_tls_gateway_enabled": False,
    "nats_server_tls_monitor_enabled": False,
    "nats_server_tls_pki_dir": "/home/op/.natsops/pki/nats",
    "nats_server_secrets_dir": "/home/op/.natsops/secrets/nats",
    "nats_server_probe_user": "admin",
    "nats_server_probe_tls_cert_src": "/home/op/.natsops/pki/nats/clients/admin/tls.crt",
    "nats_server_probe_tls_key_src": "/home/op/.natsops/pki/nats/clients/admin/tls.key",
    "nats_server_jwt_resolver_dir": "/var/lib/nats/jwt",
}


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject, key, issuer=None, issuer_key=None, days=(-1, 30), ca=False):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer or subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + datetime.timedelta(days=days[0]))
               .not_valid_after(now + datetime.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return builder.sign(issuer_key or key, hashes.SHA256())


def write_pem(path, obj):
    if hasattr(obj, "private_bytes"):
        data = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())
    else:
        data = obj.public_bytes(serialization.Encoding.PEM)
    with open(path, "wb") as f:
        f.write(data)
    return path


def make_pki(directory):
    """A real CA, a node certificate it issued and the node's key (the files the role copies), on disk."""
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = make_cert("test CA", ca_key, ca=True, days=(-1, 3650))
    return {"ca": write_pem(os.path.join(directory, "ca.crt"), ca), "ca_key": ca_key, "ca_cert": ca,
            "cert": write_pem(os.path.join(directory, "tls.crt"), make_cert("n1", key, "test CA", ca_key)),
            "key": write_pem(os.path.join(directory, "tls.key"), key)}


PKI = make_pki(tempfile.mkdtemp(prefix="natsops-settings-pki-"))


def base(host="n1", **overrides):
    values = dict(ROLE_DEFAULTS)
    values.update(TEMPLATED)
    values.update({
        "nats_server_name": host,
        "nats_server_address": host,
        # Real files: with TLS on, the check reads them on the controller.
        "nats_server_tls_cert_src": PKI["cert"],
        "nats_server_tls_key_src": PKI["key"],
        "nats_server_tls_ca_src": PKI["ca"],
    })
    values.update(overrides)
    # The per-listener TLS switches follow nats_server_tls_enabled, as the role's templated defaults do.
    for listener in ("client", "cluster", "gateway", "monitor"):
        var = "nats_server_tls_%s_enabled" % listener
        if var not in overrides:
            values[var] = values["nats_server_tls_enabled"]
    return values


def check(hosts=("n1",), topology=None, per_host=None, **overrides):
    per_host = per_host or {}
    inputs = dict((h, base(h, **dict(overrides, **per_host.get(h, {})))) for h in hosts)
    return validate_settings(inputs, topology)


def cluster(sizes, per_host=None, **overrides):
    """Inputs and topology of clusters c1..cN (hosts c<i>-n<j>)."""
    per_host = per_host or {}
    groups, hostvars, cgs = {"nats": []}, {}, []
    for i, size in enumerate(sizes, start=1):
        group = "c%d" % i
        cgs.append(group)
        groups[group] = ["%s-n%d" % (group, n) for n in range(1, size + 1)]
        groups["nats"] += groups[group]
        for host in groups[group]:
            hostvars[host] = dict(per_host.get(host, {}))
    topo = compute_topology(hostvars, groups, cgs, {"nats_server_group": "nats"})
    inputs = dict((h, base(h, **dict(overrides, **per_host.get(h, {})))) for h in groups["nats"])
    return validate_settings(inputs, topo)


def one_error(result):
    assert len(result["errors"]) == 1, result["errors"]
    return result["errors"][0]


def test_vars_collect_every_setting_of_the_role():
    with open(os.path.join(ROLE, "vars", "main.yml")) as f:
        collected = yaml.safe_load(f)["_nats_server_settings_input"]
    assert sorted(collected) == sorted(ROLE_DEFAULTS)
    for key, value in collected.items():
        assert value == "{{ %s }}" % key


def test_defaults_are_valid_and_normalized():
    result = check(hosts=("n1", "n2", "n3"))
    assert result["errors"] == [] and result["warnings"] == []
    norm = result["normalized"]["n1"]
    assert norm["max_payload"] == "1MB" and norm["max_payload_bytes"] == 1048576
    assert norm["jetstream_max_memory_store"] == "1GB" and norm["jetstream_max_memory_store_bytes"] == 1024 ** 3
    assert norm["jetstream_max_file_store_bytes"] == 10 * 1024 ** 3
    assert norm["write_deadline"] == "10s" and norm["write_deadline_ns"] == 10 * 10 ** 9
    assert norm["lame_duck_duration_ns"] == 30 * 10 ** 9 and norm["lame_duck_grace_period"] == "10s"
    assert norm["jetstream_sync_interval"] == "" and norm["max_connections"] == 65536
    assert norm["cluster_pool_size"] == 3 and norm["limit_nofile"] == 800000
    assert norm["app_account_limits"] == {"max_memory": "-1", "max_memory_bytes": -1, "max_storage": "-1",
                                          "max_storage_bytes": -1, "max_streams": -1, "max_consumers": -1}


def test_lab_values_are_valid():
    with open(os.path.join(ROOT, "inventories", "lab", "group_vars", "nats.yml")) as f:
        lab = dict((k, v) for k, v in yaml.safe_load(f).items() if k.startswith("nats_server_") and "{{" not in str(v))
    tags = {"c1-n1": {"nats_server_tags": ["az:1"]}, "c1-n2": {"nats_server_tags": ["az:2"]},
            "c1-n3": {"nats_server_tags": ["az:3"]}}
    result = cluster([3], per_host=tags, **lab)
    assert result["errors"] == [] and result["warnings"] == []
    assert result["normalized"]["c1-n1"]["jetstream_max_file_store"] == "2GB"


# --- Sizes ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, text, size", [
    (1, "1", 1), ("1MB", "1MB", 1048576), ("8MiB", "8MiB", 8 * 1048576), ("512kib", "512kib", 512 * 1024),
    (1048576, "1048576", 1048576), ("64MB", "64MB", 64 * 1048576), ("2Mi", "2Mi", 2 * 1048576),
    (" 2MB ", "2MB", 2 * 1048576), (2.0, "2", 2),
])
def test_max_payload_good(value, text, size):
    result = check(nats_server_max_payload=value)
    assert result["errors"] == []
    assert result["normalized"]["n1"]["max_payload"] == text
    assert result["normalized"]["n1"]["max_payload_bytes"] == size


@pytest.mark.parametrize("value, shown", [(-5, "-5"), ("-5", "'-5'"), (0, "0"), ("65MB", "'65MB'"),
                                          ("1GB", "'1GB'")])
def test_max_payload_out_of_range(value, shown):
    error = one_error(check(nats_server_max_payload=value))
    assert error.startswith("nats_server_max_payload must be a size from 1 byte to 64 MiB (67108864) (is %s" % shown)
    assert "on host 'n1'" in error


@pytest.mark.parametrize("value, reason", [
    ("1.5MB", "nats-server refuses fractions"),
    ("1K", "'1K' is 1000 bytes to nats-server but 1024 to Ansible's human_to_bytes; write 1KB"),
    ("8m", "'8m' is 8000000 bytes to nats-server but 8388608 to Ansible's human_to_bytes; write 8MB"),
    ("1kb", "Write the unit as KB or KiB"),
    ("1Mb", "Write the unit as MB or MiB"),
    ("100B", "Write 100 without the unit"),
    ("1 MB", "No space between the number and the unit"),
    ("lots", "Sizes are a whole number of bytes, or a whole number with a unit"),
    (True, "Sizes are a whole number of bytes"),
    ("1PB", "Sizes are a whole number of bytes"),
])
def test_sizes_nats_server_and_ansible_would_read_differently_are_refused(value, reason):
    error = one_error(check(nats_server_max_payload=value))
    assert error.startswith("nats_server_max_payload must be a size from 1 byte to 64 MiB")
    assert reason in error


def test_max_payload_above_8mib_warns():
    result = check(nats_server_max_payload="9MB")
    assert result["errors"] == []
    assert result["warnings"] == [
        "nats_server_max_payload is above 8 MiB: nats-server warns that larger payloads are discouraged and can lead "
        "to poor performance; consider chunking (e.g. the object store) (is '9MB' on host 'n1')."]


def test_max_payload_must_not_exceed_max_pending():
    error = one_error(check(nats_server_max_payload="2MB", nats_server_extra_config={"max_pending": 1048576}))
    assert ("nats_server_max_payload must be at most max_pending (1 MiB, nats_server_extra_config.max_pending): "
            "nats-server refuses to start with max_payload above max_pending (is '2MB' = 2097152 bytes)") in error
    assert check(nats_server_max_payload="2MB", nats_server_extra_config={"max_pending": 4194304})["errors"] == []


def test_max_pending_as_a_string_is_refused():
    error = one_error(check(nats_server_extra_config={"max_pending": "128MB"}))
    assert "max_pending is a whole number of bytes" in error and "(is '128MB')" in error


@pytest.mark.parametrize("var", ["nats_server_jetstream_max_memory_store", "nats_server_jetstream_max_file_store"])
def test_jetstream_limits(var):
    assert check(**{var: -1})["errors"] == []
    assert check(**{var: "-1"})["normalized"]["n1"][var[len("nats_server_"):] + "_bytes"] == -1
    assert check(**{var: "500GB"})["errors"] == []
    error = one_error(check(**{var: -2}))
    assert error.startswith("%s must be a size of at least 0, or -1 (-1: as much as the node has" % var)
    assert "(is -2) on host 'n1'" in error
    warning = check(**{var: 0})["warnings"]
    assert len(warning) == 1 and "is 0: this node's JetStream can hold no" in warning[0]
    assert check(nats_server_jetstream_enabled=False, **{var: 0})["warnings"] == []


def test_file_store_lots_names_the_variable_and_the_fix():
    error = one_error(check(nats_server_jetstream_max_file_store="lots"))
    assert error.startswith("nats_server_jetstream_max_file_store must be a size of at least 0, or -1")
    assert "(is 'lots') on host 'n1'. Sizes are a whole number of bytes, or a whole number with a unit" in error
    assert "e.g. 512MB or 10GB" in error


def test_fraction_size_is_refused():
    error = one_error(check(nats_server_jetstream_max_file_store="1.5GB"))
    assert "(is '1.5GB')" in error
    assert "nats-server refuses fractions (Ansible's human_to_bytes would accept them): write a smaller unit" in error


# --- Durations -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, ns", [("10s", 10 ** 10), ("500ms", 5 * 10 ** 8), ("1m30s", 90 * 10 ** 9),
                                       ("1.5s", 15 * 10 ** 8), ("2h", 7200 * 10 ** 9)])
def test_write_deadline_good(value, ns):
    result = check(nats_server_write_deadline=value)
    assert result["errors"] == []
    assert result["normalized"]["n1"]["write_deadline"] == value
    assert result["normalized"]["n1"]["write_deadline_ns"] == ns


@pytest.mark.parametrize("value, part", [
    ("-1s", "nats_server_write_deadline must be a duration greater than 0, e.g. 10s (at 0 or below every write to "
            "a client times out at once) (is '-1s') on host 'n1'."),
    ("0s", "(is '0s')"),
    ("0", "(is '0')"),
    (10, "Write it with a unit, e.g. 10s: nats-server reads a bare number as seconds"),
    ("1d", "nats-server's config refuses days and weeks ('d', 'w') (Ansible's to_seconds would read them): "
           "write hours instead, e.g. 24h."),
    ("10 s", "Durations are Go durations such as 500ms, 10s, 2m or 1h30m"),
    ("soon", "(is 'soon')"),
])
def test_write_deadline_bad(value, part):
    error = one_error(check(nats_server_write_deadline=value))
    assert error.startswith("nats_server_write_deadline must be a duration greater than 0")
    assert part in error


def test_lame_duck_rules():
    assert one_error(check(nats_server_lame_duck_duration="10s")).startswith(
        "nats_server_lame_duck_duration must be at least 30s (is '10s')")
    error = one_error(check(nats_server_lame_duck_duration="30s", nats_server_lame_duck_grace_period="30s"))
    assert error.startswith("nats_server_lame_duck_grace_period must be shorter than nats_server_lame_duck_duration "
                            "(is '30s'): nats-server refuses a grace period that is not strictly lower (is '30s')")
    assert check(nats_server_lame_duck_duration="2m", nats_server_lame_duck_grace_period="0s")["errors"] == []
    assert check(nats_server_lame_duck_duration="90000ms")["normalized"]["n1"]["lame_duck_duration_ns"] == 90 * 10 ** 9
    # A form Ansible's to_seconds (which the role also uses) would not read the same way.
    error = one_error(check(nats_server_lame_duck_duration="1m30s"))
    assert "(is '1m30s')" in error and "community.general.to_seconds" in error
    error = one_error(check(nats_server_lame_duck_grace_period="-1s"))
    assert "(is '-1s')" in error
    assert "(is '1d')" in one_error(check(nats_server_lame_duck_duration="1d"))


@pytest.mark.parametrize("value, rendered", [("", ""), ("always", "always"), ("ALWAYS", "ALWAYS"), ("1m", "1m"),
                                             ("250ms", "250ms")])
def test_sync_interval_good(value, rendered):
    result = check(nats_server_jetstream_sync_interval=value)
    assert result["errors"] == []
    assert result["normalized"]["n1"]["jetstream_sync_interval"] == rendered


@pytest.mark.parametrize("value", ["0s", "-1m", "1d", "often", 5])
def test_sync_interval_bad(value):
    error = one_error(check(nats_server_jetstream_sync_interval=value))
    assert error.startswith("nats_server_jetstream_sync_interval must be empty (the server's default, 2m), 'always' "
                            "(fsync every write) or a duration greater than 0")


# --- Integers ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, -1, "0", "many", 1.5, True])
def test_max_connections_bad(value):
    error = one_error(check(nats_server_max_connections=value))
    assert error.startswith("nats_server_max_connections must be a whole number of at least 1 (nats-server turns 0 "
                            "and negative values into 'refuse every client')")


def test_max_connections_from_extra_vars_string():
    assert check(nats_server_max_connections="1000")["normalized"]["n1"]["max_connections"] == 1000


@pytest.mark.parametrize("value, ok", [(-1, True), (1, True), (3, True), (16, True), (0, False), (-2, False),
                                       ("x", False)])
def test_cluster_pool_size(value, ok):
    result = check(nats_server_cluster_pool_size=value)
    assert (result["errors"] == []) is ok
    if not ok:
        assert result["errors"][0].startswith("nats_server_cluster_pool_size must be -1 (no route pooling) or a whole "
                                              "number of at least 1")


def test_limit_nofile():
    assert check(nats_server_max_connections=1, nats_server_limit_nofile=1025)["errors"] == []
    error = one_error(check(nats_server_max_connections=1, nats_server_limit_nofile=1024))
    assert error.startswith("nats_server_limit_nofile must be a whole number of at least 1025")
    error = one_error(check(nats_server_max_connections=65536, nats_server_limit_nofile=65536))
    assert error.startswith("nats_server_limit_nofile must be a whole number of at least 66560 "
                            "(nats_server_max_connections + 1024 for routes, gateways, JetStream files and logs; "
                            "never below 1024) (is 65536)")
    warnings = check(nats_server_limit_nofile=2000000)["warnings"]
    assert len(warnings) == 1 and "above 1048576, Linux's default fs.nr_open" in warnings[0]


@pytest.mark.parametrize("var, value, allowed", [
    ("nats_server_tls_timeout", 0, "a whole number of seconds from 1 to 60"),
    ("nats_server_tls_timeout", 61, "a whole number of seconds from 1 to 60"),
    ("nats_server_tls_timeout", 0.5, "a whole number of seconds from 1 to 60"),
    ("nats_server_health_retries", 0, "a whole number of at least 1"),
    ("nats_server_health_delay", -1, "a whole number of at least 1"),
    ("nats_server_probe_timeout", "0", "a whole number of at least 1"),
])
def test_other_integers(var, value, allowed):
    assert one_error(check(**{var: value})).startswith("%s must be %s" % (var, allowed))


# --- Booleans, strings, paths, lists -------------------------------------------------------------------------

@pytest.mark.parametrize("value, ok", [(True, True), ("no", True), ("yes", True), ("TRUE", True), (0, True),
                                       ("maybe", False), ("", False), ([], False)])
def test_booleans_as_ansible_reads_them(value, ok):
    result = check(nats_server_debug=value)
    assert (result["errors"] == []) is ok
    if not ok:
        assert result["errors"][0].startswith("nats_server_debug must be a boolean (true/false; yes/no, on/off and "
                                              "1/0 are read as booleans too)")


def test_gateways_enabled_may_be_empty_but_not_maybe():
    assert check(nats_server_gateways_enabled="")["errors"] == []
    assert "nats_server_gateways_enabled must be a boolean" in one_error(check(nats_server_gateways_enabled="maybe"))


@pytest.mark.parametrize("var, value, part", [
    ("nats_server_auth_mode", "ldap", "nats_server_auth_mode must be one of none, mtls, password, jwt (is 'ldap')"),
    ("nats_server_jetstream_domain", "hub.eu", "nats_server_jetstream_domain must be empty or a name without spaces, "
                                               "'.', '*' or '>'"),
    ("nats_server_jetstream_domain", "my hub", "(is 'my hub')"),
    ("nats_server_address", "nats://10.0.0.1", "nats_server_address must be the address peers reach this node on"),
    ("nats_server_address", "10.0.0.1:6222", "(is '10.0.0.1:6222')"),
    ("nats_server_address", "fe80::1", "IPv6 address in brackets"),
    ("nats_server_listen_address", "::", "nats_server_listen_address must be the address the listeners bind to"),
    ("nats_server_listen_address", "", "(is '')"),
    ("nats_server_version", "2.15", "nats_server_version must be a release number like 2.15.1"),
    ("nats_server_download_base_url", "ftp://mirror/nats", "an http://, https:// or file:/// URL"),
    ("nats_server_user", "Nats User", "nats_server_user must be a system user/group name"),
    ("nats_server_group", "", "nats_server_group must be a non-empty name"),
    ("nats_server_app_account", "my.app", "nats_server_app_account must be an account name"),
    ("nats_server_system_account", "", "nats_server_system_account must be an account name"),
    ("nats_server_store_dir", "var/lib/nats", "nats_server_store_dir must be an absolute path (is 'var/lib/nats')"),
    ("nats_server_install_dir", "~/nats", "nats_server_install_dir must be an absolute path"),
    ("nats_server_config_dir", "/var/lib/nats", "nats_server_store_dir must be a different directory than "
                                                "nats_server_config_dir"),
    ("nats_server_log_file", "nats.log", "nats_server_log_file must be empty or an absolute path"),
    ("nats_server_binary_link", "bin/nats-server", "nats_server_binary_link must be empty or an absolute path"),
    ("nats_server_data_subjects", ["orders.>", "bad subject"], "nats_server_data_subjects must be a non-empty list"),
    ("nats_server_data_subjects", [], "nats_server_data_subjects must be a non-empty list"),
    ("nats_server_data_subjects", ["a.>.b"], "'>' only last"),
    ("nats_server_reader_deliver_subjects", ["deliver..x"], "nats_server_reader_deliver_subjects must be a list"),
    ("nats_server_cluster_groups", "c1", "nats_server_cluster_groups must be a list of inventory group names"),
    ("nats_server_app_users", {"name": "admin"}, "nats_server_app_users must be a list of mappings"),
    ("nats_server_permission_sets", ["ops"], "nats_server_permission_sets must be a mapping"),
    ("nats_server_probe_user", "bad user", "nats_server_probe_user must be a user name"),
])
def test_strings_paths_and_lists(var, value, part):
    assert part in one_error(check(**{var: value}))


@pytest.mark.parametrize("var, value", [
    ("nats_server_address", "nats-1.example.com"), ("nats_server_address", "[fd00::1]"),
    ("nats_server_listen_address", "[::]"), ("nats_server_jetstream_domain", "hub"),
    ("nats_server_version", "2.16.0-rc.1"), ("nats_server_download_base_url", "file:///srv/mirror/nats-server"),
    ("nats_server_log_file", "/var/log/nats/nats.log"), ("nats_server_data_subjects", ["orders.*.>", ">"]),
])
def test_strings_good(var, value):
    assert check(**{var: value})["errors"] == []


def test_tls_paths_on_the_node_must_be_absolute():
    error = one_error(check(nats_server_tls_client_enabled=True, nats_server_tls_remote_src=True,
                            nats_server_tls_cert_src="certs/tls.crt"))
    assert error.startswith("nats_server_tls_cert_src must be an absolute path on the node (nats_server_tls_remote_src "
                            "is true) (is 'certs/tls.crt')")
    assert check(nats_server_tls_cert_src="certs/tls.crt")["errors"] == []  # TLS off: unused


@pytest.mark.parametrize("tags, part", [
    ("az:1", "nats_server_tags must be a list of strings"),
    (["az:1", ""], "nats_server_tags must be a list of non-empty strings"),
    (["az:1", 1], "nats_server_tags must be a list of non-empty strings"),
    ([" az:1"], "nats_server_tags must be a list of tags without leading or trailing spaces (nats-server trims them)"),
    (["az:1", "AZ:1"], "nats_server_tags must be a list of distinct tags (nats-server lower-cases them, so 'az:1' and "
                       "'AZ:1' are one tag)"),
])
def test_tags_bad(tags, part):
    assert part in one_error(check(nats_server_tags=tags))


def test_upper_case_tags_warn():
    result = check(nats_server_tags=["AZ:1"])
    assert result["errors"] == []
    assert result["warnings"] == ["nats_server_tags has upper-case letters; nats-server lower-cases tags ('AZ:1' is "
                                  "'az:1') (is [\"AZ:1\"] on host 'n1')."]


# --- Application account limits ------------------------------------------------------------------------------

def test_app_account_limits():
    good = {"max_memory": "128MB", "max_storage": "1GB", "max_streams": 100, "max_consumers": "1000"}
    result = check(nats_server_app_account_limits=good)
    assert result["errors"] == []
    assert result["normalized"]["n1"]["app_account_limits"]["max_storage_bytes"] == 1024 ** 3
    error = one_error(check(nats_server_app_account_limits=dict(good, max_file="1GB")))
    assert "max_consumers (unknown: max_file; the config would ignore them)" in error
    error = one_error(check(nats_server_app_account_limits=dict(good, max_storage="1.5GB")))
    assert error.startswith("nats_server_app_account_limits.max_storage must be a size of at least 0, or -1 for "
                            "unlimited (is '1.5GB')")
    error = one_error(check(nats_server_app_account_limits=dict(good, max_memory="8k")))
    assert "'8k' is 8000 bytes to nats-server but 8192 to Ansible's human_to_bytes" in error
    error = one_error(check(nats_server_app_account_limits=dict(good, max_streams=-2)))
    assert error.startswith("nats_server_app_account_limits.max_streams must be a whole number of at least 1, or -1 "
                            "(or 0) for unlimited (is -2)")
    assert len(check(nats_server_app_account_limits=dict(good, max_memory=0))["warnings"]) == 1
    assert "must be a mapping" in one_error(check(nats_server_app_account_limits=[1]))


def test_app_account_limits_above_a_standalone_server():
    limits = {"max_memory": "2GB", "max_storage": -1, "max_streams": -1, "max_consumers": -1}
    result = cluster([1], nats_server_allow_small_clusters=True, nats_server_auth_mode="mtls",
                     nats_server_tls_enabled=True, nats_server_tls_client_enabled=True,
                     nats_server_app_account_limits=limits)
    assert one_error(result) == (
        "nats_server_app_account_limits.max_memory must be at most nats_server_jetstream_max_memory_store (is 2GB) on "
        "host 'c1-n1': a single server refuses to enable JetStream for an account that reserves more than the server "
        "has (nats-server: insufficient resources).")
    # In a cluster the account's limit spans the servers.
    tags = dict(("c1-n%d" % i, {}) for i in range(1, 4))
    assert cluster([3], per_host=tags, nats_server_auth_mode="mtls", nats_server_tls_client_enabled=True,
                   nats_server_app_account_limits=limits)["errors"] == []


# --- nats_server_extra_config --------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["max_payload", "Listen", "jetstream", "accounts", "max_conn", "store_dir", "tls"])
def test_extra_config_keys_the_role_renders_are_refused(key):
    error = one_error(check(nats_server_extra_config={key: 1, "max_control_line": 8192}))
    assert error.startswith("nats_server_extra_config must be free of settings the role renders itself ('%s'); set "
                            "them with the role's variables instead. Reserved keys: " % key)
    assert key.lower() in RESERVED_CONFIG_KEYS


def test_extra_config_keys_must_be_names():
    error = one_error(check(nats_server_extra_config={1: "x", "ping interval": "2m"}))
    assert "bad keys: 1, 'ping interval'" in error
    assert check(nats_server_extra_config={"max_control_line": 8192, "ping_interval": "2m"})["errors"] == []
    assert "must be a mapping" in one_error(check(nats_server_extra_config=["ping_interval"]))


# --- Cross-host rules ----------------------------------------------------------------------------------------

AZ = dict(("c%d-n%d" % (c, n), {"nats_server_tags": ["az:%d" % n]}) for c in (1, 2) for n in (1, 2, 3))


def test_unique_tag_on_every_node():
    assert cluster([3, 3], per_host=AZ, nats_server_jetstream_unique_tag="az:")["errors"] == []
    per_host = dict(AZ, **{"c2-n3": {"nats_server_tags": ["rack:9"]}})
    error = one_error(cluster([3, 3], per_host=per_host, nats_server_jetstream_unique_tag="az:"))
    assert error.startswith("nats_server_jetstream_unique_tag is 'az:' but host 'c2-n3' carries no tag starting with "
                            "it in nats_server_tags")
    assert "or empty nats_server_jetstream_unique_tag" in error
    error = one_error(cluster([3, 3], nats_server_jetstream_unique_tag="az:"))
    assert "but every host (6) carry no tag starting with it" in error


def test_unique_tag_not_needed_without_jetstream_and_case_insensitive():
    per_host = dict(AZ, **{"c2-n3": {"nats_server_tags": [], "nats_server_jetstream_enabled": False}})
    assert cluster([3, 3], per_host=per_host, nats_server_jetstream_unique_tag="az:")["errors"] == []
    upper = dict((h, {"nats_server_tags": [v["nats_server_tags"][0].upper()]}) for h, v in AZ.items())
    result = cluster([3, 3], per_host=upper, nats_server_jetstream_unique_tag="az:")
    assert result["errors"] == [] and len(result["warnings"]) == 3  # one per value, naming its hosts


def test_unique_tag_must_agree_and_be_one_per_node():
    per_host = dict(AZ, **{"c1-n1": {"nats_server_tags": ["az:1"], "nats_server_jetstream_unique_tag": "zone:"}})
    error = one_error(cluster([3, 3], per_host=per_host, nats_server_jetstream_unique_tag="az:"))
    assert error.startswith("nats_server_jetstream_unique_tag must be the same on every JetStream node")
    assert "'zone:' on c1-n1" in error
    per_host = dict(AZ, **{"c1-n1": {"nats_server_tags": ["az:1", "az:2"]}})
    error = one_error(cluster([3, 3], per_host=per_host, nats_server_jetstream_unique_tag="az:"))
    assert error == ("nats_server_tags must hold one tag starting with nats_server_jetstream_unique_tag 'az:' per "
                     "node; c1-n1 (az:1, az:2)")


def test_too_few_distinct_unique_tag_values_for_r3():
    per_host = dict(AZ, **{"c2-n3": {"nats_server_tags": ["az:2"]}})
    error = one_error(cluster([3, 3], per_host=per_host, nats_server_jetstream_unique_tag="az:"))
    assert error == ("cluster 'c2' has 3 JetStream nodes but only 2 distinct value(s) of unique tag 'az:' (az:1, "
                     "az:2): an R3 stream cannot be placed there. Give its nodes at least 3 different 'az:' tags, or "
                     "set nats_server_allow_small_clusters: true to accept it.")
    result = cluster([3, 3], per_host=per_host, nats_server_jetstream_unique_tag="az:",
                     nats_server_allow_small_clusters=True)
    assert result["errors"] == [] and len(result["warnings"]) == 1


def test_nodes_sharing_an_address_need_different_ports():
    same = dict(("c1-n%d" % n, {"nats_server_address": "10.0.0.5"}) for n in (1, 2, 3))
    result = cluster([3], per_host=same)
    assert "address 10.0.0.5 port 4222 is used by c1-n1 (nats_server_client_port), c1-n2 (nats_server_client_port), "\
           "c1-n3 (nats_server_client_port)" in result["errors"][0]
    assert len(result["errors"]) == 4
    for n in (2, 3):
        same["c1-n%d" % n].update(dict((p, n * 10000 + i) for i, p in enumerate(
            ("nats_server_client_port", "nats_server_cluster_port", "nats_server_gateway_port",
             "nats_server_http_port"))))
    assert cluster([3], per_host=same)["errors"] == []


def test_pool_size_differing_in_a_cluster_warns():
    result = cluster([3], per_host={"c1-n2": {"nats_server_cluster_pool_size": -1}})
    assert result["errors"] == []
    assert result["warnings"] == ["nats_server_cluster_pool_size differs in cluster 'c1' (-1 on c1-n2; 3 on c1-n1, "
                                  "c1-n3): routes then fall back to the larger pool or, with -1 on one side, to no "
                                  "pooling; set it once for the cluster."]


# --- Messages and the filter ---------------------------------------------------------------------------------

def test_one_message_per_value_naming_the_hosts():
    result = check(hosts=("n1", "n2", "n3"), per_host={"n2": {"nats_server_max_connections": 0}},
                   nats_server_write_deadline="-1s")
    assert result["errors"] == [
        "nats_server_write_deadline must be a duration greater than 0, e.g. 10s (at 0 or below every write to a client "
        "times out at once) (is '-1s') on every host (3).",
        "nats_server_max_connections must be a whole number of at least 1 (nats-server turns 0 and negative values "
        "into 'refuse every client') (is 0) on host 'n2'.",
    ]


def test_filter_reads_the_input_fact_or_the_inventory_over_the_defaults():
    hostvars = {
        "n1": {INPUT_FACT: base("n1", nats_server_max_payload="2MB")},
        # Out of the play (--limit): no fact; inventory variables win over the defaults given.
        "n2": {"nats_server_max_connections": 0},
    }
    defaults = base("n1", nats_server_name="n1")
    result = nats_settings(hostvars, ["n1", "n2"], None, defaults)
    assert result["normalized"]["n1"]["max_payload"] == "2MB"
    assert one_error(result).endswith("(is 0) on host 'n2'.")


# --- Authentication and the TLS it needs ----------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["mtls", "password"])
def test_certificates_and_passwords_need_tls_on_the_client_port(mode):
    assert one_error(check(nats_server_auth_mode=mode, nats_server_tls_enabled=True,
                           nats_server_tls_client_enabled=False, nats_server_tls_monitor_enabled=False)) == (
        "nats_server_auth_mode '%s' needs TLS on the client port (nats_server_tls_client_enabled: true): "
        "certificates and passwords are never accepted over plaintext; on host 'n1'." % mode)
    assert check(nats_server_auth_mode=mode, nats_server_tls_enabled=True)["errors"] == []


def test_jwt_and_none_do_not_need_tls_on_the_client_port():
    assert check(nats_server_auth_mode="none")["errors"] == []


def test_https_monitoring_needs_tls_on_the_client_port():
    assert one_error(check(nats_server_tls_enabled=True, nats_server_tls_client_enabled=False)) == (
        "nats_server_tls_monitor_enabled needs nats_server_tls_client_enabled: nats-server serves HTTPS monitoring "
        "with the client port's certificate; on host 'n1'.")


def test_system_and_application_accounts_differ():
    assert one_error(check(nats_server_app_account="SYS")) == (
        "nats_server_system_account and nats_server_app_account must differ (both are 'SYS'); on host 'n1'.")


def test_mtls_and_password_may_differ_from_cluster_to_cluster():
    per_host = dict(("c2-n%d" % n, {"nats_server_auth_mode": "password"}) for n in (1, 2, 3))
    assert cluster([3, 3, 3], per_host, nats_server_auth_mode="mtls", nats_server_tls_enabled=True)["errors"] == []


def test_one_auth_mode_per_cluster():
    result = cluster([3, 3], {"c2-n3": {"nats_server_auth_mode": "password"}}, nats_server_auth_mode="mtls",
                     nats_server_tls_enabled=True)
    assert one_error(result) == (
        "nats_server_auth_mode must be the same on every node of cluster 'c2' (mtls on c2-n1, c2-n2; password on "
        "c2-n3): a client that reconnects to another node of its cluster must be accepted with the same credentials.")


@pytest.mark.parametrize("odd", ["none", "jwt"])
def test_none_and_jwt_are_never_mixed_with_another_mode(odd):
    per_host = dict(("c1-n%d" % n, {"nats_server_auth_mode": odd}) for n in (1, 2, 3))
    errors = cluster([3, 3], per_host, nats_server_auth_mode="mtls", nats_server_tls_enabled=True)["errors"]
    mixed = [e for e in errors if "cannot be mixed" in e]
    assert mixed == [
        "nats_server_auth_mode '%s' cannot be mixed with another mode in one supercluster (%s on c1-n1, c1-n2, c1-n3; "
        "mtls on c2-n1, c2-n2, c2-n3): the gateways between clusters need the same accounts on both sides. Only mtls "
        "and password may differ from cluster to cluster." % (odd, odd)], errors


# --- nats_server_auth_mode: jwt ------------------------------------------------------------------------------

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt as J  # noqa: E402


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    """An operator (with a signing key) naming its system account, the system and an application account JWT,
    a user JWT and a second operator, made with the JWT modules' own code."""
    kp = dict((name, J.keypair(J.create_seed(kind), name, kind)) for name, kind in (
        ("op", "operator"), ("opsk", "operator"), ("rogue", "operator"), ("sys", "account"), ("app", "account"),
        ("user", "user")))
    pub = dict((k, J.public_key(v)) for k, v in kp.items())
    op = J.encode(J.operator_claims("OP", pub["op"], signing_keys=[pub["opsk"]], system_account=pub["sys"]), kp["op"])
    path = tmp_path_factory.mktemp("jwt") / "operator.jwt"
    path.write_text(op + "\n")
    return {
        "pub": pub, "operator": op, "operator_file": str(path),
        "sys": J.encode(J.account_claims("SYS", pub["sys"]), kp["opsk"]),
        "app": J.encode(J.account_claims("APP", pub["app"], jetstream={"streams": 2}), kp["op"]),
        "rogue_app": J.encode(J.account_claims("APP", pub["app"]), kp["rogue"]),
        "rogue_op": J.encode(J.operator_claims("ROGUE", pub["rogue"]), kp["rogue"]),
        "user": J.encode(J.user_claims("u", pub["user"], pub["app"]), kp["app"]),
    }


def jwt_check(trust, **overrides):
    values = dict(nats_server_auth_mode="jwt", nats_server_jwt_operator=trust["operator"],
                  nats_server_jwt_system_account=trust["pub"]["sys"], nats_server_canary=False,
                  nats_server_jwt_resolver_preload={trust["pub"]["sys"]: trust["sys"], trust["pub"]["app"]: trust["app"]})
    values.update(overrides)
    return check(**values)


def test_jwt_mode_normalizes_what_the_template_renders(trust):
    result = jwt_check(trust)
    assert result["errors"] == []
    jwt = result["normalized"]["n1"]["jwt"]
    assert jwt["operator"] == trust["operator"] and jwt["operator_public_key"] == trust["pub"]["op"]
    assert jwt["system_account"] == trust["pub"]["sys"]
    assert (jwt["resolver"], jwt["resolver_dir"], jwt["allow_delete"], jwt["interval"], jwt["limit"]) == \
        ("full", "/var/lib/nats/jwt", False, "2m", 1000)
    assert sorted(jwt["preload"]) == sorted([trust["pub"]["sys"], trust["pub"]["app"]])
    # The operator JWT from a file on the controller, the memory resolver.
    result = jwt_check(trust, nats_server_jwt_operator="", nats_server_jwt_operator_file=trust["operator_file"],
                       nats_server_jwt_resolver="memory")
    assert result["errors"] == []
    assert result["normalized"]["n1"]["jwt"]["operator"] == trust["operator"]
    assert "resolver_dir" not in result["normalized"]["n1"]["jwt"]
    # Other modes: nothing of it.
    assert check()["normalized"]["n1"]["jwt"] is None


def one_error(result):
    assert len(result["errors"]) == 1, result["errors"]
    return result["errors"][0]


def test_jwt_mode_refuses_a_missing_or_wrong_operator_jwt(trust):
    err = one_error(jwt_check(trust, nats_server_jwt_operator=""))
    assert err.startswith("nats_server_jwt_operator must be the operator JWT") and "(is '')" in err
    err = one_error(jwt_check(trust, nats_server_jwt_operator=trust["app"]))
    assert err.startswith("nats_server_jwt_operator must be an operator JWT") and "it is an account JWT" in err
    assert "(is '%s...')" % trust["app"][:24] in err
    err = one_error(jwt_check(trust, nats_server_jwt_operator="not-a-jwt"))
    assert "not a JWT" in err and "(is 'not-a-jwt')" in err
    forged = trust["operator"][:-6] + ("AAAAAA" if not trust["operator"].endswith("AAAAAA") else "BBBBBB")
    err = one_error(jwt_check(trust, nats_server_jwt_operator=forged))
    assert "signature" in err
    err = one_error(jwt_check(trust, nats_server_jwt_operator_file=trust["operator_file"]))
    assert err.startswith("nats_server_jwt_operator_file must be empty when nats_server_jwt_operator is set")
    err = one_error(jwt_check(trust, nats_server_jwt_operator="", nats_server_jwt_operator_file="/nonexistent/op.jwt"))
    assert err.startswith("nats_server_jwt_operator_file must be a readable file") and "/nonexistent/op.jwt" in err


def test_jwt_mode_refuses_a_wrong_system_account(trust):
    err = one_error(jwt_check(trust, nats_server_jwt_system_account=trust["pub"]["user"]))
    assert err.startswith("nats_server_jwt_system_account must be the public key of the system account")
    assert trust["pub"]["user"] in err and "a user" in err
    errors = jwt_check(trust, nats_server_jwt_system_account=trust["pub"]["app"])["errors"]
    assert any("must be the system account the operator JWT names (%s)" % trust["pub"]["sys"] in e for e in errors)
    err = one_error(jwt_check(trust, nats_server_jwt_system_account="SYS"))
    assert "(is 'SYS')" in err


def test_jwt_mode_checks_the_preloaded_accounts(trust):
    pub = trust["pub"]
    sys_only = {pub["sys"]: trust["sys"]}
    err = one_error(jwt_check(trust, nats_server_jwt_resolver_preload=dict(sys_only, **{pub["app"]: trust["sys"]})))
    assert err.startswith("nats_server_jwt_resolver_preload.%s must be the account JWT whose subject is that key" % pub["app"])
    assert "the JWT is the account SYS's (%s)" % pub["sys"] in err
    err = one_error(jwt_check(trust, nats_server_jwt_resolver_preload=dict(sys_only, **{pub["app"]: trust["rogue_app"]})))
    assert "neither the operator %s nor one of its signing keys" % pub["op"] in err
    err = one_error(jwt_check(trust, nats_server_jwt_resolver_preload=dict(sys_only, **{pub["user"]: trust["user"]})))
    assert "nats_server_jwt_resolver_preload.%s" % pub["user"] in err and "a user" in err
    err = one_error(jwt_check(trust, nats_server_jwt_resolver_preload={pub["app"]: trust["app"]}))
    assert err.startswith("nats_server_jwt_resolver_preload must be a mapping that holds the system account's JWT")
    err = one_error(jwt_check(trust, nats_server_jwt_resolver_preload=[trust["sys"]]))
    assert "a mapping of account public keys" in err


def test_jwt_mode_resolver_settings(trust):
    err = one_error(jwt_check(trust, nats_server_jwt_resolver="url"))
    assert err == "nats_server_jwt_resolver must be one of full, memory (is 'url') on host 'n1'."
    err = one_error(jwt_check(trust, nats_server_jwt_resolver_dir="/srv/jwt"))
    assert err.startswith("nats_server_jwt_resolver_dir must be an absolute path under nats_server_store_dir "
                          "(/var/lib/nats)") and "(is '/srv/jwt')" in err
    err = one_error(jwt_check(trust, nats_server_jwt_resolver_dir="/var/lib/nats/jetstream"))
    assert "another directory than JetStream's own" in err
    err = one_error(jwt_check(trust, nats_server_jwt_resolver_interval="500ms"))
    assert err.startswith("nats_server_jwt_resolver_interval must be a Go duration of at least 1s")
    err = one_error(jwt_check(trust, nats_server_jwt_resolver_limit=0))
    assert err.startswith("nats_server_jwt_resolver_limit must be a whole number of at least 1")
    err = one_error(jwt_check(trust, nats_server_jwt_allow_delete="maybe"))
    assert err.startswith("nats_server_jwt_allow_delete must be")


def test_jwt_mode_canary_needs_probe_creds_and_extra_config_cannot_clash(trust, tmp_path):
    err = one_error(jwt_check(trust, nats_server_canary=True, nats_server_probe_creds=""))
    assert err.startswith("nats_server_probe_creds must be the path of a .creds file on the controller")
    assert "nats_server_canary: false" in err
    creds = tmp_path / "probe.creds"
    creds.write_text("creds")
    assert jwt_check(trust, nats_server_canary=True, nats_server_probe_creds=str(creds))["errors"] == []
    err = one_error(jwt_check(trust, nats_server_extra_config={"resolver": "MEMORY", "max_pending": 134217728}))
    assert err.startswith("nats_server_extra_config must be a mapping without resolver")


def test_jwt_mode_explains_unused_config_file_account_settings(trust):
    result = jwt_check(trust, nats_server_app_users=[{"name": "ops", "permissions": "admin"}])
    assert result["errors"] == []
    assert any(w.startswith("nats_server_app_users is not used with nats_server_auth_mode jwt") for w in result["warnings"])
    assert not any("nats_server_app_users" in w for w in check(nats_server_app_users=[{"name": "ops", "permissions": "admin"}])["warnings"])


# --- The TLS files on the controller (generated or brought), before any host is contacted ---------------------

TLS_ON = dict(nats_server_tls_enabled=True, nats_server_tls_client_enabled=True)


def test_good_tls_files_pass():
    assert tls_file_errors(PKI["cert"], PKI["key"], PKI["ca"]) == []
    assert check(**TLS_ON)["errors"] == []


def test_missing_tls_file_names_variable_path_and_host(tmp_path):
    missing = str(tmp_path / "nope.crt")
    error = one_error(check(per_host={"n2": {"nats_server_tls_ca_src": missing}}, hosts=("n1", "n2"), **TLS_ON))
    assert error == ("nats_server_tls_ca_src must be a PEM CA certificate file readable on the controller (is '%s': "
                     "[Errno 2] No such file or directory: '%s') on host 'n2'." % (missing, missing))


def test_key_of_another_certificate_is_refused_without_showing_the_key(tmp_path):
    other = write_pem(str(tmp_path / "other.key"), ec.generate_private_key(ec.SECP256R1()))
    error = one_error(check(nats_server_tls_key_src=other, **TLS_ON))
    assert error == ("nats_server_tls_key_src must be the private key of the certificate in nats_server_tls_cert_src "
                     "(is '%s': it does not match %s) on host 'n1'." % (other, PKI["cert"]))
    assert "PRIVATE KEY" not in error


def test_unreadable_key_is_refused(tmp_path):
    bad = str(tmp_path / "bad.key")
    with open(bad, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    error = one_error(check(nats_server_tls_key_src=bad, **TLS_ON))
    assert error == ("nats_server_tls_key_src must be an unencrypted PEM private key readable on the controller (is "
                     "'%s': cannot be read as an unencrypted PEM private key) on host 'n1'." % bad)


def test_certificate_of_another_ca_is_refused(tmp_path):
    foreign = make_pki(str(tmp_path))
    error = one_error(check(nats_server_tls_cert_src=foreign["cert"], nats_server_tls_key_src=foreign["key"],
                            **TLS_ON))
    assert error == ("nats_server_tls_cert_src must be a certificate issued by the CA in nats_server_tls_ca_src (is "
                     "'%s': issued by 'CN=test CA', which is not the CA 'CN=test CA' in %s) on host 'n1'."
                     % (foreign["cert"], PKI["ca"]))  # same name, another key: the signature decides


def test_certificate_through_an_intermediate_in_the_certificate_file(tmp_path):
    mid_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    mid = make_cert("intermediate", mid_key, "test CA", PKI["ca_key"], ca=True)
    leaf = make_cert("n1", key, "intermediate", mid_key)
    chain = str(tmp_path / "chain.crt")
    with open(chain, "wb") as f:
        f.write(leaf.public_bytes(serialization.Encoding.PEM) + mid.public_bytes(serialization.Encoding.PEM))
    assert tls_file_errors(chain, write_pem(str(tmp_path / "k"), key), PKI["ca"]) == []
    # Without the intermediate the certificate does not lead to the CA.
    alone = write_pem(str(tmp_path / "leaf.crt"), leaf)
    assert [e[0] for e in tls_file_errors(alone, str(tmp_path / "k"), PKI["ca"])] == ["nats_server_tls_cert_src"]


def test_expired_certificate_and_ca_are_refused(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    old = write_pem(str(tmp_path / "old.crt"), make_cert("n1", key, "test CA", PKI["ca_key"], days=(-30, -1)))
    errors = tls_file_errors(old, write_pem(str(tmp_path / "k"), key), PKI["ca"])
    assert [(e[0], e[1]) for e in errors] == [("nats_server_tls_cert_src",
                                               "a certificate that is neither expired nor not yet valid")]
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=4000)
    errors = tls_file_errors(PKI["cert"], PKI["key"], PKI["ca"], now=later)
    assert ("nats_server_tls_ca_src", "a CA certificate that is neither expired nor not yet valid") in [
        (e[0], e[1]) for e in errors]


def test_expired_ca_message_names_variable_path_and_says_expired(tmp_path):
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = write_pem(str(tmp_path / "ca.crt"), make_cert("old CA", ca_key, ca=True, days=(-60, -30)))
    cert = write_pem(str(tmp_path / "tls.crt"), make_cert("n1", key, "old CA", ca_key, days=(-60, -30)))
    error = check(nats_server_tls_ca_src=ca, nats_server_tls_cert_src=cert,
                  nats_server_tls_key_src=write_pem(str(tmp_path / "tls.key"), key), **TLS_ON)["errors"]
    assert len(error) == 2, error
    assert error[1].startswith("nats_server_tls_ca_src must be a CA certificate that is neither expired nor not yet "
                               "valid (is '%s': valid from " % ca)
    assert error[1].endswith("on host 'n1'. Replace the CA deliberately and re-issue the certificates.")


def test_tls_files_are_not_read_when_tls_is_off_or_on_the_nodes(tmp_path):
    missing = str(tmp_path / "nope")
    assert check(nats_server_tls_cert_src=missing)["errors"] == []
    assert check(nats_server_tls_cert_src="/etc/ssl/nope.crt", nats_server_tls_remote_src=True,
                 **TLS_ON)["errors"] == []
