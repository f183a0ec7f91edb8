"""Issue 15, second layer: the account_jwt_push module against a real 3-node nats-server cluster in operator mode with
the NATS-based full resolver (allow_delete on, only the system account preloaded): account JWTs pushed through the
system account take effect on every node without a restart, a re-run pushes nothing, a changed JetStream limit and a
revocation are enforced after the push, state=absent deletes the account, servers' refusals are named, and bad input
fails before anything is sent. The tests run in file order on one cluster."""
import asyncio
import json
import os
import shutil
import tempfile
import time

import nats
import nats.js.errors
import pytest

from conftest import FullResolverCluster
from plays import run_play

NS = "natsops.jetstream."
PUSH = NS + "account_jwt_push"


@pytest.fixture(scope="module")
def lab():
    work = tempfile.mkdtemp(prefix="natsops-jwt-push-")
    keys, jwts, creds = os.path.join(work, "keys"), os.path.join(work, "jwt"), os.path.join(work, "creds")
    nkeys = [("operator", "operator"), ("operator-signing", "operator"), ("rogue", "operator"), ("sys", "account"),
             ("app", "account"), ("sysadmin", "user"), ("alice", "user"), ("mallory", "user")]
    op = os.path.join(jwts, "operator.jwt")
    tasks = [
        {"name": "nkeys", NS + "nkey": {"name": "{{ item.0 }}", "type": "{{ item.1 }}", "dir": keys},
         "loop": nkeys, "register": "k"},
        {"set_fact": {"pk": "{{ dict(k.results | map(attribute='item.0') | zip(k.results | "
                            "map(attribute='public_key'))) }}"}},
        {"name": "operator", NS + "operator_jwt": {
            "path": op, "name": "natsops-push", "seed_file": os.path.join(keys, "operator.nk"),
            "signing_keys": ["{{ pk['operator-signing'] }}"], "system_account": "{{ pk['sys'] }}"}},
        {"name": "system account", NS + "account_jwt": {
            "path": os.path.join(jwts, "SYS.jwt"), "name": "SYS", "seed_file": os.path.join(keys, "sys.nk"),
            "issuer_seed_file": os.path.join(keys, "operator-signing.nk"), "operator_jwt": op}},
        app_task(keys, jwts, streams=2),
        user_task(keys, jwts, creds, "sysadmin", "SYS.jwt", "sys.nk"),
        user_task(keys, jwts, creds, "alice", "APP.jwt", "app.nk"),
        user_task(keys, jwts, creds, "mallory", "APP.jwt", "app.nk"),
    ]
    results, stdout = run_play(work, tasks)
    pk = dict((r["item"][0], r["public_key"]) for r in results[0]["results"])
    cluster = FullResolverCluster(op, pk["sys"], os.path.join(jwts, "SYS.jwt"))
    cluster.start()
    pids, started = cluster.pids(), cluster.started()
    assert len(pids) == 3
    yield dict(work=work, keys=keys, jwts=jwts, creds=creds, pk=pk, op=op, cluster=cluster, pids=pids, started=started)
    cluster.stop()
    shutil.rmtree(work, ignore_errors=True)


def app_task(keys, jwts, streams, revocations=None):
    args = {"path": os.path.join(jwts, "APP.jwt"), "name": "APP", "seed_file": os.path.join(keys, "app.nk"),
            "issuer_seed_file": os.path.join(keys, "operator-signing.nk"), "operator_jwt": os.path.join(jwts, "operator.jwt"),
            "jetstream": {"mem_storage": "64MiB", "disk_storage": "64MiB", "streams": streams}}
    if revocations:
        args["revocations"] = revocations
    return {"name": "application account", NS + "account_jwt": args}


def user_task(keys, jwts, creds, name, account, issuer):
    return {"name": "user " + name, NS + "user_jwt": {
        "name": name, "seed_file": os.path.join(keys, name + ".nk"), "issuer_seed_file": os.path.join(keys, issuer),
        "account_jwt": os.path.join(jwts, account), "creds_path": os.path.join(creds, name + ".creds")}}


