"""Property-based test of the resource modules against a live nats-server.

Hypothesis generates sequences of desired states for a stream, one of its consumers and a KV bucket, written as
a user would (sizes and durations as numbers or strings with units, zero values, options left out, bad input,
immutable changes, values that conflict with what is already on the server). Each step applies them in order and
checks, per resource:

* check mode (through the module_utils layer, with the modules' own argument specs converting the options)
  predicts the real run: same changed, operation, changes, warnings and diff; and it changes nothing;
* the real run leaves the server holding the desired values, as an independent model of nats-server says it
  stores them (zero limits -> -1, duplicate window defaults, ack_wait = backoff[0], ...);
* options the task left out are unchanged on the server;
* bad input, immutable changes and rules the server would refuse fail before anything is sent (server untouched),
  in check mode and for real;
* a second run through a real ansible-playbook (module argument handling included) reports no change, or fails
  again for a refused step, and leaves the server as it was.

CI runs a fixed, bounded set of examples (derandomize); NATSOPS_SEQ_EXAMPLES selects a longer run (see
benchmarks/module_sequences.sh), NATSOPS_SEQ_STATS a JSON file that receives examples, steps and seconds.
"""
import copy
import itertools
import json
import os
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jsutil import api
from natsproc import ROOT

try:
    import ansible_collections.natsops.jetstream  # noqa: F401  pylint: disable=unused-import
except ImportError:
    sys.path.insert(0, os.path.join(ROOT, ".cache", "collections"))

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402

from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream import (  # noqa: E402
    JetStreamClient, jetstream_argument_spec)
from ansible_collections.natsops.jetstream.plugins.module_utils._jetstream_resources import (  # noqa: E402
    CONSUMER_FIELDS, CONSUMER_MUTUALLY_EXCLUSIVE, STREAM_FIELDS, STREAM_MUTUALLY_EXCLUSIVE, ConsumerResource,
    StreamResource, ValidationError, build_desired, consumer_argument_spec, kv_argument_spec, kv_stream_config,
    stream_argument_spec)

S = 10 ** 9
TWO_MIN = 120 * S
BAD = object()   # the expected value of a literal the modules must refuse
EXAMPLES = int(os.environ.get("NATSOPS_SEQ_EXAMPLES", "12"))
STATS = {"examples": 0, "steps": 0, "playbooks": 0, "outcomes": {}}


# ----------------------------------------------------------------------------------------------------------
# What users write (literal, value the server should hold)
# ----------------------------------------------------------------------------------------------------------

def pairs(*items):
    return st.sampled_from(items)


SIZES = pairs((0, 0), (-1, -1), ("8k", 8000), ("1KiB", 1024), ("2MB", 2 * 1024 ** 2), ("1M", 10 ** 6),
              (100000, 100000), ("5000", 5000), ("1.5GB", BAD), ("-5", BAD))
STREAM = dict(
    description=pairs(("", ""), ("a", "a"), ("b", "b")),
    max_msgs=pairs((-1, -1), (0, 0), (10, 10), ("5000", 5000), (-7, BAD)),
    max_bytes=SIZES,
    max_age=pairs((0, 0), ("30s", 30 * S), ("1h", 3600 * S), ("1d", 86400 * S), (90, 90 * S), ("10 parsecs", BAD)),
    duplicate_window=pairs((0, 0), ("10s", 10 * S), ("2m", TWO_MIN), ("1m30s", 90 * S)),
    max_msgs_per_subject=pairs((-1, -1), (0, 0), (3, 3)),
    discard=pairs(("old", "old"), ("new", "new")),
    storage=pairs(("file", "file"), ("memory", "memory")),
    allow_direct=pairs((True, True), (False, False)),
    deny_delete=pairs((True, True), (False, False)),
    first_seq=pairs((5, 5), (100, 100)),
)
CONSUMER = dict(
    description=pairs(("", ""), ("a", "a")),
    ack_policy=pairs(("none", "none"), ("all", "all"), ("explicit", "explicit")),
    ack_wait=pairs((0, 0), ("1s", S), ("5s", 5 * S), ("30s", 30 * S), ("1 fortnight", BAD)),
    max_deliver=pairs((-1, -1), (0, 0), (2, 2), (5, 5)),
    backoff=pairs(([], []), (["1s"], [S]), (["1s", "2s", "3s"], [S, 2 * S, 3 * S]), (["2s", 4], [2 * S, 4 * S])),
    filter_subject=pairs(("{subj}.a", "{subj}.a")),
    filter_subjects=pairs((["{subj}.b", "{subj}.c"], ["{subj}.b", "{subj}.c"])),
    max_ack_pending=pairs((0, 0), (10, 10), (1000, 1000)),
    deliver_policy=pairs(("all", "all"), ("new", "new")),
)
KV = dict(
    description=pairs(("", ""), ("k", "k")),
    history=pairs((1, 1), (5, 5), (64, 64), (65, BAD)),
    ttl=pairs((0, 0), ("30s", 30 * S), ("1h", 3600 * S)),
    max_bytes=SIZES,
    max_value_size=pairs((-1, -1), (0, 0), (1024, 1024), ("1k", 1000)),
    storage=pairs(("file", "file"), ("memory", "memory")),
)


