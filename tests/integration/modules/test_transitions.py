"""Regression tests, against a live nats-server, for transitions a randomized sequence test found broken:
options left out, switches between fields, zero values, rules between a task's values and the server's,
creation-only fields, apply's planning (validation first, consumers of recreated streams, check mode, types,
prune) and the one meaning of size units. Each test names the finding it covers (#n)."""
from jsutil import api, publish, stream_info

S = 10 ** 9


def t(module, **opts):
    return {"natsops.jetstream.%s" % module: opts, "register": "r"}


def consumer_cfg(url, stream, name):
    resp = api(url, "$JS.API.CONSUMER.INFO.%s.%s" % (stream, name))
    return None if "error" in resp else resp["config"]


def test_consumer_ack_policy_all_or_none_is_kept_when_left_out(single, play):  # 1
    url = single.urls()[0]
    play([url], [t("stream", name="T1", subjects=["t1.>"]),
                 t("consumer", stream="T1", name="all", ack_policy="all"),
                 t("consumer", stream="T1", name="none", ack_policy="none")])
    r = play([url], [t("consumer", stream="T1", name="all", description="d"),
                     t("consumer", stream="T1", name="none", description="d")], check=True)
    assert [x["operation"] for x in r] == ["updated", "updated"] and [x["changes"] for x in r] == [["description"]] * 2
    r = play([url], [t("consumer", stream="T1", name="all", description="d"),
                     t("consumer", stream="T1", name="none", description="d")])
    assert [x["changes"] for x in r] == [["description"]] * 2
    assert consumer_cfg(url, "T1", "all")["ack_policy"] == "all"
    assert consumer_cfg(url, "T1", "none")["ack_policy"] == "none"
    r = play([url], [t("consumer", stream="T1", name="all", description="d"),
                     t("consumer", stream="T1", name="none", description="d")])
    assert [x["changed"] for x in r] == [False, False]
    # a recreate without ack_policy keeps it too
    r = play([url], [t("consumer", stream="T1", name="all", deliver_policy="new", recreate=True)])[0]
    assert r["operation"] == "recreated"
    cfg = consumer_cfg(url, "T1", "all")
    assert cfg["ack_policy"] == "all" and cfg["deliver_policy"] == "new" and cfg["description"] == "d"
    # a new consumer without ack_policy still gets the documented explicit
    play([url], [t("consumer", stream="T1", name="fresh")])
    assert consumer_cfg(url, "T1", "fresh")["ack_policy"] == "explicit"


def test_consumer_switches_between_filter_subject_and_filter_subjects(single, play):  # 2
    url = single.urls()[0]
    play([url], [t("stream", name="T2", subjects=["t2.>"]),
                 t("consumer", stream="T2", name="f", filter_subject="t2.a")])
    for opts, expect in ((dict(filter_subjects=["t2.b", "t2.c"]), (None, ["t2.b", "t2.c"])),
                         (dict(filter_subject="t2.a"), ("t2.a", None))):
        task = t("consumer", stream="T2", name="f", **opts)
        checked = play([url], [task], check=True)[0]
        assert checked["operation"] == "updated"
        r = play([url], [task])[0]
        assert r["operation"] == "updated" and r["changes"] == checked["changes"]
        assert r["changes"] == ["filter_subject", "filter_subjects"]
        assert r["diff"]["after"] == checked["diff"]["after"]
        cfg = consumer_cfg(url, "T2", "f")
        assert (cfg.get("filter_subject"), cfg.get("filter_subjects")) == expect
        assert play([url], [task])[0]["changed"] is False


def test_apply_recreating_a_stream_creates_its_declared_consumers(single, play):  # 3
    url = single.urls()[0]
    streams = [{"name": "T3", "subjects": ["t3.>"], "storage": "file"}]
    consumers = [{"stream": "T3", "name": "c", "max_deliver": 4}]
    play([url], [t("apply", streams=streams, consumers=consumers)])
    recreated = [dict(streams[0], storage="memory", recreate=True)]
    r = play([url], [t("apply", streams=recreated, consumers=consumers)], check=True)[0]
    assert [(x["name"], x["action"]) for x in r["resources"]] == [("T3", "recreated"), ("T3/c", "created")]
    r = play([url], [t("apply", streams=recreated, consumers=consumers)])[0]
    assert [(x["name"], x["action"]) for x in r["resources"]] == [("T3", "recreated"), ("T3/c", "created")]
    assert stream_info(url, "T3")["config"]["storage"] == "memory"
    assert consumer_cfg(url, "T3", "c")["max_deliver"] == 4
    assert play([url], [t("apply", streams=recreated, consumers=consumers)])[0]["summary"] == {"unchanged": 2}