def push(lab, expect_fail=False, check=False, **args):
    options = {"servers": lab["cluster"].urls, "creds": os.path.join(lab["creds"], "sysadmin.creds"),
               "operator_jwt": lab["op"], "expected_servers": 3}
    options.update(args)
    return {"name": "push", PUSH: options, "ignore_errors": expect_fail}


def read(path):
    with open(path) as f:
        return f.read().strip()


async def _connect(url, creds):
    nc = await nats.connect(url, user_credentials=creds, allow_reconnect=False, connect_timeout=3,
                            max_reconnect_attempts=0, error_cb=_quiet)
    return nc


async def _quiet(*args):
    return None


def round_trip(url, creds):
    """Connect as a user through one node and get a message back through it; the error text when refused."""
    async def run():
        try:
            nc = await _connect(url, creds)
        except Exception as exc:  # noqa: BLE001 - the refusal is the result
            return "refused: %s" % (str(exc) or type(exc).__name__)
        try:
            sub = await nc.subscribe("push.test")
            await nc.publish("push.test", b"hello")
            msg = await sub.next_msg(timeout=3)
            return "ok" if msg.data == b"hello" else "wrong data"
        finally:
            await nc.close()
    return asyncio.run(run())


class Held(object):
    """A user connected through one node while a play runs: is its connection closed afterwards?"""

    def __init__(self, url, creds):
        self.loop = asyncio.new_event_loop()
        self.nc = self.loop.run_until_complete(_connect(url, creds))

    def closed_after(self, seconds=3.0):
        deadline = time.time() + seconds
        while time.time() < deadline and not self.nc.is_closed:
            self.loop.run_until_complete(asyncio.sleep(0.1))
        closed = self.nc.is_closed
        if not closed:
            self.loop.run_until_complete(self.nc.close())
        self.loop.close()
        return closed


def through_every_node(lab, user):
    creds = os.path.join(lab["creds"], user + ".creds")
    return dict((n["name"], round_trip(lab["cluster"].url(n), creds)) for n in lab["cluster"].nodes)


def assert_same_processes(lab):
    assert lab["cluster"].pids() == lab["pids"]
    assert lab["cluster"].started() == lab["started"]


def resolver_jwts(lab, account):
    return dict((n["name"], lab["cluster"].resolver_jwt(n, account)) for n in lab["cluster"].nodes)


def test_push_takes_effect_on_every_node_without_restart(lab):
    app = lab["pk"]["app"]
    before = through_every_node(lab, "alice")
    # no node knows the account yet
    assert all("authorization violation" in v.lower() for v in before.values()), before
    assert set(resolver_jwts(lab, app).values()) == {None}

    results, out = run_play(lab["work"], [push(lab, paths=[os.path.join(lab["jwts"], "APP.jwt")])], check=True)
    res = results[0]
    assert res["changed"] and res["accounts"][0]["operation"] == "pushed"
    assert res["accounts"][0]["lookup"] == {"answered": 3, "current": 0, "outdated": 0, "missing": 3}
    assert res["accounts"][0]["servers"] == []  # check mode sends nothing
    assert res["diff"][0]["before"] == {} and res["diff"][0]["after"]["nats"]["limits"]["streams"] == 2
    assert set(resolver_jwts(lab, app).values()) == {None}

    results, out = run_play(lab["work"], [push(lab, paths=[os.path.join(lab["jwts"], "APP.jwt")])])
    res = results[0]["accounts"][0]
    assert results[0]["changed"] and res["operation"] == "pushed" and res["public_key"] == app and res["name"] == "APP"
    assert sorted(s["server"] for s in res["servers"]) == ["jwtc-n1", "jwtc-n2", "jwtc-n3"]
    assert set(s["message"] for s in res["servers"]) == {"jwt updated"}
    # the pushed JWT is in every node's resolver directory, byte for byte
    assert set(resolver_jwts(lab, app).values()) == {read(os.path.join(lab["jwts"], "APP.jwt"))}
    assert through_every_node(lab, "alice") == {"jwtc-n1": "ok", "jwtc-n2": "ok", "jwtc-n3": "ok"}
    assert_same_processes(lab)