def options(table):
    return st.fixed_dictionaries({}, optional=table)


@st.composite
def consumer_options(draw):
    opts = draw(options(dict((k, v) for k, v in CONSUMER.items() if not k.startswith("filter"))))
    which = draw(st.sampled_from([None, "filter_subject", "filter_subjects"]))
    if which:
        opts[which] = draw(CONSUMER[which])
    return opts


STEP = st.fixed_dictionaries({"stream": options(STREAM), "consumer": consumer_options(), "kv": options(KV)})


# ----------------------------------------------------------------------------------------------------------
# An independent model of what nats-server stores and refuses
# ----------------------------------------------------------------------------------------------------------

def norm(value):
    """None, 0, '', [], {} and False all mean unset."""
    return None if value in (None, 0, "", [], {}, False) else value


def expect_stream(before, want):
    """(valid, expected {field: value}) for a stream task with ``want`` {field: expected value}."""
    if any(v is BAD for v in want.values()):
        return False, None
    cfg = dict(before or {"max_age": 0, "duplicate_window": 0, "storage": "file", "deny_delete": False})
    if before:
        if "storage" in want and want["storage"] != before.get("storage"):
            return False, None
        if before.get("deny_delete") and want.get("deny_delete") is False:
            return False, None
    expected = {}
    for field, value in want.items():
        if field in ("max_msgs", "max_bytes", "max_msgs_per_subject") and value == 0:
            value = -1
        if field == "first_seq" and before:
            value = before.get("first_seq")   # creation only
        expected[field] = value
    cfg.update(expected)
    if not cfg.get("duplicate_window"):
        cfg["duplicate_window"] = min(TWO_MIN, cfg["max_age"]) if cfg.get("max_age") else TWO_MIN
        if "duplicate_window" in want or not before:
            expected["duplicate_window"] = cfg["duplicate_window"]
    if cfg.get("max_age") and cfg["duplicate_window"] > cfg["max_age"]:
        return False, None
    return True, expected


def expect_consumer(stream_exists, before, want):
    if any(v is BAD for v in want.values()) or not stream_exists:
        return False, None
    if before:
        for field in ("ack_policy", "deliver_policy"):
            if field in want and want[field] != before.get(field, "all" if field == "deliver_policy" else "none"):
                return False, None
    cfg = dict(before or {"ack_policy": want.get("ack_policy", "explicit"), "max_deliver": -1})
    if "filter_subject" in want:
        cfg.pop("filter_subjects", None)
    if "filter_subjects" in want:
        cfg.pop("filter_subject", None)
    cfg.update(want)
    ack = cfg.get("ack_policy") or "none"
    backoff = cfg.get("backoff") or []
    max_deliver = cfg.get("max_deliver") or -1
    if backoff and max_deliver != -1 and len(backoff) > max_deliver:
        return False, None
    if backoff and want.get("ack_wait") and want["ack_wait"] != backoff[0]:
        return False, None
    expected = dict(want)
    expected["ack_policy"] = ack
    if backoff:
        expected["ack_wait"] = backoff[0]
    elif "ack_wait" in want or not before:
        expected["ack_wait"] = cfg.get("ack_wait") or (30 * S if ack != "none" else 0)
    if "max_deliver" in want:
        expected["max_deliver"] = max_deliver
    if "max_ack_pending" in want or not before:
        expected["max_ack_pending"] = cfg.get("max_ack_pending") or (1000 if ack != "none" else 0)
    if "filter_subject" in want:
        expected["filter_subjects"] = None
    if "filter_subjects" in want:
        expected["filter_subject"] = None
    return True, expected


