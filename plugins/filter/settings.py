# -*- coding: utf-8 -*-
# Copyright: (c) 2026, natsops maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: nats_settings
short_description: Check every setting of the server role the way nats-server will read it
version_added: 0.1.0
description:
  - Reads the settings of the P(natsops.jetstream.server#role) role for every node and returns every error
    and warning found, and the parsed sizes and durations the configuration template renders.
  - Sizes and durations are read with the collection's one parser (nats-server's configuration parser);
    values that nats-server and Ansible would read differently (V(8K), V(1.5GB), V(1d), a bare number as a
    duration) are refused. Ranges (V(max_payload) 1 B to 64 MiB, JetStream limits from -1, ports, timeouts),
    nats-server's cross-field rules (V(max_payload) at most V(max_pending), lame-duck grace period shorter than
    the duration) and the role's own (the JetStream unique tag on every node, distinct addresses and ports,
    C(nats_server_extra_config) keys the role renders itself) are checked. C(docs/settings.md) lists every rule.
  - Messages name the variable, the value, what is allowed and the hosts with that value.
options:
  _input:
    description:
      - The C(hostvars) magic variable. A host's settings are read from its C(__nats_server_settings_input) fact
        (set by the role's preflight for every host of the play); a host outside the play (C(--limit)) uses
        O(defaults) overridden by the variables its inventory sets.
    type: dict
    required: true
  hosts:
    description: The hosts to check (the keys of the topology's C(hosts)).
    type: list
    elements: str
    required: true
  topology:
    description: The result of P(natsops.jetstream.nats_topology#filter), for the per-cluster rules.
    type: dict
    required: false
  defaults:
    description: Settings of the host running the check, used for hosts that have no C(__nats_server_settings_input).
    type: dict
    required: false
"""

EXAMPLES = r"""
- name: Check the settings of every node
  ansible.builtin.set_fact:
    settings: "{{ hostvars | natsops.jetstream.nats_settings(topology.hosts.keys() | list, topology, _nats_server_settings_input) }}"
"""

RETURN = r"""
_value:
  description:
    - C({errors, warnings, normalized}). C(normalized) maps each host to its parsed values (C(max_payload) as
      the text to render and C(max_payload_bytes), C(write_deadline) and C(write_deadline_ns), ...).
  type: dict
"""

import datetime
import json
import os
import re
import time

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE

from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt
from ansible_collections.natsops.jetstream.plugins.module_utils._units import UnitError, parse_duration, parse_size

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as _exc:  # pragma: no cover - cryptography comes with ansible-core
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = str(_exc)

INPUT_FACT = "__nats_server_settings_input"

KIB = 1024
MIB = 1024 ** 2
GIB = 1024 ** 3
SEC = 1000 ** 3
# nats-server server/const.go: MAX_PENDING_SIZE (the default max_pending) and MAX_PAYLOAD_MAX_SIZE (warning).
MAX_PENDING_DEFAULT = 64 * MIB
MAX_PAYLOAD_LIMIT = 64 * MIB
MAX_PAYLOAD_WARN = 8 * MIB
NOFILE_FLOOR = 1024
NOFILE_HEADROOM = 1024
NR_OPEN_DEFAULT = 1048576
TLS_TIMEOUT_MAX = 60

# Sizes the role accepts: what nats-server's config lexer reads as a number and Ansible reads the same way
# (or not at all). Single-letter K/M/G/T (1000^n to nats-server, 1024^n to human_to_bytes), 'b' (bits to
# Ansible), a plain 'B' (text to nats-server) and spaces (text to nats-server) are refused.
_SIZE_STRICT = re.compile(r"^-?[0-9]+(?:[KMGT]B|[KMGTkmgt][iI][Bb]?)?$")
_GO_UNITS = "ns, us, ms, s, m, h"
_SIZE_HINT = ("Sizes are a whole number of bytes, or a whole number with a unit: KB/KiB, MB/MiB, GB/GiB, TB/TiB "
              "(all powers of 1024, as nats-server reads them), e.g. 512MB or 10GB.")
_DURATION_HINT = "Durations are Go durations such as 500ms, 10s, 2m or 1h30m (units %s, no spaces)." % _GO_UNITS
_SINGLE_TERM = re.compile(r"^[0-9]+(ms|s|m|h)$")
_INT_RE = re.compile(r"^\s*-?[0-9]+\s*$")
_VERSION_RE = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$")
_UNIX_NAME_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_$-]+$")
_USER_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_HOST_RE = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_IPV6_RE = re.compile(r"^\[[0-9A-Fa-f:.%A-Za-z]+\]$")
_CONFIG_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_URL_RE = re.compile(r"^(https?://[^\s/]+|file:///)\S*$")

BOOL_VARS = (
    "nats_server_allow_small_clusters", "nats_server_allow_rename", "nats_server_gateways_enabled",
    "nats_server_gateway_reject_unknown_cluster", "nats_server_jetstream_enabled", "nats_server_debug",
    "nats_server_trace", "nats_server_logtime", "nats_server_tls_enabled", "nats_server_tls_client_enabled",
    "nats_server_tls_cluster_enabled", "nats_server_tls_gateway_enabled", "nats_server_tls_monitor_enabled",
    "nats_server_tls_remote_src", "nats_server_skip_restarts", "nats_server_canary",
)
AUTH_MODES = ("none", "mtls", "password", "jwt")
JWT_RESOLVERS = ("full", "memory")
# Settings the role renders itself in jwt mode (server/opts.go: operator and resolver aliases).
JWT_CONFIG_KEYS = frozenset(("operator", "operators", "root", "roots", "root_operators", "root_operator",
                             "trusted", "trusted_keys", "resolver", "account_resolver", "accounts_resolver",
                             "resolver_preload", "resolver_pinned_accounts"))
# Defaults of the config-file account variables: other values are ignored in jwt mode, which says so.
_CONFIG_ACCOUNT_DEFAULTS = {
    "nats_server_app_users": [{"name": "admin", "permissions": "admin"}, {"name": "reader", "permissions": "reader"}],
    "nats_server_app_account_limits": {"max_memory": -1, "max_storage": -1, "max_streams": -1, "max_consumers": -1},
    "nats_server_permission_sets": {},
}
APP_LIMIT_KEYS = ("max_memory", "max_storage", "max_streams", "max_consumers")

# Top-level keys nats-server reads (case-insensitively) for the settings the role renders itself, with their
# aliases (server/opts.go processConfigFileLine). Another value in nats_server_extra_config would clash.
RESERVED_CONFIG_KEYS = frozenset((
    "server_name", "listen", "port", "host", "net", "http", "https", "http_port", "monitor_port", "https_port",
    "server_tags", "max_payload", "max_connections", "max_conn", "write_deadline", "lame_duck_duration",
    "lame_duck_grace_period", "debug", "trace", "logtime", "logfile", "log_file", "tls", "jetstream",
    "store_dir", "storedir", "cluster", "gateway", "accounts", "authorization", "system_account", "system",
    "no_system_account", "no_system", "no_sys_acc",
))

# Variables a host outside the play cannot take from the host running the check: their defaults name the host.
_PER_HOST_DEFAULTS = ("nats_server_name", "nats_server_address", "nats_server_tls_cert_src",
                      "nats_server_tls_key_src", "nats_server_tls_ca_src")


class _Bad(Exception):
    """A value that breaks a rule. The message reads '<var> must be <allowed> (is <value>) on <hosts>. <hint>'."""

    def __init__(self, allowed, hint=""):
        super(_Bad, self).__init__(allowed)
        self.allowed = allowed
        self.hint = hint


def _show(value):
    if isinstance(value, str):
        return "'%s'" % value
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _short_jwt(value):
    """A JWT as an error message shows it: its start (they are public, but long)."""
    if not isinstance(value, str):
        return value
    value = value.strip()
    return value[:24] + "..." if len(value) > 24 else value


def _a_type(kind):
    return "an %s" % kind if str(kind)[:1] in "aeiou" else ("a %s" % kind if kind else "an untyped")


def _hosts_text(hosts, all_hosts):
    hosts = sorted(hosts)
    if len(hosts) > 1 and len(hosts) == len(all_hosts):
        return "every host (%d)" % len(hosts)
    if len(hosts) == 1:
        return "host '%s'" % hosts[0]
    return "hosts %s" % ", ".join("'%s'" % h for h in hosts)


# --- Readers: return the parsed value or raise _Bad -----------------------------------------------------------

def read_bool(value):
    """A boolean as Ansible's bool filter reads it (true/false, yes/no, on/off, 1/0, y/n, t/f)."""
    key = value.lower().strip() if isinstance(value, str) else value
    if isinstance(key, (bool, int, float, str)) and key in BOOLEANS_TRUE:
        return True
    if isinstance(key, (bool, int, float, str)) and key in BOOLEANS_FALSE:
        return False
    raise _Bad("a boolean (true/false; yes/no, on/off and 1/0 are read as booleans too)")


def read_int(value, what="a whole number"):
    if isinstance(value, bool) or value is None:
        raise _Bad(what)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INT_RE.match(value):
        return int(value)
    raise _Bad(what)


def read_size(value, allowed):
    """(bytes, text to render) for a size; ``allowed`` is the range text used in every message."""
    if isinstance(value, bool) or value is None:
        raise _Bad(allowed, _SIZE_HINT)
    if isinstance(value, int):
        return value, str(value)
    if isinstance(value, float):
        if value == int(value):
            return int(value), str(int(value))
        raise _Bad(allowed, _SIZE_HINT + " nats-server refuses fractions: write a smaller unit.")
    text = str(value).strip()
    if re.match(r"^-?[0-9]*\.[0-9]+\s*[A-Za-z]*$", text):
        raise _Bad(allowed, _SIZE_HINT + " nats-server refuses fractions (Ansible's human_to_bytes would accept "
                   "them): write a smaller unit, e.g. 1536MB for 1.5GB.")
    try:
        size = parse_size(text)
    except UnitError:
        raise _Bad(allowed, _SIZE_HINT)
    if not _SIZE_STRICT.match(text):
        unit = re.sub(r"^-?[0-9]+\s*", "", text)
        num = re.sub(r"[^0-9-].*$", "", text)
        if re.match(r"^[0-9\-]", text) and not re.match(r"^-?[0-9]+", text):
            reason = "nats-server reads only ASCII digits"
        elif " " in text or "\t" in text:
            reason = "no space between the number and the unit (nats-server reads '%s' as text)" % text
        elif unit.upper() in ("K", "M", "G", "T"):
            reason = ("'%s' is %s bytes to nats-server but %s to Ansible's human_to_bytes; write %s%sB "
                      "(powers of 1024) or the number of bytes" % (
                          text, size, int(num) * 1024 ** ("KMGT".index(unit.upper()) + 1), num, unit.upper()))
        elif unit in ("B", "b"):
            reason = "write %s without the unit (nats-server's config reads '%s' as text, not bytes)" % (num, text)
        else:
            reason = ("write the unit as %sB or %siB: a lower-case 'b' is bits to Ansible and 'kB' is 1000 "
                      "bytes elsewhere, while nats-server reads 1024" % (unit[0].upper(), unit[0].upper()))
        raise _Bad(allowed, "%s %s." % (_SIZE_HINT, reason[0].upper() + reason[1:]))
    return size, text


def read_duration(value, allowed, single_term=False):
    """(nanoseconds, text to render) for a Go duration; ``single_term`` also requires one whole number
    with one unit (ms, s, m, h), the form community.general.to_seconds reads the same way."""
    if isinstance(value, bool) or value is None:
        raise _Bad(allowed, _DURATION_HINT)
    if isinstance(value, (int, float)):
        raise _Bad(allowed, "Write it with a unit, e.g. %ss: nats-server reads a bare number as seconds (and only "
                   "outside quotes), the collection's parser as nanoseconds." % value)
    text = str(value).strip()
    try:
        ns = parse_duration(text)
    except UnitError:
        try:
            days = parse_duration(text, allow_days=True)
        except UnitError:
            raise _Bad(allowed, _DURATION_HINT)
        raise _Bad(allowed, "nats-server's config refuses days and weeks ('d', 'w') (Ansible's to_seconds would "
                   "read them): write hours instead, e.g. %dh." % (days // (3600 * SEC)))
    if single_term and not _SINGLE_TERM.match(text):
        raise _Bad(allowed, "Write it as one whole number with one unit (ms, s, m or h), e.g. 90s or 2m: the role "
                   "also reads it with community.general.to_seconds, which reads '1m30s', '1.5m' or 'us' "
                   "differently or not at all.")
    return ns, text


def _fmt_bytes(n):
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if n >= size and n % size == 0:
            return "%d %s" % (n // size, unit)
    return "%d bytes" % n


def _bytes_note(text, size):
    return "" if text == str(size) else " = %d bytes" % size


def _is_abs(value):
    return isinstance(value, str) and value.startswith("/")


def _valid_subject(subject, wildcards=True):
    if not isinstance(subject, str) or not subject or re.search(r"\s", subject):
        return False
    tokens = subject.split(".")
    for i, tok in enumerate(tokens):
        if not tok:
            return False
        if len(tok) > 1 and ("*" in tok or ">" in tok):
            return False
        if tok == ">" and (i != len(tokens) - 1 or not wildcards):
            return False
        if tok == "*" and not wildcards:
            return False
    return True


def _address_ok(value):
    return isinstance(value, str) and (_HOST_RE.match(value) is not None or _IPV6_RE.match(value) is not None)


# --- The TLS files on the controller ----------------------------------------------------------------------------

def _read_pem_certs(path):
    """The certificates of a PEM file (a bundle may hold several); raises ValueError or OSError."""
    with open(os.path.expanduser(path), "rb") as f:
        data = f.read()
    certs = x509.load_pem_x509_certificates(data)
    if not certs:
        raise ValueError("no PEM certificate in the file")
    return certs


def _not_after(cert):
    return getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after


def _not_before(cert):
    return getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before


def _when(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _valid_now(cert, now):
    before = _not_before(cert)
    after = _not_after(cert)
    if before.tzinfo is None:
        now = now.replace(tzinfo=None)
    return before <= now <= after


def _issued_by(cert, issuer):
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _public_der(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def tls_file_errors(cert_path, key_path, ca_path, now=None):
    """Errors of a node's certificate, key and CA files on the controller, as (variable, allowed, extra, hint):
    each file can be read; neither the certificate nor the CA is expired; the certificate was issued by the CA
    (through the intermediates in the certificate file, if any); the key belongs to the certificate."""
    if not HAS_CRYPTOGRAPHY:
        return [("nats_server_tls_cert_src", "checked with the Python cryptography library on the controller",
                 ": cannot import it (%s)" % CRYPTOGRAPHY_IMPORT_ERROR, "Install cryptography on the controller.")]
    now = now or datetime.datetime.now(datetime.timezone.utc)
    errors = []
    chain = cas = key = None
    try:
        chain = _read_pem_certs(cert_path)
    except (OSError, ValueError) as exc:
        errors.append(("nats_server_tls_cert_src", "a PEM certificate file readable on the controller", ": %s" % exc,
                       ""))
    try:
        cas = _read_pem_certs(ca_path)
    except (OSError, ValueError) as exc:
        errors.append(("nats_server_tls_ca_src", "a PEM CA certificate file readable on the controller",
                       ": %s" % exc, ""))
    try:
        with open(os.path.expanduser(key_path), "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
    except (OSError, ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # Never the key itself: only the reason cryptography gives.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "cannot be read as an unencrypted PEM private key"
        errors.append(("nats_server_tls_key_src", "an unencrypted PEM private key readable on the controller",
                       ": %s" % reason, ""))
    if chain and not _valid_now(chain[0], now):
        errors.append(("nats_server_tls_cert_src", "a certificate that is neither expired nor not yet valid",
                       ": valid from %s to %s" % (_when(_not_before(chain[0])), _when(_not_after(chain[0]))), ""))
    if cas:
        expired = [c for c in cas if not _valid_now(c, now)]
        if expired:
            errors.append(("nats_server_tls_ca_src", "a CA certificate that is neither expired nor not yet valid",
                           ": valid from %s to %s" % (_when(_not_before(expired[0])), _when(_not_after(expired[0]))),
                           "Replace the CA deliberately and re-issue the certificates."))
    if chain and cas:
        current, path_ok = chain[0], False
        for dummy in range(len(chain) + 1):
            if any(_issued_by(current, ca) for ca in cas):
                path_ok = True
                break
            parent = [c for c in chain[1:] if _issued_by(current, c)]
            if not parent:
                break
            current = parent[0]
        if not path_ok:
            errors.append(("nats_server_tls_cert_src", "a certificate issued by the CA in nats_server_tls_ca_src",
                           ": issued by '%s', which is not the CA '%s' in %s"
                           % (chain[0].issuer.rfc4514_string(), cas[0].subject.rfc4514_string(), ca_path), ""))
    if chain and key is not None and _public_der(key.public_key()) != _public_der(chain[0].public_key()):
        errors.append(("nats_server_tls_key_src", "the private key of the certificate in nats_server_tls_cert_src",
                       ": it does not match %s" % cert_path, ""))
    return errors


# --- Per-host checks ------------------------------------------------------------------------------------------

class _HostCheck(object):
    def __init__(self, host, settings):
        self.host = host
        self.s = settings
        self.errors = []     # (var, value, allowed, extra)
        self.warnings = []
        self.norm = {}

    def get(self, var, default=None):
        value = self.s.get(var, default)
        return default if value is None else value

    def bad(self, var, allowed, value=None, extra="", hint=""):
        self.errors.append((var, _show(self.get(var) if value is None else value), allowed, extra, hint))

    def warn(self, var, text, value=None):
        self.warnings.append((var, _show(self.get(var) if value is None else value), text, "", ""))

    def check(self, var, reader, *args, **kwargs):
        """Run a reader; on failure record the error and return None."""
        if var not in self.s:
            return None
        try:
            return reader(self.s[var], *args, **kwargs)
        except _Bad as exc:
            self.bad(var, exc.allowed, self.s[var], hint=exc.hint)
            return None

    def run(self):
        for var in BOOL_VARS:
            # nats_server_gateways_enabled may be empty (then it follows the number of clusters).
            if var == "nats_server_gateways_enabled" and self.s.get(var) in ("", None):
                continue
            self.norm[var[len("nats_server_"):]] = self.check(var, read_bool)
        self.strings()
        self.paths()
        self.sizes()
        self.durations()
        self.integers()
        self.lists()
        self.accounts()
        self.extra_config()
        self.jwt()
        return self

    # strings and names
    def strings(self):
        s = self.s
        for var in ("nats_server_group", "nats_server_user", "nats_server_group_name"):
            if var in s and not (isinstance(s[var], str) and s[var].strip()):
                self.bad(var, "a non-empty name")
        for var in ("nats_server_user", "nats_server_group_name"):
            if isinstance(s.get(var), str) and s[var].strip() and not _UNIX_NAME_RE.match(s[var]):
                self.bad(var, "a system user/group name: lower-case letters, digits, '_' and '-', starting with a "
                              "letter or '_', at most 32 characters")
        if "nats_server_cluster_name" in s and not isinstance(s["nats_server_cluster_name"], str):
            self.bad("nats_server_cluster_name", "a string (empty: the cluster group's name)")
        if "nats_server_name" in s and not (isinstance(s["nats_server_name"], str) and s["nats_server_name"]):
            self.bad("nats_server_name", "a non-empty string")
        if "nats_server_version" in s and not (isinstance(s["nats_server_version"], str)
                                               and _VERSION_RE.match(s["nats_server_version"])):
            self.bad("nats_server_version", "a release number like 2.15.1 (quoted in YAML)")
        if "nats_server_download_base_url" in s and not (isinstance(s["nats_server_download_base_url"], str)
                                                         and _URL_RE.match(s["nats_server_download_base_url"])):
            self.bad("nats_server_download_base_url", "an http://, https:// or file:/// URL")
        for var, what in (("nats_server_address", "the address peers reach this node on"),
                          ("nats_server_listen_address", "the address the listeners bind to")):
            if var in s and not _address_ok(s[var]):
                self.bad(var, "%s: a host name or IPv4 address, or an IPv6 address in brackets ([::1]); no scheme, "
                              "port or spaces" % what)
        if "nats_server_auth_mode" in s and s["nats_server_auth_mode"] not in AUTH_MODES:
            self.bad("nats_server_auth_mode", "one of %s" % ", ".join(AUTH_MODES))
        domain = s.get("nats_server_jetstream_domain")
        if domain not in (None, ""):
            if not isinstance(domain, str) or re.search(r"[\s.*>]", domain):
                self.bad("nats_server_jetstream_domain",
                         "empty or a name without spaces, '.', '*' or '>' (nats-server builds the subject "
                         "$JS.<domain>.API.> from it)")
        tag = s.get("nats_server_jetstream_unique_tag")
        if tag not in (None, ""):
            if not isinstance(tag, str) or tag != tag.strip() or re.search(r"\s", tag):
                self.bad("nats_server_jetstream_unique_tag", "empty or a tag prefix without spaces, e.g. 'az:'")
            elif tag != tag.lower():
                self.warn("nats_server_jetstream_unique_tag",
                          "is lower-cased by nats-server: '%s' matches tags starting with '%s'" % (tag, tag.lower()))
        probe_user = s.get("nats_server_probe_user")
        if "nats_server_probe_user" in s and not (isinstance(probe_user, str) and _USER_RE.match(probe_user)):
            self.bad("nats_server_probe_user", "a user name of letters, digits, '-' and '_'")

    def paths(self):
        s = self.s
        for var in ("nats_server_install_dir", "nats_server_config_dir", "nats_server_store_dir",
                    "nats_server_local_cache_path"):
            if var in s and not _is_abs(s[var]):
                self.bad(var, "an absolute path")
        for var in ("nats_server_binary_link", "nats_server_log_file"):
            if s.get(var) not in (None, "") and not _is_abs(s[var]):
                self.bad(var, "empty or an absolute path")
        if (_is_abs(s.get("nats_server_config_dir")) and _is_abs(s.get("nats_server_store_dir"))
                and s["nats_server_config_dir"].rstrip("/") == s["nats_server_store_dir"].rstrip("/")):
            self.bad("nats_server_store_dir", "a different directory than nats_server_config_dir (the unit mounts "
                                              "the config directory read-only)")
        tls_any = any(self.norm.get(k) for k in ("tls_client_enabled", "tls_cluster_enabled",
                                                 "tls_gateway_enabled", "tls_monitor_enabled"))
        if tls_any:
            remote = self.norm.get("tls_remote_src")
            for var in ("nats_server_tls_cert_src", "nats_server_tls_key_src", "nats_server_tls_ca_src"):
                if var not in s:
                    continue
                if not (isinstance(s[var], str) and s[var]):
                    self.bad(var, "the path of a file")
                elif remote and not _is_abs(s[var]):
                    self.bad(var, "an absolute path on the node (nats_server_tls_remote_src is true)")
            if not remote and "nats_server_tls_pki_dir" in s and not _is_abs(s["nats_server_tls_pki_dir"]):
                self.bad("nats_server_tls_pki_dir", "an absolute path on the controller")
            if not remote:
                self.tls_files()
        if s.get("nats_server_auth_mode") == "mtls" and self.norm.get("canary"):
            for var in ("nats_server_probe_tls_cert_src", "nats_server_probe_tls_key_src"):
                if var in s and not (isinstance(s[var], str) and s[var]):
                    self.bad(var, "the path of the probe user's client certificate or key on the controller")
        if s.get("nats_server_auth_mode") in ("mtls", "password") and "nats_server_secrets_dir" in s \
                and not _is_abs(s["nats_server_secrets_dir"]):
            self.bad("nats_server_secrets_dir", "an absolute path on the controller")

    def tls_files(self):
        """The certificate, key and CA the role copies to the node (generated, or brought by the user), read on the
        controller before any host is contacted: one check for both ways of getting them."""
        names = ("nats_server_tls_cert_src", "nats_server_tls_key_src", "nats_server_tls_ca_src")
        if not all(isinstance(self.s.get(v), str) and self.s.get(v) for v in names):
            return
        for var, allowed, extra, hint in tls_file_errors(*[self.s[v] for v in names]):
            self.bad(var, allowed, extra=extra, hint=hint)

    def sizes(self):
        s = self.s
        pending = MAX_PENDING_DEFAULT
        extra = s.get("nats_server_extra_config")
        pending_set = isinstance(extra, dict) and "max_pending" in extra
        if pending_set:
            raw = extra["max_pending"]
            if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
                self.bad("nats_server_extra_config", "a mapping whose max_pending is a whole number of bytes "
                         "greater than 0 (values are rendered as JSON, so '128MB' would be a quoted string "
                         "nats-server refuses; write 134217728)", value=raw, extra="")
                pending_set = False
            else:
                pending = raw
        payload_allowed = "a size from 1 byte to 64 MiB (67108864)"
        got = self.check("nats_server_max_payload", read_size, payload_allowed)
        if got is not None:
            size, text = got
            if size < 1 or size > MAX_PAYLOAD_LIMIT:
                self.bad("nats_server_max_payload", payload_allowed, extra=_bytes_note(text, size),
                         hint="The default is 1MB; a message above 8MB is better chunked (e.g. the object store).")
                got = None
            elif size > pending:
                self.bad("nats_server_max_payload",
                         "at most max_pending (%s, nats_server_extra_config.max_pending): nats-server refuses to "
                         "start with max_payload above max_pending" % _fmt_bytes(pending), extra=_bytes_note(text, size))
                got = None
            elif size > MAX_PAYLOAD_WARN:
                self.warn("nats_server_max_payload",
                          "is above 8 MiB: nats-server warns that larger payloads are discouraged and can lead to poor "
                          "performance; consider chunking (e.g. the object store)")
        self.norm["max_payload"], self.norm["max_payload_bytes"] = (got[1], got[0]) if got else (None, None)
        js_allowed = ("a size of at least 0, or -1 (-1: as much as the node has, 75% of its memory for "
                      "max_memory_store, the free disk space of nats_server_store_dir for max_file_store)")
        for var, key, what in (("nats_server_jetstream_max_memory_store", "jetstream_max_memory_store", "memory"),
                               ("nats_server_jetstream_max_file_store", "jetstream_max_file_store", "file")):
            got = self.check(var, read_size, js_allowed)
            if got is not None and got[0] < -1:
                self.bad(var, js_allowed, extra=_bytes_note(got[1], got[0]))
                got = None
            elif got is not None and got[0] == 0 and self.norm.get("jetstream_enabled"):
                self.warn(var, "is 0: this node's JetStream can hold no %s streams" % what)
            self.norm[key], self.norm[key + "_bytes"] = (got[1], got[0]) if got else (None, None)

    def durations(self):
        got = self.check("nats_server_write_deadline", read_duration, "a duration greater than 0, e.g. 10s")
        if got is not None and got[0] <= 0:
            self.bad("nats_server_write_deadline", "a duration greater than 0, e.g. 10s (at 0 or below every write "
                                                   "to a client times out at once)")
            got = None
        self.norm["write_deadline"], self.norm["write_deadline_ns"] = (got[1], got[0]) if got else (None, None)
        ldd = self.check("nats_server_lame_duck_duration", read_duration, "at least 30s", single_term=True)
        if ldd is not None and ldd[0] < 30 * SEC:
            self.bad("nats_server_lame_duck_duration", "at least 30s", hint="nats-server refuses less.")
            ldd = None
        grace = self.check("nats_server_lame_duck_grace_period", read_duration,
                           "a duration of at least 0s, shorter than nats_server_lame_duck_duration", single_term=True)
        if grace is not None and ldd is not None and not grace[0] < ldd[0]:
            self.bad("nats_server_lame_duck_grace_period",
                     "shorter than nats_server_lame_duck_duration (is '%s'): nats-server refuses a grace period "
                     "that is not strictly lower" % ldd[1])
            grace = None
        self.norm["lame_duck_duration"], self.norm["lame_duck_duration_ns"] = (ldd[1], ldd[0]) if ldd else (None, None)
        self.norm["lame_duck_grace_period"], self.norm["lame_duck_grace_period_ns"] = (
            (grace[1], grace[0]) if grace else (None, None))
        sync = self.s.get("nats_server_jetstream_sync_interval", "")
        self.norm["jetstream_sync_interval"], self.norm["jetstream_sync_interval_ns"] = "", None
        if sync in ("", None):
            return
        if isinstance(sync, str) and sync.strip().lower() == "always":
            self.norm["jetstream_sync_interval"] = sync.strip()
            return
        allowed = "empty (the server's default, 2m), 'always' (fsync every write) or a duration greater than 0"
        got = self.check("nats_server_jetstream_sync_interval", read_duration, allowed)
        if got is not None and got[0] <= 0:
            self.bad("nats_server_jetstream_sync_interval", allowed)
            got = None
        if got is not None:
            self.norm["jetstream_sync_interval"], self.norm["jetstream_sync_interval_ns"] = got[1], got[0]
        else:
            self.norm["jetstream_sync_interval"] = None

    def integers(self):
        def ranged(var, low, high, allowed):
            value = self.check(var, read_int, allowed)
            if value is not None and (value < low or (high is not None and value > high)):
                self.bad(var, allowed)
                return None
            return value

        conns = ranged("nats_server_max_connections", 1, None,
                       "a whole number of at least 1 (nats-server turns 0 and negative values into 'refuse every "
                       "client')")
        self.norm["max_connections"] = conns
        pool = self.check("nats_server_cluster_pool_size", read_int,
                          "-1 (no route pooling) or a whole number of at least 1")
        if pool is not None and not (pool == -1 or pool >= 1):
            self.bad("nats_server_cluster_pool_size", "-1 (no route pooling) or a whole number of at least 1 "
                                                      "(nats-server reads 0 as its default, 3)")
            pool = None
        self.norm["cluster_pool_size"] = pool
        self.norm["gateway_seeds"] = ranged("nats_server_gateway_seeds", 1, None, "a whole number of at least 1")
        floor = max(NOFILE_FLOOR, (conns or 0) + NOFILE_HEADROOM)
        nofile = ranged("nats_server_limit_nofile", floor, None,
                        "a whole number of at least %d (nats_server_max_connections + %d for routes, gateways, "
                        "JetStream files and logs; never below %d)" % (floor, NOFILE_HEADROOM, NOFILE_FLOOR))
        if nofile is not None and nofile > NR_OPEN_DEFAULT:
            self.warn("nats_server_limit_nofile",
                      "is above 1048576, Linux's default fs.nr_open: systemd cannot start the unit unless the node's "
                      "fs.nr_open is at least this high")
        self.norm["limit_nofile"] = nofile
        self.norm["tls_timeout"] = ranged("nats_server_tls_timeout", 1, TLS_TIMEOUT_MAX,
                                          "a whole number of seconds from 1 to %d" % TLS_TIMEOUT_MAX)
        for var in ("nats_server_health_retries", "nats_server_health_delay", "nats_server_probe_timeout"):
            self.norm[var[len("nats_server_"):]] = ranged(var, 1, None, "a whole number of at least 1")

    def lists(self):
        s = self.s
        retired = s.get("nats_server_retired_hosts", [])
        if not isinstance(retired, list) or not all(isinstance(h, str) and h for h in retired):
            self.bad("nats_server_retired_hosts", "a list of inventory host names", value=retired)
        tags = s.get("nats_server_tags", [])
        self.norm["tags"] = []
        if not isinstance(tags, (list, tuple)):
            self.bad("nats_server_tags", "a list of strings, e.g. [\"az:1\"]", value=tags)
        else:
            seen = {}
            for tag in tags:
                if not isinstance(tag, str) or not tag.strip():
                    self.bad("nats_server_tags", "a list of non-empty strings, e.g. [\"az:1\"]", value=tags)
                    break
                if tag != tag.strip():
                    self.bad("nats_server_tags", "a list of tags without leading or trailing spaces (nats-server "
                                                 "trims them)", value=tags)
                    break
                if tag.lower() in seen:
                    self.bad("nats_server_tags", "a list of distinct tags (nats-server lower-cases them, so '%s' and "
                                                 "'%s' are one tag)" % (seen[tag.lower()], tag), value=tags)
                    break
                seen[tag.lower()] = tag
            else:
                upper = [t for t in tags if t != t.lower()]
                if upper:
                    self.warn("nats_server_tags", "has upper-case letters; nats-server lower-cases tags (%s)"
                              % ", ".join("'%s' is '%s'" % (t, t.lower()) for t in upper))
                self.norm["tags"] = [t.lower() for t in tags]
        groups = s.get("nats_server_cluster_groups")
        if groups is not None and (not isinstance(groups, (list, tuple))
                                   or not all(isinstance(g, str) and g for g in groups)):
            self.bad("nats_server_cluster_groups", "a list of inventory group names")
        for var, allowed in (("nats_server_data_subjects", "a non-empty list of subjects (wildcards * and > allowed)"),
                             ("nats_server_reader_deliver_subjects", "a list of subjects (wildcards * and > allowed)")):
            value = s.get(var)
            if value is None:
                continue
            if (not isinstance(value, (list, tuple)) or (var == "nats_server_data_subjects" and not value)
                    or not all(_valid_subject(x) for x in value)):
                self.bad(var, allowed + ": tokens separated by '.', no spaces or empty tokens, '>' only last")
        if "nats_server_app_users" in s and not (isinstance(s["nats_server_app_users"], (list, tuple))
                                                 and all(isinstance(u, dict) for u in s["nats_server_app_users"])):
            self.bad("nats_server_app_users", "a list of mappings with name and permissions")
        if "nats_server_permission_sets" in s and not (isinstance(s["nats_server_permission_sets"], dict)
                                                       and all(isinstance(k, str) for k in s["nats_server_permission_sets"])):
            self.bad("nats_server_permission_sets", "a mapping of set names to {publish, subscribe, allow_responses}")

    def accounts(self):
        s = self.s
        for var in ("nats_server_system_account", "nats_server_app_account"):
            if var in s and not (isinstance(s[var], str) and _ACCOUNT_RE.match(s[var])):
                self.bad(var, "an account name of letters, digits, '_', '-' and '$' (no spaces, '.', '*' or '>': "
                              "nats-server puts it in subjects)")
        limits = s.get("nats_server_app_account_limits")
        self.norm["app_account_limits"] = None
        if limits is None:
            return
        if not isinstance(limits, dict):
            self.bad("nats_server_app_account_limits", "a mapping with max_memory, max_storage, max_streams and "
                                                       "max_consumers")
            return
        unknown = sorted(str(k) for k in limits if k not in APP_LIMIT_KEYS)
        if unknown:
            self.bad("nats_server_app_account_limits", "a mapping with only max_memory, max_storage, max_streams and "
                                                       "max_consumers (unknown: %s; the config would ignore them)"
                     % ", ".join(unknown))
        norm = {}
        ok = True
        for key in ("max_memory", "max_storage"):
            allowed = "a size of at least 0, or -1 for unlimited"
            try:
                size, text = read_size(limits.get(key, -1), allowed)
                if size < -1:
                    raise _Bad(allowed)
            except _Bad as exc:
                self.bad("nats_server_app_account_limits.%s" % key, exc.allowed, value=limits.get(key), hint=exc.hint)
                ok = False
                continue
            if size == 0:
                self.warn("nats_server_app_account_limits.%s" % key, "is 0: the application account can store "
                          "nothing in %s" % ("memory" if key == "max_memory" else "files"), value=limits.get(key))
            norm[key], norm[key + "_bytes"] = text, size
        for key in ("max_streams", "max_consumers"):
            allowed = "a whole number of at least 1, or -1 (or 0) for unlimited"
            try:
                value = read_int(limits.get(key, -1), allowed)
                if value < -1:
                    raise _Bad(allowed)
            except _Bad as exc:
                self.bad("nats_server_app_account_limits.%s" % key, exc.allowed, value=limits.get(key))
                ok = False
                continue
            norm[key] = value
        if ok:
            self.norm["app_account_limits"] = norm

    def jwt(self):
        """nats_server_auth_mode: jwt. The operator JWT, the system account and the preloaded account JWTs are
        decoded (and their signatures checked) with the JWT modules' own code; the template renders what is
        normalized here."""
        s = self.s
        self.norm["jwt"] = None
        if s.get("nats_server_auth_mode") != "jwt":
            return
        norm = {}
        ok = True
        content, path = s.get("nats_server_jwt_operator") or "", s.get("nats_server_jwt_operator_file") or ""
        if content and path:
            self.bad("nats_server_jwt_operator_file", "empty when nats_server_jwt_operator is set (one source of the "
                     "operator JWT)", value=path)
            ok = False
        elif not content and not path:
            self.bad("nats_server_jwt_operator", "the operator JWT (or nats_server_jwt_operator_file the path of "
                     "it on the controller, as the operator_jwt module writes it) with nats_server_auth_mode jwt",
                     value="")
            ok = False
        elif path:
            if not _is_abs(os.path.expanduser(path)):
                self.bad("nats_server_jwt_operator_file", "an absolute path on the controller", value=path)
                ok = False
            else:
                try:
                    with open(os.path.expanduser(path)) as f:
                        content = f.read()
                except (IOError, OSError) as exc:
                    self.bad("nats_server_jwt_operator_file", "a readable file on the controller holding the "
                             "operator JWT", value=path, hint="(%s)" % (exc.strerror or exc))
                    ok = False
        operator = None
        if ok:
            var = "nats_server_jwt_operator_file" if path else "nats_server_jwt_operator"
            shown = path if path else _short_jwt(content)
            try:
                dummy, operator = _nkeys_jwt.decode(content, what="the operator JWT", verify=_nkeys_jwt.HAS_NKEYS)
                if (operator.get("nats") or {}).get("type") != "operator":
                    raise _nkeys_jwt.JwtError("it is %s JWT" % _a_type((operator.get("nats") or {}).get("type")))
                if operator.get("iss") != operator.get("sub") or not str(operator.get("sub", "")).startswith("O"):
                    raise _nkeys_jwt.JwtError("an operator JWT is self-signed by an operator key (O...)")
            except _nkeys_jwt.JwtError as exc:
                self.bad(var, "an operator JWT (as the operator_jwt module writes it)", value=shown, hint=str(exc))
                operator = None
        if operator is not None:
            norm["operator"] = content.strip()
            norm["operator_public_key"] = operator["sub"]
            operator_keys = [operator["sub"]] + list((operator.get("nats") or {}).get("signing_keys") or [])
        system = s.get("nats_server_jwt_system_account") or ""
        try:
            _nkeys_jwt.check_public_key(system, "nats_server_jwt_system_account", "account")
            norm["system_account"] = system
        except _nkeys_jwt.JwtError as exc:
            self.bad("nats_server_jwt_system_account", "the public key of the system account (A..., the "
                     "public_key the nkey module returns)", value=system, hint=str(exc))
            system = None
        declared = (operator or {}).get("nats", {}).get("system_account")
        if system and declared and declared != system:
            self.bad("nats_server_jwt_system_account", "the system account the operator JWT names (%s)" % declared,
                     value=system)
        resolver = s.get("nats_server_jwt_resolver", "full")
        if resolver not in JWT_RESOLVERS:
            self.bad("nats_server_jwt_resolver", "one of %s" % ", ".join(JWT_RESOLVERS))
        norm["resolver"] = resolver
        store = s.get("nats_server_store_dir")
        rdir = s.get("nats_server_jwt_resolver_dir")
        if resolver == "full":
            if not (_is_abs(rdir) and _is_abs(store)
                    and os.path.normpath(rdir).startswith(os.path.normpath(store).rstrip("/") + "/")):
                self.bad("nats_server_jwt_resolver_dir", "an absolute path under nats_server_store_dir (%s): the "
                         "systemd unit lets nats-server write there only" % store)
            elif os.path.normpath(rdir) == os.path.normpath(os.path.join(store, "jetstream")):
                self.bad("nats_server_jwt_resolver_dir", "another directory than JetStream's own (%s/jetstream)"
                         % store.rstrip("/"))
            norm["resolver_dir"] = rdir
            norm["allow_delete"] = self.check("nats_server_jwt_allow_delete", read_bool) or False
            interval = self.check("nats_server_jwt_resolver_interval", read_duration,
                                  "a Go duration of at least 1s (how often servers compare their resolvers)")
            if interval is not None and interval[0] < SEC:
                self.bad("nats_server_jwt_resolver_interval", "a Go duration of at least 1s (how often servers "
                         "compare their resolvers)")
            norm["interval"] = interval[1] if interval else "2m"
            limit = None
            try:
                limit = read_int(s.get("nats_server_jwt_resolver_limit", 1000), "a whole number of at least 1")
                if limit < 1:
                    raise _Bad("a whole number of at least 1")
            except _Bad as exc:
                self.bad("nats_server_jwt_resolver_limit", exc.allowed + " (account JWTs the resolver keeps)")
            norm["limit"] = limit
        preload = s.get("nats_server_jwt_resolver_preload")
        norm["preload"] = {}
        if preload in (None, ""):
            preload = {}
        if not isinstance(preload, dict):
            self.bad("nats_server_jwt_resolver_preload", "a mapping of account public keys (A...) to account JWTs",
                     value=type(preload).__name__)
            preload = None
        for key in sorted(preload or {}, key=str):
            var = "nats_server_jwt_resolver_preload.%s" % key
            token = preload[key]
            try:
                _nkeys_jwt.check_public_key(str(key), var, "account")
                dummy, claims = _nkeys_jwt.decode(token if isinstance(token, str) else "", what="the JWT",
                                                  verify=_nkeys_jwt.HAS_NKEYS)
                if (claims.get("nats") or {}).get("type") != "account":
                    raise _nkeys_jwt.JwtError("it is %s JWT" % _a_type((claims.get("nats") or {}).get("type")))
                if claims.get("sub") != key:
                    raise _nkeys_jwt.JwtError("the JWT is the account %s's (%s), not %s's"
                                              % (claims.get("name", "?"), claims.get("sub"), key))
                if operator is not None and claims.get("iss") not in operator_keys:
                    raise _nkeys_jwt.JwtError("it is signed by %s, which is neither the operator %s nor one of its "
                                              "signing keys" % (claims.get("iss"), operator["sub"]))
                exp = claims.get("exp")
                if exp and isinstance(exp, (int, float)) and exp < time.time():
                    raise _nkeys_jwt.JwtError("it expired")
            except _nkeys_jwt.JwtError as exc:
                self.bad(var, "the account JWT whose subject is that key, signed by the operator of "
                         "nats_server_jwt_operator (or one of its signing keys)",
                         value=_short_jwt(token), hint=str(exc))
                continue
            norm["preload"][key] = token.strip()
        if system and preload is not None and system not in preload:
            self.bad("nats_server_jwt_resolver_preload", "a mapping that holds the system account's JWT (key %s): "
                     "its users must connect before anything can be pushed" % system,
                     value=sorted(str(k) for k in preload))
        if self.norm.get("canary"):
            creds = s.get("nats_server_probe_creds") or ""
            if not (_is_abs(os.path.expanduser(creds)) and os.path.isfile(os.path.expanduser(creds))):
                self.bad("nats_server_probe_creds", "the path of a .creds file on the controller (a user of an account "
                         "with JetStream, as the user_jwt module writes it): in jwt mode the canary probe connects "
                         "with it from the controller (or set nats_server_canary: false)", value=creds)
        extra = s.get("nats_server_extra_config")
        if isinstance(extra, dict):
            clash = sorted(k for k in extra if isinstance(k, str) and k.lower() in JWT_CONFIG_KEYS)
            if clash:
                self.bad("nats_server_extra_config", "a mapping without %s: in jwt mode the role renders the operator "
                         "and the resolver itself" % ", ".join(clash), value=sorted(extra))
        for var, default in sorted(_CONFIG_ACCOUNT_DEFAULTS.items()):
            if var in s and s[var] != default:
                self.warn(var, "is not used with nats_server_auth_mode jwt: accounts, users and their permissions "
                          "and limits are account and user JWTs (docs/jwt.md)")
        self.norm["jwt"] = norm

    def extra_config(self):
        extra = self.s.get("nats_server_extra_config", {})
        if extra in (None, ""):
            return
        if not isinstance(extra, dict):
            self.bad("nats_server_extra_config", "a mapping of top-level nats-server settings")
            return
        bad_keys = [k for k in extra if not isinstance(k, str) or not _CONFIG_KEY_RE.match(k)]
        if bad_keys:
            self.bad("nats_server_extra_config", "a mapping whose keys are setting names (letters, digits, '_' and "
                     "'-', starting with a letter or '_'); bad keys: %s" % ", ".join(_show(k) for k in bad_keys),
                     value=sorted(str(k) for k in extra))
        clash = sorted(k for k in extra if isinstance(k, str) and k.lower() in RESERVED_CONFIG_KEYS)
        if clash:
            self.bad("nats_server_extra_config", "free of settings the role renders itself (%s); set them with the "
                     "role's variables instead. Reserved keys: %s" % (", ".join("'%s'" % k for k in clash),
                                                                      ", ".join(sorted(RESERVED_CONFIG_KEYS))),
                     value=sorted(str(k) for k in extra))


# --- Cross-host checks ----------------------------------------------------------------------------------------

def _cross_host(inputs, checks, topology, errors, warnings):
    js_hosts = [h for h in sorted(inputs) if checks[h].norm.get("jetstream_enabled")]
    unique_tags = {}
    for host in js_hosts:
        tag = inputs[host].get("nats_server_jetstream_unique_tag") or ""
        if isinstance(tag, str):
            unique_tags.setdefault(tag.strip().lower(), []).append(host)
    if len(unique_tags) > 1:
        detail = "; ".join("'%s' on %s" % (t or "(none)", ", ".join(hs)) for t, hs in sorted(unique_tags.items()))
        errors.append("nats_server_jetstream_unique_tag must be the same on every JetStream node of the supercluster "
                      "(the meta leader places replicas with its own): %s" % detail)
        return
    prefix = next(iter(unique_tags)) if unique_tags else ""
    if not prefix:
        return
    values = {}
    missing, several = [], []
    for host in js_hosts:
        tags = checks[host].norm.get("tags") or []
        carried = [t for t in tags if t.startswith(prefix)]
        if not carried:
            missing.append(host)
        elif len(carried) > 1:
            several.append("%s (%s)" % (host, ", ".join(carried)))
        else:
            values[host] = carried[0]
    if missing:
        errors.append("nats_server_jetstream_unique_tag is '%s' but %s carr%s no tag starting with it in "
                      "nats_server_tags: nats-server never places a replica on a node without one, so streams have "
                      "fewer places to go. Give every JetStream node a tag such as '%s1', or empty "
                      "nats_server_jetstream_unique_tag." % (prefix, _hosts_text(missing, js_hosts),
                                                             "ies" if len(missing) == 1 else "y", prefix))
    if several:
        errors.append("nats_server_tags must hold one tag starting with nats_server_jetstream_unique_tag '%s' per "
                      "node; %s" % (prefix, "; ".join(several)))
    if not topology or missing or several:
        return
    for cluster in topology.get("clusters", []):
        nodes = [n["host"] for n in cluster.get("nodes", []) if n["host"] in values]
        if len(nodes) < 3:
            continue
        distinct = sorted(set(values[h] for h in nodes))
        if len(distinct) >= 3:
            continue
        allow_small = all(checks[h].norm.get("allow_small_clusters") for h in nodes)
        text = ("cluster '%s' has %d JetStream nodes but only %d distinct value(s) of unique tag '%s' (%s): an R3 "
                "stream cannot be placed there. Give its nodes at least 3 different '%s' tags%s."
                % (cluster["name"], len(nodes), len(distinct), prefix, ", ".join(distinct), prefix,
                   "" if allow_small else ", or set nats_server_allow_small_clusters: true to accept it"))
        (warnings if allow_small else errors).append(text)


def _auth_needs_tls(checks, errors):
    """The authentication modes and the TLS they need, and the two accounts, each message once with its hosts."""
    found = {}
    for host in sorted(checks):
        s, norm = checks[host].s, checks[host].norm
        mode, client_tls = s.get("nats_server_auth_mode"), norm.get("tls_client_enabled")
        system = s.get("nats_server_system_account")
        if isinstance(system, str) and system and system == s.get("nats_server_app_account"):
            found.setdefault("nats_server_system_account and nats_server_app_account must differ (both are '%s')"
                             % system, []).append(host)
        if mode in ("mtls", "password") and client_tls is False:
            found.setdefault("nats_server_auth_mode '%s' needs TLS on the client port (nats_server_tls_client_enabled: "
                             "true): certificates and passwords are never accepted over plaintext" % mode,
                             []).append(host)
        if norm.get("tls_monitor_enabled") and client_tls is False:
            found.setdefault("nats_server_tls_monitor_enabled needs nats_server_tls_client_enabled: nats-server serves "
                             "HTTPS monitoring with the client port's certificate", []).append(host)
    for text, hosts in found.items():
        errors.append("%s; on %s." % (text, _hosts_text(hosts, sorted(checks))))


def _auth_modes_agree(topology, checks, errors):
    """One authentication mode per cluster; across clusters only mtls and password may differ (both serve the
    config's accounts, and the gateways authenticate the same way)."""
    if not topology:
        return
    everywhere = {}
    for cluster in topology.get("clusters", []):
        modes = {}
        for node in cluster.get("nodes", []):
            if node["host"] in checks:
                mode = checks[node["host"]].s.get("nats_server_auth_mode")
                if mode in AUTH_MODES:
                    modes.setdefault(mode, []).append(node["host"])
                    everywhere.setdefault(mode, []).append(node["host"])
        if len(modes) > 1:
            errors.append("nats_server_auth_mode must be the same on every node of cluster '%s' (%s): a client that "
                          "reconnects to another node of its cluster must be accepted with the same credentials."
                          % (cluster["name"], "; ".join("%s on %s" % (m, ", ".join(h)) for m, h in modes.items())))
    if len(everywhere) > 1 and not set(everywhere) <= {"mtls", "password"}:
        errors.append("nats_server_auth_mode %s cannot be mixed with another mode in one supercluster (%s): the "
                      "gateways between clusters need the same accounts on both sides. Only mtls and password may "
                      "differ from cluster to cluster."
                      % (" and ".join("'%s'" % m for m in sorted(set(everywhere) - {"mtls", "password"})),
                         "; ".join("%s on %s" % (m, ", ".join(h)) for m, h in everywhere.items())))


def _clashing_addresses(topology, errors):
    if not topology:
        return
    bound = {}
    for host, node in sorted(topology.get("hosts", {}).items()):
        for key in ("client_port", "cluster_port", "gateway_port", "http_port"):
            if node.get(key) is None:
                continue
            bound.setdefault((str(node["address"]).lower(), node[key]), []).append("%s (nats_server_%s)" % (host, key))
    for (address, port), users in sorted(bound.items()):
        if len(users) > 1:
            errors.append("address %s port %s is used by %s; nodes that share an address (nats_server_address) need "
                          "different ports." % (address, port, ", ".join(users)))


def _pool_sizes(topology, checks, warnings):
    if not topology:
        return
    for cluster in topology.get("clusters", []):
        sizes = {}
        for node in cluster.get("nodes", []):
            if node["host"] in checks and checks[node["host"]].norm.get("cluster_pool_size") is not None:
                sizes.setdefault(checks[node["host"]].norm["cluster_pool_size"], []).append(node["host"])
        if len(sizes) > 1:
            warnings.append("nats_server_cluster_pool_size differs in cluster '%s' (%s): routes then fall back to "
                            "the larger pool or, with -1 on one side, to no pooling; set it once for the cluster."
                            % (cluster["name"], "; ".join("%s on %s" % (k, ", ".join(v)) for k, v in sorted(sizes.items()))))


def _standalone_account_limits(topology, checks, errors):
    if not topology:
        return
    for host, node in sorted(topology.get("hosts", {}).items()):
        check = checks.get(host)
        if check is None or node.get("cluster_block") or not check.norm.get("jetstream_enabled"):
            continue
        limits = check.norm.get("app_account_limits") or {}
        auth = check.s.get("nats_server_auth_mode") in ("mtls", "password")
        for key, server_key, var in (("max_memory", "jetstream_max_memory_store_bytes", "nats_server_jetstream_max_memory_store"),
                                     ("max_storage", "jetstream_max_file_store_bytes", "nats_server_jetstream_max_file_store")):
            acc, server = limits.get(key + "_bytes"), check.norm.get(server_key)
            if auth and acc and server and acc > 0 and server > 0 and acc > server:
                errors.append("nats_server_app_account_limits.%s must be at most %s (is %s) on host '%s': a single "
                              "server refuses to enable JetStream for an account that reserves more than the server "
                              "has (nats-server: insufficient resources)." % (key, var, limits[key], host))


def validate_settings(inputs, topology=None):
    """Check every host's settings. ``inputs`` maps host -> {variable: value}; returns errors, warnings and
    the normalized (parsed) values per host."""
    checks = {}
    for host in sorted(inputs):
        checks[host] = _HostCheck(host, inputs[host]).run()
    all_hosts = sorted(inputs)
    errors, warnings = [], []
    for attr, out in (("errors", errors), ("warnings", warnings)):
        grouped = {}
        order = []
        for host in all_hosts:
            for item in getattr(checks[host], attr):
                if item not in grouped:
                    grouped[item] = []
                    order.append(item)
                grouped[item].append(host)
        for item in order:
            var, value, text, extra, hint = item
            where = _hosts_text(grouped[item], all_hosts)
            if attr == "errors":
                tail = " " + hint if hint else ""
                out.append("%s must be %s (is %s%s) on %s.%s" % (var, text, value, extra, where, tail))
            else:
                out.append("%s %s (is %s on %s)." % (var, text, value, where))
    _cross_host(inputs, checks, topology, errors, warnings)
    _auth_needs_tls(checks, errors)
    _auth_modes_agree(topology, checks, errors)
    _clashing_addresses(topology, errors)
    _pool_sizes(topology, checks, warnings)
    _standalone_account_limits(topology, checks, errors)
    return {"errors": errors, "warnings": warnings,
            "normalized": dict((h, checks[h].norm) for h in all_hosts)}


def nats_settings(hostvars, hosts, topology=None, defaults=None):
    inputs = {}
    defaults = dict(defaults or {})
    for host in hosts:
        try:
            vars_ = hostvars[host]
        except KeyError:
            raise AnsibleFilterError("nats_settings: host %s is not in hostvars" % host)
        own = vars_.get(INPUT_FACT) if hasattr(vars_, "get") else None
        if isinstance(own, dict):
            inputs[host] = dict(own)
            continue
        merged = dict((k, v) for k, v in defaults.items() if k not in _PER_HOST_DEFAULTS)
        for key in defaults:
            if key in vars_ and vars_[key] is not None:
                merged[key] = vars_[key]
        inputs[host] = merged
    return validate_settings(inputs, topology)


class FilterModule(object):
    def filters(self):
        return {"nats_settings": nats_settings}