def test_second_run_pushes_nothing(lab):
    results, out = run_play(lab["work"], [push(lab, paths=[os.path.join(lab["jwts"], "APP.jwt")])])
    res = results[0]
    assert not res["changed"]
    assert res["accounts"][0]["operation"] == "unchanged" and res["accounts"][0]["servers"] == []
    assert res["accounts"][0]["lookup"] == {"answered": 3, "current": 3, "outdated": 0, "missing": 0}
    # without expected_servers every answer within gather_timeout counts: still nothing to push
    task = push(lab, paths=[os.path.join(lab["jwts"], "APP.jwt")], gather_timeout=1.0)
    del task[PUSH]["expected_servers"]
    results, out = run_play(lab["work"], [task])
    assert not results[0]["changed"] and results[0]["accounts"][0]["lookup"]["current"] == 3


def jetstream_streams(url, creds, names):
    """Create R1 streams one after another; returns per name "ok" or the API error."""
    async def run():
        nc = await _connect(url, creds)
        out = {}
        try:
            js = nc.jetstream(timeout=5)
            for name in names:
                try:
                    await js.add_stream(name=name, subjects=[name.lower() + ".>"], num_replicas=1)
                    out[name] = "ok"
                except nats.js.errors.APIError as exc:
                    out[name] = "%s %s" % (exc.err_code, exc.description)
        finally:
            await nc.close()
        return out
    return asyncio.run(run())


def delete_stream(url, creds, name):
    async def run():
        nc = await _connect(url, creds)
        try:
            await nc.jetstream(timeout=5).delete_stream(name)
        finally:
            await nc.close()
    asyncio.run(run())


def test_changed_limit_is_enforced_after_the_push(lab):
    cluster, creds = lab["cluster"], os.path.join(lab["creds"], "alice.creds")
    url = cluster.url(cluster.nodes[1])
    assert jetstream_streams(url, creds, ["S1", "S2"]) == {"S1": "ok", "S2": "ok"}  # max streams 2
    delete_stream(url, creds, "S2")
    results, out = run_play(lab["work"], [app_task(lab["keys"], lab["jwts"], streams=1),
                                          push(lab, paths=[os.path.join(lab["jwts"], "APP.jwt")])])
    assert results[0]["changes"] == ["nats.limits.streams"]
    res = results[1]["accounts"][0]
    assert results[1]["changed"] and res["operation"] == "pushed"
    assert res["lookup"] == {"answered": 3, "current": 0, "outdated": 3, "missing": 0}
    assert res["changes"] == ["nats.limits.streams"]
    assert results[1]["diff"][0]["before"]["nats"]["limits"]["streams"] == 2
    assert results[1]["diff"][0]["after"]["nats"]["limits"]["streams"] == 1
    assert set(resolver_jwts(lab, lab["pk"]["app"]).values()) == {read(os.path.join(lab["jwts"], "APP.jwt"))}
    for node in cluster.nodes:   # through every node: the second stream is refused, the account's limit is 1
        got = jetstream_streams(cluster.url(node), creds, ["S2"])
        assert got["S2"].startswith("10027"), got   # JSMaximumStreamsLimitErr
    assert_same_processes(lab)


def test_revoked_user_is_refused_after_the_push(lab):
    assert through_every_node(lab, "mallory") == {"jwtc-n1": "ok", "jwtc-n2": "ok", "jwtc-n3": "ok"}
    revoke_at = int(time.time()) + 1  # mallory's JWT was issued before this
    revocations = "{{ {pk['mallory']: %d} }}" % revoke_at
    held = Held(lab["cluster"].url(lab["cluster"].nodes[2]), os.path.join(lab["creds"], "mallory.creds"))
    results, out = run_play(lab["work"], [
        {"set_fact": {"pk": lab["pk"]}},
        app_task(lab["keys"], lab["jwts"], streams=1, revocations=revocations),
        push(lab, paths=[os.path.join(lab["jwts"], "APP.jwt")])])
    res = results[2]["accounts"][0]
    assert res["operation"] == "pushed" and "nats.revocations" in res["changes"]
    assert held.closed_after()   # the server closed mallory's open connection too
    refused = through_every_node(lab, "mallory")
    assert all("authorization violation" in v.lower() for v in refused.values()), refused
    assert through_every_node(lab, "alice") == {"jwtc-n1": "ok", "jwtc-n2": "ok", "jwtc-n3": "ok"}
    assert_same_processes(lab)