def expect_kv(before, want):
    if any(v is BAD for v in want.values()):
        return False, None
    if before and "storage" in want and want["storage"] != before.get("storage"):
        return False, None
    expected = {}
    for option, value in want.items():
        if option == "history":
            expected["max_msgs_per_subject"] = value
        elif option == "ttl":
            expected["max_age"] = value
            expected["duplicate_window"] = min(TWO_MIN, value) if value else TWO_MIN
        elif option in ("max_bytes", "max_value_size"):
            expected["max_bytes" if option == "max_bytes" else "max_msg_size"] = -1 if value == 0 else value
        else:
            expected[option] = value
    return True, expected


# Fields a task may change besides the ones it sets (the server derives them).
DERIVED = {"stream": {"duplicate_window"}, "consumer": {"ack_wait", "filter_subject", "filter_subjects"},
           "kv": {"duplicate_window"}}
KV_WIRE = {"history": "max_msgs_per_subject", "ttl": "max_age", "max_value_size": "max_msg_size"}


# ----------------------------------------------------------------------------------------------------------
# Driving the modules
# ----------------------------------------------------------------------------------------------------------

class _Module(object):
    """What JetStreamClient needs of an AnsibleModule."""

    def __init__(self, url):
        self.params = dict((k, v.get("default")) for k, v in jetstream_argument_spec().items())
        self.params.update(servers=[url], connect_timeout=2.0)

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs["msg"])


def converted(spec, exclusive, params):
    """Options as the module would see them, through the same argument spec."""
    result = ArgumentSpecValidator(spec, mutually_exclusive=exclusive).validate(copy.deepcopy(params))
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def run_direct(client, kind, params, check_mode):
    """One run of a module's logic (module_utils), as the module runs it."""
    if kind == "stream":
        p = converted(stream_argument_spec(), STREAM_MUTUALLY_EXCLUSIVE, params)
        return StreamResource(client, p["name"]).ensure(build_desired(STREAM_FIELDS, p), check_mode=check_mode)
    if kind == "consumer":
        p = converted(consumer_argument_spec(), CONSUMER_MUTUALLY_EXCLUSIVE, params)
        return ConsumerResource(client, p["stream"], p["name"]).ensure(build_desired(CONSUMER_FIELDS, p),
                                                                       check_mode=check_mode)
    p = converted(kv_argument_spec(), [], params)
    create, managed = kv_stream_config(p["bucket"], p)
    return StreamResource(client, create["name"]).ensure(managed, check_mode=check_mode, create_defaults=create)


def server_config(url, kind, names):
    if kind == "consumer":
        resp = api(url, "$JS.API.CONSUMER.INFO.%s.%s" % names)
    else:
        resp = api(url, "$JS.API.STREAM.INFO.%s" % names)
    if "error" in resp:
        return None
    cfg = resp["config"]
    cfg["metadata"] = dict((k, v) for k, v in (cfg.get("metadata") or {}).items() if not k.startswith("_nats."))
    return cfg


def subst(value, subj):
    if isinstance(value, str):
        return value.replace("{subj}", subj)
    if isinstance(value, list):
        return [subst(v, subj) for v in value]
    return value


COUNTER = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _stats():
    start = time.time()
    yield
    path = os.environ.get("NATSOPS_SEQ_STATS")
    if path:
        with open(path, "w") as f:
            json.dump(dict(STATS, max_examples=EXAMPLES, seconds=round(time.time() - start, 1)), f)