def test_apply_validates_every_entry_before_sending_anything(single, play):  # 4, 10
    url = single.urls()[0]
    play([url], [t("apply", streams=[{"name": "T4", "subjects": ["t4.>"], "description": "old"}],
                   consumers=[{"stream": "T4", "name": "c", "max_deliver": 2}])])
    bad_entry = {"stream": "T4", "name": "d", "backoff": ["1s", "2s", "3s"], "max_deliver": 2}
    # the server's max_deliver (2) is what the backoff of 3 entries conflicts with
    bad_against_server = {"stream": "T4", "name": "c", "backoff": ["1s", "2s", "3s"]}
    for bad, message in ((bad_entry, "backoff has 3 entries, more than max_deliver 2"),
                         (bad_against_server, "backoff has 3 entries, more than max_deliver 2 (the value on the server)")):
        for check in (True, False):
            r = play([url], [t("apply", streams=[{"name": "T4", "description": "new"}], consumers=[bad])],
                     check=check, expect_fail=True)[0]
            assert r["failed"] and message in r["msg"], r["msg"]
            assert r["resources"] == []
            assert stream_info(url, "T4")["config"]["description"] == "old"
            assert consumer_cfg(url, "T4", "d") is None and consumer_cfg(url, "T4", "c").get("backoff") is None


def test_apply_check_mode_plans_consumers_of_a_new_stream(single, play):  # 5
    url = single.urls()[0]
    decl = dict(streams=[{"name": "T5", "subjects": ["t5.>"]}], consumers=[{"stream": "T5", "name": "c"}],
                kv_buckets=[{"bucket": "t5kv", "history": 2}])
    r = play([url], [t("apply", **decl)], check=True)[0]
    assert [(x["name"], x["action"]) for x in r["resources"]] == [
        ("T5", "created"), ("KV_t5kv", "created"), ("T5/c", "created")]
    assert stream_info(url, "T5") is None
    r = play([url], [t("apply", **decl)])[0]
    assert r["summary"] == {"created": 3}


def test_apply_converts_entries_with_the_modules_argument_specs(single, play):  # 6
    url = single.urls()[0]
    decl = dict(streams=[{"name": "T6", "subjects": ["t6.>"], "max_msgs": "5000", "replicas": "1",
                          "allow_direct": "yes"}],
                consumers=[{"stream": "T6", "name": "c", "max_deliver": "3", "backoff": ["1s", 2]}],
                kv_buckets=[{"bucket": "t6kv", "history": "4"}])
    r = play([url], [t("apply", **decl)])[0]
    assert r["summary"] == {"created": 3}
    cfg = stream_info(url, "T6")["config"]
    assert cfg["max_msgs"] == 5000 and cfg["allow_direct"] is True
    assert consumer_cfg(url, "T6", "c")["max_deliver"] == 3
    assert consumer_cfg(url, "T6", "c")["backoff"] == [S, 2 * S]
    assert stream_info(url, "KV_t6kv")["config"]["max_msgs_per_subject"] == 4
    assert play([url], [t("apply", **decl)])[0]["summary"] == {"unchanged": 3}
    r = play([url], [t("apply", streams=[{"name": "T6", "max_msgs": "lots"}])], expect_fail=True)[0]
    assert "streams[0]:" in r["msg"] and "max_msgs" in r["msg"]
    r = play([url], [t("apply", consumers=[{"stream": "T6", "name": "c", "ack_policy": "sometimes"}])],
             expect_fail=True)[0]
    assert "consumers[0]:" in r["msg"] and "ack_policy" in r["msg"]