def test_servers_that_refuse_are_named(lab):
    """A JWT the module accepts (an account JWT signed by the operator) but nats-server's validation refuses: a
    signing key that is a user key. Each server's refusal is named with its error, and nothing is stored."""
    from ansible_collections.natsops.jetstream.plugins.module_utils import _nkeys_jwt as j
    op = j.read_seed_file(os.path.join(lab["keys"], "operator-signing.nk"), "op", "operator")
    bad_acc = j.public_key(j.keypair(j.create_seed("account"), "x", "account"))
    token = j.encode({"name": "BAD", "sub": bad_acc, "nats": {
        "limits": {"subs": -1, "conn": -1, "leaf": -1, "imports": -1, "exports": -1, "data": -1, "payload": -1,
                   "wildcards": True},
        "signing_keys": [lab["pk"]["alice"]], "type": "account", "version": 2}}, op)
    results, out = run_play(lab["work"], [push(lab, jwts=[token])], expect_fail=True)
    res = results[0]
    assert res["failed"]
    for name in ("jwtc-n1", "jwtc-n2", "jwtc-n3"):
        assert "server %s (cluster jwtc) refused: jwt validation failed" % name in res["msg"], res["msg"]
    assert [r["operation"] for r in res["accounts"]] == ["pushed"] and len(res["accounts"][0]["refused"]) == 3
    assert set(resolver_jwts(lab, bad_acc).values()) == {None}
    # more servers expected than there are: the JWT is pushed again and the module says how many answered
    results, out = run_play(lab["work"], [push(lab, paths=[os.path.join(lab["jwts"], "APP.jwt")], expected_servers=4,
                                               gather_timeout=1.0)], expect_fail=True)
    assert "only 3 of 4 expected servers answered (jwtc-n1, jwtc-n2, jwtc-n3)" in results[0]["msg"], results[0]["msg"]
    assert results[0]["accounts"][0]["reason"] == "only 3 of the 4 expected servers answered the lookup"


def spy(lab):
    """Subscribe as the system account to the resolver subjects; returns (start, stop) coroutines' runner."""
    class Spy(object):
        def __enter__(self):
            self.loop = asyncio.new_event_loop()
            self.got = []

            async def start():
                self.nc = await _connect(lab["cluster"].urls[0], os.path.join(lab["creds"], "sysadmin.creds"))

                async def cb(msg):
                    if not msg.subject.endswith((".PACK", ".LIST")):   # the servers' own resolver sync
                        self.got.append(msg.subject)
                for subject in ("$SYS.REQ.CLAIMS.>", "$SYS.REQ.ACCOUNT.*.CLAIMS.>"):
                    await self.nc.subscribe(subject, cb=cb)
                await self.nc.flush()
            self.loop.run_until_complete(start())
            return self

        def __exit__(self, *exc):
            self.loop.run_until_complete(asyncio.sleep(0.5))
            self.loop.run_until_complete(self.nc.close())
            self.loop.close()
    return Spy()


