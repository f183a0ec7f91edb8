# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the server will store (its defaults for zero values) and the rules between fields, without a server.
The integration tests check the same against a live nats-server."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream_resources import (
    ValidationError, changed_fields, consumer_rules, predict_consumer, predict_stream, stream_rules)

S = 10 ** 9


def test_zero_limits_are_unlimited_and_zero_window_is_the_default():
    after = predict_stream({"max_msgs": 0, "max_bytes": 0, "max_msg_size": 0, "max_consumers": 0,
                            "max_msgs_per_subject": 0, "duplicate_window": 0})
    assert [after[f] for f in ("max_msgs", "max_bytes", "max_msg_size", "max_consumers", "max_msgs_per_subject")] == [-1] * 5
    assert after["duplicate_window"] == 120 * S
    assert predict_stream({"max_age": 30 * S, "duplicate_window": 0})["duplicate_window"] == 30 * S
    assert "duplicate_window" not in predict_stream({"mirror": {"name": "A"}})


def test_zero_values_compare_equal_to_what_the_server_stores():
    current = {"max_msgs": -1, "max_bytes": -1, "duplicate_window": 120 * S}
    after = predict_stream(dict(current, max_msgs=0, max_bytes=0, duplicate_window=0))
    assert changed_fields(current, after, ["max_msgs", "max_bytes", "duplicate_window"]) == {}


def test_backoff_sets_ack_wait():
    after = predict_consumer({"ack_policy": "explicit", "ack_wait": 30 * S, "backoff": [S, 5 * S]}, {})
    assert after["ack_wait"] == S
    assert predict_consumer({"ack_policy": "explicit"}, {})["ack_wait"] == 30 * S
    assert "ack_wait" not in predict_consumer({"ack_policy": "none"}, {})


def test_consumer_limits_of_the_stream_are_defaults():
    after = predict_consumer({"ack_policy": "explicit"}, {"consumer_limits": {"max_ack_pending": 50,
                                                                              "inactive_threshold": 60 * S}})
    assert after["max_ack_pending"] == 50 and after["inactive_threshold"] == 60 * S


def test_max_age_shorter_than_the_window_on_the_server_is_refused():
    with pytest.raises(ValidationError) as err:
        stream_rules({"max_age": 30 * S, "duplicate_window": 120 * S}, {"max_age": 30 * S}, "stream A")
    assert "max_age 30s is shorter than duplicate_window 2m (the value on the server)" in str(err.value)
    stream_rules({"max_age": 30 * S, "duplicate_window": 30 * S}, {"max_age": 30 * S}, "stream A")


@pytest.mark.parametrize("after,desired,message", [
    ({"backoff": [S, S, S], "max_deliver": 2}, {"backoff": [S, S, S]},
     "backoff has 3 entries, more than max_deliver 2 (the value on the server)"),
    ({"backoff": [S, S, S], "max_deliver": 2}, {"max_deliver": 2},
     "backoff has 3 entries (the value on the server), more than max_deliver 2"),
    ({"backoff": [S], "ack_wait": 10 * S}, {"ack_wait": 10 * S},
     "ack_wait: 10s differs from the first backoff delay 1s (the value on the server)"),
    ({}, {"filter_subject": "a", "filter_subjects": ["b"]}, "filter_subject and filter_subjects are mutually exclusive"),
])
def test_consumer_rules_on_the_merged_config(after, desired, message):
    with pytest.raises(ValidationError) as err:
        consumer_rules(after, desired, "consumer S/c")
    assert message in str(err.value)


def test_backoff_as_long_as_max_deliver_is_allowed():
    consumer_rules({"backoff": [S, S], "max_deliver": 2}, {"max_deliver": 2}, "consumer S/c")
    consumer_rules({"backoff": [S, S], "max_deliver": -1}, {}, "consumer S/c")