def test_zero_values_converge(single, play):  # 7
    url = single.urls()[0]
    zero = dict(max_msgs=0, max_bytes=0, duplicate_window=0, max_msg_size=0, max_msgs_per_subject=0)
    r = play([url], [t("stream", name="T7", subjects=["t7.>"], **zero),
                     t("stream", name="T7", subjects=["t7.>"], **zero)])
    assert [x["changed"] for x in r] == [True, False]
    cfg = stream_info(url, "T7")["config"]
    assert cfg["max_msgs"] == -1 and cfg["max_bytes"] == -1 and cfg["duplicate_window"] == 120 * S
    # an existing stream with limits set back to 0: one change, then none
    play([url], [t("stream", name="T7", max_msgs=10, max_bytes="1MiB", duplicate_window="10s")])
    r = play([url], [t("stream", name="T7", **zero)], check=True)[0]
    assert r["changes"] == ["duplicate_window", "max_bytes", "max_msgs"]
    assert r["diff"]["after"]["duplicate_window"] == "2m" and r["diff"]["after"]["max_msgs"] == -1
    r = play([url], [t("stream", name="T7", **zero), t("stream", name="T7", **zero)])
    assert [x["changed"] for x in r] == [True, False]
    assert stream_info(url, "T7")["config"]["duplicate_window"] == 120 * S
    # with a short max_age the server's default window is max_age
    r = play([url], [t("stream", name="T7b", subjects=["t7b"], max_age="30s", duplicate_window=0),
                     t("stream", name="T7b", subjects=["t7b"], max_age="30s", duplicate_window=0),
                     t("kv_bucket", bucket="t7kv", max_bytes=0, max_value_size=0),
                     t("kv_bucket", bucket="t7kv", max_bytes=0, max_value_size=0),
                     t("consumer", stream="T7", name="c", max_deliver=0, ack_wait=0, max_ack_pending=0),
                     t("consumer", stream="T7", name="c", max_deliver=0, ack_wait=0, max_ack_pending=0)])
    assert [x["changed"] for x in r] == [True, False] * 3
    assert stream_info(url, "T7b")["config"]["duplicate_window"] == 30 * S


def test_ack_wait_with_a_backoff_on_the_server(single, play):  # 8
    url = single.urls()[0]
    play([url], [t("stream", name="T8", subjects=["t8.>"]),
                 t("consumer", stream="T8", name="c", max_deliver=5, backoff=["1s", "2s"])])
    for check in (True, False):
        r = play([url], [t("consumer", stream="T8", name="c", ack_wait="10s")], check=check, expect_fail=True)[0]
        assert "ack_wait: 10s differs from the first backoff delay 1s (the value on the server)" in r["msg"]
    assert consumer_cfg(url, "T8", "c")["ack_wait"] == S
    assert play([url], [t("consumer", stream="T8", name="c", ack_wait="1s")])[0]["changed"] is False


def test_first_seq_is_only_used_when_the_stream_is_created(single, play):  # 9
    url = single.urls()[0]
    play([url], [t("stream", name="T9", subjects=["t9"], first_seq=100)])
    publish(url, "t9", 3)
    r = play([url], [t("stream", name="T9", first_seq=500, description="x")], check=True)[0]
    assert r["changes"] == ["description"]
    r = play([url], [t("stream", name="T9", first_seq=500, description="x")])[0]
    assert r["operation"] == "updated" and r["changes"] == ["description"]
    assert any("first_seq 500 ignored" in w for w in r["warnings"])
    info = stream_info(url, "T9")
    assert info["config"]["first_seq"] == 100 and info["state"]["first_seq"] == 100
    assert info["state"]["messages"] == 3
    r = play([url], [t("stream", name="T9", first_seq=500, description="x")])[0]
    assert r["changed"] is False and any("first_seq" in w for w in r["warnings"])


def test_rules_between_fields_count_the_servers_values(single, play):  # 10
    url = single.urls()[0]
    play([url], [t("stream", name="T10", subjects=["t10.>"]),
                 t("consumer", stream="T10", name="c", max_deliver=2)])
    for check in (True, False):
        r = play([url], [t("consumer", stream="T10", name="c", backoff=["1s", "2s", "3s"])], check=check,
                 expect_fail=True)[0]
        assert "backoff has 3 entries, more than max_deliver 2 (the value on the server)" in r["msg"]
        r = play([url], [t("stream", name="T10", max_age="30s")], check=check, expect_fail=True)[0]
        assert "max_age 30s is shorter than duplicate_window 2m (the value on the server)" in r["msg"]
    assert consumer_cfg(url, "T10", "c").get("backoff") is None
    assert stream_info(url, "T10")["config"]["max_age"] == 0
    r = play([url], [t("stream", name="T10", max_age="30s", duplicate_window="30s")])[0]
    assert r["changes"] == ["duplicate_window", "max_age"]