def test_bad_input_fails_before_anything_is_sent(lab):
    keys, jwts = lab["keys"], lab["jwts"]
    rogue_jwt = os.path.join(jwts, "ROGUE-APP.jwt")
    setup = [{"name": "an account signed by another operator", NS + "account_jwt": {
        "path": rogue_jwt, "name": "ROGUE", "seed_file": os.path.join(keys, "app.nk"),
        "issuer_seed_file": os.path.join(keys, "rogue.nk")}}]
    run_play(lab["work"], setup)
    user_jwt = read(os.path.join(lab["creds"], "alice.creds")).split("\n")[1]
    cases = [
        (push(lab, jwts=[user_jwt]), "jwts[0]: this is a user JWT, not an account JWT"),
        (push(lab, paths=[os.path.join(jwts, "operator.jwt")]), "this is an operator JWT, not an account JWT"),
        (push(lab, paths=[rogue_jwt]), "is neither the operator %s nor one of its signing keys" % lab["pk"]["operator"]),
        (push(lab, jwts=[user_jwt[:-4] + ("AAAA" if not user_jwt.endswith("AAAA") else "BBBB")]),
         "the signature is not the issuer's"),
        (push(lab, paths=[os.path.join(jwts, "missing.jwt")]), "no such file"),
        (push(lab, state="absent", public_keys=[lab["pk"]["app"]], operator_seed_file=os.path.join(keys, "rogue.nk")),
         "is neither the operator %s nor one of its signing keys" % lab["pk"]["operator"]),
        (push(lab, state="absent", public_keys=[lab["pk"]["app"]], operator_seed_file=os.path.join(keys, "app.nk")),
         "this is the seed of an account key"),
        (push(lab, state="absent", paths=[os.path.join(jwts, "SYS.jwt")],
              operator_seed_file=os.path.join(keys, "operator.nk")), "is the system account of the operator"),
        (push(lab, public_keys=[lab["pk"]["app"]]), "public_keys: only with state=absent"),
        (push(lab, expected_servers=0, paths=[os.path.join(jwts, "APP.jwt")]), "expected_servers: 0"),
    ]
    with spy(lab) as watched:
        results, out = run_play(lab["work"], [c[0] for c in cases], expect_fail=True)
    for (task, message), res in zip(cases, results):
        assert res.get("failed"), (message, res)
        assert message in res["msg"], (message, res["msg"])
    assert watched.got == []   # not even a lookup reached the servers
    # and the operation does not depend on a server: an unreachable one gives the same message
    task = push(lab, jwts=[user_jwt], servers=["nats://127.0.0.1:1"])
    results, out = run_play(lab["work"], [task], expect_fail=True)
    assert "not an account JWT" in results[0]["msg"]
    assert_same_processes(lab)


def test_state_absent_deletes_the_account(lab):
    app, keys = lab["pk"]["app"], lab["keys"]
    absent = dict(state="absent", paths=[os.path.join(lab["jwts"], "APP.jwt")],
                  operator_seed_file=os.path.join(keys, "operator-signing.nk"))
    results, out = run_play(lab["work"], [push(lab, **absent)], check=True)
    assert results[0]["changed"] and results[0]["accounts"][0]["operation"] == "deleted"
    assert results[0]["accounts"][0]["servers"] == []
    assert all(resolver_jwts(lab, app).values())   # check mode deleted nothing
    assert through_every_node(lab, "alice")["jwtc-n1"] == "ok"

    held = Held(lab["cluster"].url(lab["cluster"].nodes[2]), os.path.join(lab["creds"], "alice.creds"))
    results, out = run_play(lab["work"], [push(lab, **absent)])
    assert held.closed_after()   # alice's open connection is closed by the deletion
    res = results[0]["accounts"][0]
    assert results[0]["changed"] and res["operation"] == "deleted"
    assert res["lookup"] == {"answered": 3, "current": 0, "outdated": 3, "missing": 0}
    assert sorted(s["server"] for s in res["servers"]) == ["jwtc-n1", "jwtc-n2", "jwtc-n3"]
    assert set(s["message"] for s in res["servers"]) == {"deleted 1 accounts"}
    assert set(resolver_jwts(lab, app).values()) == {None}
    refused = through_every_node(lab, "alice")
    assert all("authorization violation" in v.lower() for v in refused.values()), refused

    results, out = run_play(lab["work"], [push(lab, state="absent", public_keys=[app],
                                               operator_seed_file=os.path.join(keys, "operator.nk"))])
    assert not results[0]["changed"] and results[0]["accounts"][0]["operation"] == "absent"
    assert results[0]["accounts"][0]["lookup"] == {"answered": 3, "current": 0, "outdated": 0, "missing": 3}
    assert_same_processes(lab)
    logs = "".join(lab["cluster"].log_text(n) for n in lab["cluster"].nodes)
    assert "panic" not in logs
    json.dumps(results)  # the results are plain JSON