# The play fixture only holds a temporary directory for the playbook file: sharing it between examples is safe.
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None, print_blob=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=2, max_size=4))
def test_random_sequences_of_desired_states(single, play, steps):
    url = single.urls()[0]
    n = next(COUNTER)
    subj = "seq%d" % n
    names = {"stream": "SEQ%d" % n, "consumer": ("SEQ%d" % n, "c"), "kv": "KV_seq%d" % n}
    ident = {"stream": {"name": "SEQ%d" % n, "subjects": ["%s.>" % subj]},
             "consumer": {"stream": "SEQ%d" % n, "name": "c"}, "kv": {"bucket": "seq%d" % n}}
    client = JetStreamClient(_Module(url))
    client.connect()
    STATS["examples"] += 1
    try:
        for step in steps:
            STATS["steps"] += 1
            tasks, outcomes = [], []
            for kind in ("stream", "consumer", "kv"):
                literal = dict((k, subst(v[0], subj)) for k, v in step[kind].items())
                want = dict((k, subst(v[1], subj)) for k, v in step[kind].items())
                params = dict(ident[kind], **literal)
                valid = check_step(url, client, kind, names[kind], params, want, names)
                tasks.append({"natsops.jetstream.%s" % ("kv_bucket" if kind == "kv" else kind): params,
                              "register": "r", "ignore_errors": True})
                outcomes.append((kind, valid, server_config(url, kind, names[kind])))
            # the second run, through a real ansible-playbook: no change (or refused again), server untouched
            STATS["playbooks"] += 1
            results = play([url], tasks)
            for (kind, valid, cfg), res in zip(outcomes, results):
                if valid:
                    assert not res.get("failed"), (kind, res.get("msg"))
                    assert res["changed"] is False, (kind, res.get("changes"), tasks)
                else:
                    assert res.get("failed"), (kind, res)
                assert server_config(url, kind, names[kind]) == cfg, kind
    finally:
        client.close()


def check_step(url, client, kind, name, params, want, names):
    """Check mode, then the real run, of one resource task through module_utils; returns whether it was valid."""
    before = server_config(url, kind, name)
    if kind == "stream":
        valid, expected = expect_stream(before, want)
    elif kind == "consumer":
        valid, expected = expect_consumer(server_config(url, "stream", names["stream"]) is not None, before, want)
    else:
        valid, expected = expect_kv(before, want)
    if not valid:
        STATS["outcomes"]["refused"] = STATS["outcomes"].get("refused", 0) + 1
        for check_mode in (True, False):
            with pytest.raises(ValidationError):
                run_direct(client, kind, params, check_mode)
            assert server_config(url, kind, name) == before, "a refused task changed the server"
        return False
    predicted = run_direct(client, kind, params, True)
    assert server_config(url, kind, name) == before, "check mode changed the server"
    real = run_direct(client, kind, params, False)
    STATS["outcomes"][real.action] = STATS["outcomes"].get(real.action, 0) + 1
    after = server_config(url, kind, name)
    assert (predicted.changed, predicted.action, predicted.changes, predicted.warnings) == \
        (real.changed, real.action, real.changes, real.warnings), (kind, params)
    assert predicted.before == real.before
    if real.action == "created":
        assert dict((k, real.after.get(k)) for k in predicted.after) == predicted.after, (kind, params)
    else:
        assert predicted.after == real.after, (kind, params)
    if not real.changed:
        assert after == before
    # the server holds the desired values
    for field, value in expected.items():
        wire = "num_replicas" if field == "replicas" else field
        assert norm(after.get(wire)) == norm(value), (kind, field, after.get(wire), value, params)
    # what the task left out is unchanged
    if before:
        touched = set(DERIVED[kind]) | set(KV_WIRE.get(k, k) for k in want)
        for field in set(before) | set(after):
            if field not in touched:
                assert norm(before.get(field)) == norm(after.get(field)), (kind, field, params)
    return True