def test_check_mode_diff_is_the_real_diff_with_backoff(single, play):  # 11
    url = single.urls()[0]
    play([url], [t("stream", name="T11", subjects=["t11.>"]),
                 t("consumer", stream="T11", name="c", ack_wait="30s", max_deliver=5)])
    task = t("consumer", stream="T11", name="c", backoff=["2s", "4s"])
    checked = play([url], [task], check=True)[0]
    real = play([url], [task])[0]
    assert checked["diff"]["after"]["ack_wait"] == "2s"
    assert checked["diff"] == real["diff"] and checked["changes"] == real["changes"] == ["ack_wait", "backoff"]
    assert play([url], [task])[0]["changed"] is False


def test_prune_consumers_only_on_the_streams_of_the_set(single, play):  # 12
    url = single.urls()[0]
    play([url], [t("stream", name="P_A", subjects=["pa"]), t("stream", name="P_B", subjects=["pb"]),
                 t("stream", name="EXT", subjects=["ext"]), t("kv_bucket", bucket="P_kv")]
         + [t("consumer", stream=s, name=c) for s, c in (
             ("P_A", "P_a1"), ("P_A", "P_a2"), ("P_A", "keep_a"), ("P_B", "P_b1"), ("EXT", "P_x1"), ("EXT", "P_x2"))])
    api(url, "$JS.API.CONSUMER.CREATE.KV_P_kv.P_watch",
        {"stream_name": "KV_P_kv", "config": {"durable_name": "P_watch", "ack_policy": "explicit"}})
    base = dict(streams=[{"name": "P_A"}, {"name": "P_B"}], prune=True, prune_prefix="P_")
    # no consumers declared: consumers are not pruned at all
    r = play([url], [t("apply", **base)])[0]
    assert r["summary"] == {"unchanged": 2}
    decl = dict(base, consumers=[{"stream": "P_A", "name": "P_a1"}, {"stream": "EXT", "name": "P_x1"}])
    r = play([url], [t("apply", **decl)], check=True)[0]
    gone = sorted(x["name"] for x in r["resources"] if x["action"] == "deleted")
    assert gone == ["P_A/P_a2", "P_B/P_b1"]
    r = play([url], [t("apply", **decl)])[0]
    assert sorted(x["name"] for x in r["resources"] if x["action"] == "deleted") == gone
    assert consumer_cfg(url, "P_A", "P_a2") is None and consumer_cfg(url, "P_B", "P_b1") is None
    # kept: declared, without the prefix, on a stream the set does not declare, on a KV stream
    for stream, name in (("P_A", "P_a1"), ("P_A", "keep_a"), ("EXT", "P_x1"), ("EXT", "P_x2"), ("KV_P_kv", "P_watch")):
        assert consumer_cfg(url, stream, name) is not None, (stream, name)
    assert play([url], [t("apply", **decl)])[0]["changed"] is False


def test_sizes_and_durations_have_nats_servers_meaning(single, play):  # 13
    url = single.urls()[0]
    r = play([url], [t("stream", name="T13", subjects=["t13"], max_bytes="8k", max_msg_size="1KB", max_age="1d"),
                     t("kv_bucket", bucket="t13kv", max_bytes="2M", max_value_size="1k"),
                     t("object_store", bucket="t13obj", max_bytes="1MB"),
                     t("apply", streams=[{"name": "T13b", "subjects": ["t13b"], "max_bytes": "1GB"}])])
    assert all(x["changed"] for x in r)
    cfg = stream_info(url, "T13")["config"]
    assert cfg["max_bytes"] == 8000 and cfg["max_msg_size"] == 1024 and cfg["max_age"] == 86400 * S
    kv = stream_info(url, "KV_t13kv")["config"]
    assert kv["max_bytes"] == 2 * 1000 ** 2 and kv["max_msg_size"] == 1000
    assert stream_info(url, "OBJ_t13obj")["config"]["max_bytes"] == 1024 ** 2
    assert stream_info(url, "T13b")["config"]["max_bytes"] == 1024 ** 3
    r = play([url], [t("stream", name="T13", max_bytes="1.5GB")], expect_fail=True)[0]
    assert "max_bytes: '1.5GB' is not a size" in r["msg"]
    assert stream_info(url, "T13")["config"]["max_bytes"] == 8000
