# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.natsops.jetstream.plugins.module_utils import _units
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (
    format_duration, parse_duration, parse_size, subject_overlaps, version_tuple)
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream_resources import (
    CONSUMER_FIELDS, STREAM_FIELDS, ValidationError, build_desired, changed_fields, check_versions,
    consumer_immutable_changes, display, kv_stream_config, normalise, stream_immutable_changes)

S = 10 ** 9


@pytest.mark.parametrize("value,expected", [
    ("30s", 30 * S), ("1h30m", 5400 * S), ("500ms", S // 2), ("2d", 172800 * S), ("1w", 604800 * S),
    (90, 90 * S), (1.5, 1500000000), ("0", 0), (0, 0), ("45", 45 * S), ("1.5h", 5400 * S), ("250us", 250000),
    ("1d12h", 129600 * S)])
def test_parse_duration(value, expected):
    assert parse_duration(value, "max_age") == expected


@pytest.mark.parametrize("value", ["10 parsecs", "h", "5x", -1, "1h 30m", True, "s30", "-5s", "1y"])
def test_parse_duration_rejects(value):
    with pytest.raises(ValueError) as err:
        parse_duration(value, "max_age")
    assert str(err.value).startswith("max_age: ")


@pytest.mark.parametrize("value,expected", [
    # nats-server's meaning (through _units): K/M/G/T are powers of 1000, KB/KiB/MB/GB/... powers of 1024
    ("1GiB", 1024 ** 3), ("1GB", 1024 ** 3), ("8GB", 8 * 1024 ** 3), ("1G", 1000 ** 3), ("512MiB", 512 * 1024 ** 2),
    ("10k", 10000), ("8k", 8000), ("8KB", 8192), ("1T", 1000 ** 4),
    (4096, 4096), (-1, -1), ("-1", -1), ("0", 0), ("2 TiB", 2 * 1024 ** 4), ("5000", 5000)])
def test_parse_size(value, expected):
    assert parse_size(value, "max_bytes") == expected


def test_parse_size_agrees_with_units():
    for text in ("8GB", "8k", "8K", "8KB", "8KiB", "3M", "3MB", "2T", "2TB", "17", "1b"):
        assert parse_size(text, "max_bytes") == _units.parse_size(text, "max_bytes")


@pytest.mark.parametrize("value", ["-5GiB", -2, "lots", "1XB", False, "1.5KiB", "1.5GB"])
def test_parse_size_rejects(value):
    with pytest.raises(ValueError) as err:
        parse_size(value, "max_bytes")
    assert "max_bytes: " in str(err.value)


def test_format_duration():
    assert [format_duration(x) for x in (0, 30 * S, 3600 * S, 86400 * S, S // 2)] == ["0s", "30s", "1h", "1d", "500ms"]


@pytest.mark.parametrize("a,b,overlap", [
    ("orders.>", "orders.eu", True), ("orders.*", "orders.eu.x", False), ("orders.*.x", "orders.eu.*", True),
    ("a.b", "a.c", False), (">", "anything.at.all", True), ("a.*", "a", False), ("a.b.c", "a.b.c", True)])
def test_subject_overlaps(a, b, overlap):
    assert subject_overlaps(a, b) is overlap
    assert subject_overlaps(b, a) is overlap  # pylint: disable=arguments-out-of-order


def test_version_tuple():
    assert version_tuple("2.12.5-beta.1") == (2, 12, 5)
    assert version_tuple("2.10") == (2, 10, 0)


def test_build_desired_maps_options_to_wire_fields_and_units():
    d = build_desired(STREAM_FIELDS, {"replicas": 3, "max_age": "1h", "max_bytes": "1GiB", "allow_rollup": True,
                                      "consumer_limits": {"inactive_threshold": "5m"}, "subjects": ["a.>"]})
    assert d == {"num_replicas": 3, "max_age": 3600 * S, "max_bytes": 1024 ** 3, "allow_rollup_hdrs": True,
                 "consumer_limits": {"inactive_threshold": 300 * S}, "subjects": ["a.>"]}


@pytest.mark.parametrize("params,message", [
    ({"replicas": 6}, "replicas: 6 is not allowed"),
    ({"replicas": 0}, "replicas: 0 is not allowed"),
    ({"max_msgs": -3}, "max_msgs: -3 is not allowed"),
    ({"placement": {"zone": 1}}, "placement: unknown key(s) zone"),
    ({"mirror": {"filter": "x"}}, "mirror: every entry needs a name"),
    ({"sources": [{"name": "A", "bogus": 1}]}, "sources[0]: unknown key(s) bogus"),
    ({"republish": {"src": "a"}}, "republish: needs src and dest"),
    ({"metadata": {"_nats.ver": "1"}}, "keys starting with _nats. belong to the server"),
    ({"consumer_limits": {"max_waiting": 1}}, "consumer_limits: unknown key(s) max_waiting"),
])
def test_build_desired_validation(params, message):
    with pytest.raises(ValidationError) as err:
        build_desired(STREAM_FIELDS, params)
    assert message in str(err.value)


def test_consumer_backoff_durations():
    assert build_desired(CONSUMER_FIELDS, {"backoff": ["1s", 5]}) == {"backoff": [S, 5 * S]}


def test_normalise_ignores_server_metadata_and_empty_values():
    server = {"name": "A", "metadata": {"_nats.ver": "2.12.8", "_nats.level": "1", "team": "x"}, "placement": {},
              "sources": [], "description": "", "max_age": 0}
    assert normalise(server) == {"name": "A", "metadata": {"team": "x"}}


def test_diff_only_managed_fields_and_only_real_differences():
    current = {"name": "A", "subjects": ["b", "a"], "max_age": 3600 * S, "max_bytes": -1, "placement": {"cluster": "c1", "tags": []},
               "metadata": {"_nats.req.level": "0"}}
    same = {"subjects": ["a", "b"], "placement": {"cluster": "c1"}, "metadata": {}}
    assert changed_fields(current, dict(current, **same), set(same)) == {}
    assert changed_fields(current, dict(current, max_age=7200 * S), {"max_age", "subjects"}) == {
        "max_age": (3600 * S, 7200 * S)}


def test_display_uses_human_durations():
    assert display({"max_age": 86400 * S, "duplicate_window": 120 * S, "backoff": [S]}) == {
        "max_age": "1d", "duplicate_window": "2m", "backoff": ["1s"]}


@pytest.mark.parametrize("current,desired,field", [
    ({"storage": "file"}, {"storage": "memory"}, "storage"),
    ({"retention": "limits"}, {"retention": "workqueue"}, "retention"),
    ({"retention": "workqueue"}, {"retention": "interest"}, "retention"),
    ({"sealed": True}, {"sealed": False}, "sealed"),
    ({"deny_delete": True}, {"deny_delete": False}, "deny_delete"),
    ({"deny_purge": True}, {"deny_purge": False}, "deny_purge"),
    ({"mirror": {"name": "A"}}, {"mirror": {"name": "B"}}, "mirror"),
    ({"allow_msg_ttl": True}, {"allow_msg_ttl": False}, "allow_msg_ttl"),
    ({}, {"allow_msg_counter": True}, "allow_msg_counter"),
])
def test_stream_immutable_changes(current, desired, field):
    changes = stream_immutable_changes(current, desired, (2, 12, 8))
    assert [c[0] for c in changes] == [field]


def test_stream_mutable_changes_pass():
    assert stream_immutable_changes({"retention": "limits"}, {"retention": "interest"}, (2, 12, 8)) == []
    assert stream_immutable_changes({"deny_delete": False}, {"deny_delete": True}, (2, 12, 8)) == []
    assert stream_immutable_changes({"mirror": {"name": "A"}}, {"mirror": None}, (2, 12, 8)) == []


def test_mirror_removal_and_max_consumers_depend_on_version():
    assert [c[0] for c in stream_immutable_changes({"mirror": {"name": "A"}}, {"mirror": None}, (2, 11, 4))] == ["mirror"]
    assert [c[0] for c in stream_immutable_changes({"max_consumers": -1}, {"max_consumers": 5}, (2, 12, 4))] == ["max_consumers"]
    assert stream_immutable_changes({"max_consumers": -1}, {"max_consumers": 5}, (2, 12, 5)) == []


@pytest.mark.parametrize("current,desired,field", [
    ({"deliver_policy": "all"}, {"deliver_policy": "new"}, "deliver_policy"),
    ({"ack_policy": "explicit"}, {"ack_policy": "none"}, "ack_policy"),
    ({"replay_policy": "instant"}, {"replay_policy": "original"}, "replay_policy"),
    ({"max_waiting": 512}, {"max_waiting": 10}, "max_waiting"),
    ({}, {"deliver_subject": "push.x"}, "deliver_subject"),
    ({"idle_heartbeat": 0}, {"idle_heartbeat": 5 * S}, "idle_heartbeat"),
])
def test_consumer_immutable_changes(current, desired, field):
    assert [c[0] for c in consumer_immutable_changes(current, desired)] == [field]


def test_version_gating():
    with pytest.raises(ValidationError) as err:
        check_versions({"allow_msg_ttl": True}, (2, 10, 26), "stream X")
    assert "allow_msg_ttl needs nats-server 2.11.0 or later" in str(err.value)
    check_versions({"allow_msg_ttl": False}, (2, 10, 26), "stream X")


def test_kv_config_is_the_canonical_one():
    create, managed = kv_stream_config("b1", {"history": 3, "ttl": "30s"})
    assert create["name"] == "KV_b1" and create["subjects"] == ["$KV.b1.>"]
    assert create["max_msgs_per_subject"] == 3 and create["max_age"] == 30 * S and create["duplicate_window"] == 30 * S
    assert create["allow_direct"] and create["allow_rollup_hdrs"] and create["deny_delete"] and create["discard"] == "new"
    assert managed == {"max_msgs_per_subject": 3, "max_age": 30 * S, "duplicate_window": 30 * S}
    with pytest.raises(ValidationError):
        kv_stream_config("bad.name", {})