def test_a_resolver_without_allow_delete_refuses_the_delete(lab):
    """A standalone server whose full resolver has allow_delete: false takes the push and refuses the delete; the
    module fails naming it with the server's error, and the account stays."""
    server = FullResolverCluster(lab["op"], lab["pk"]["sys"], os.path.join(lab["jwts"], "SYS.jwt"), size=1,
                                 name="nodel", allow_delete=False)
    server.start()
    try:
        node = server.nodes[0]
        # two accounts in one task: the system account, preloaded into the resolver, is found there and not pushed
        task = push(lab, servers=[server.url(node)], expected_servers=1,
                    paths=[os.path.join(lab["jwts"], "SYS.jwt"), os.path.join(lab["jwts"], "APP.jwt")])
        results, out = run_play(lab["work"], [task])
        assert [(a["name"], a["operation"]) for a in results[0]["accounts"]] == [("SYS", "unchanged"), ("APP", "pushed")]
        assert results[0]["accounts"][1]["servers"][0]["server"] == "nodel-n1"
        # connected as a user of another account, nothing answers the resolver requests
        other = dict(task)
        other[PUSH] = dict(task[PUSH], creds=os.path.join(lab["creds"], "alice.creds"), gather_timeout=0.5)
        results, out = run_play(lab["work"], [other], expect_fail=True)
        assert "no server answered $SYS.REQ.ACCOUNT.%s.CLAIMS.LOOKUP: connect as a user of the system account" \
            % lab["pk"]["sys"] in results[0]["msg"], results[0]["msg"]
        task[PUSH]["paths"] = [os.path.join(lab["jwts"], "APP.jwt")]
        task[PUSH].update(state="absent", operator_seed_file=os.path.join(lab["keys"], "operator.nk"))
        results, out = run_play(lab["work"], [task], expect_fail=True)
        res = results[0]
        assert res["failed"]
        assert "server nodel-n1 refused: delete accounts request by %s failed - delete must be enabled in server " \
            "config" % lab["pk"]["operator"] in res["msg"], res["msg"]
        assert res["accounts"][0]["operation"] == "deleted" and res["accounts"][0]["servers"] == []
        assert server.resolver_jwt(node, lab["pk"]["app"]) == read(os.path.join(lab["jwts"], "APP.jwt"))
        assert round_trip(server.url(node), os.path.join(lab["creds"], "alice.creds")) == "ok"
    finally:
        server.stop()


def test_supercluster_push_through_one_cluster_reaches_the_other(lab):
    """Two clusters of two nodes joined by gateways: a push through a node of cluster sa is accepted by all four
    servers and applied in cluster sb (its users connect there), a re-run finds it everywhere, and a delete through
    a node of sb removes it from all four, with the same processes throughout."""
    sc = FullResolverCluster(lab["op"], lab["pk"]["sys"], os.path.join(lab["jwts"], "SYS.jwt"),
                             clusters={"sa": 2, "sb": 2})
    sc.start()
    try:
        pids, started = sc.pids(), sc.started()
        app, creds = lab["pk"]["app"], os.path.join(lab["creds"], "alice.creds")
        sa1, sb1, sb2 = sc.nodes[0], sc.nodes[2], sc.nodes[3]
        task = push(lab, servers=[sc.url(sa1)], expected_servers=4, paths=[os.path.join(lab["jwts"], "APP.jwt")])
        results, out = run_play(lab["work"], [task])
        res = results[0]["accounts"][0]
        assert res["operation"] == "pushed" and res["lookup"]["missing"] == 4
        assert sorted((s["cluster"], s["server"]) for s in res["servers"]) == [
            ("sa", "sa-n1"), ("sa", "sa-n2"), ("sb", "sb-n1"), ("sb", "sb-n2")]
        assert all(sc.resolver_jwt(n, app) == read(os.path.join(lab["jwts"], "APP.jwt")) for n in sc.nodes)
        assert round_trip(sc.url(sb2), creds) == "ok"
        results, out = run_play(lab["work"], [task])
        assert not results[0]["changed"] and results[0]["accounts"][0]["lookup"]["current"] == 4
        task = push(lab, servers=[sc.url(sb1)], expected_servers=4, paths=[os.path.join(lab["jwts"], "APP.jwt")],
                    state="absent", operator_seed_file=os.path.join(lab["keys"], "operator-signing.nk"))
        results, out = run_play(lab["work"], [task])
        res = results[0]["accounts"][0]
        assert res["operation"] == "deleted" and len(res["servers"]) == 4
        assert all(sc.resolver_jwt(n, app) is None for n in sc.nodes)
        assert "authorization violation" in round_trip(sc.url(sa1), creds).lower()
        assert sc.pids() == pids and sc.started() == started
    finally:
        sc.stop()
