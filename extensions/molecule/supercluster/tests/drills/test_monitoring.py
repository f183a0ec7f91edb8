"""Monitoring that fires for real: playbooks/monitoring.yml converged the node exporter, the collector and the
NATS CLI checks on every node, and Prometheus, the blackbox exporter and the rules on the `mon` host.

Real Prometheus, queried through its HTTP API from the controller (that every target is up and every query of
the dashboard evaluates is tests/converged/test_monitoring_targets.py); one drill, run once from c1-n1, bounded
in time:
- stop c3-n2: NatsServerDown and NatsHealthzFailing fire for c3-n2 only, NatsRoutesBelowExpected for its two
  cluster peers only; start it again: all three resolve;
- a durable consumer with 1100 messages pending: NatsConsumerLag fires for it;
- JetStream storage above the threshold: NatsJetStreamStorageHigh fires for the three c2 servers. The scenario's
  servers have 2 GB stores, so the drill lowers the threshold to 1 % (re-rendering the rules with
  nats_monitoring_alert_storage_percent, as a user would) and writes 40 MB; the rules are put back afterwards.

The scenario runs the monitoring at test speed (molecule.yml: collector every 10 s, scrape and evaluation every
5 s, `for` 20 s); each alert must fire within its `for` plus the collector interval, two scrapes and one
evaluation, with 15 s to spare."""
import asyncio
import json
import os
import subprocess
import time

import nats
from nats.js.api import AckPolicy, Placement

from scenario import once, prom, run_playbook, tls_context, urls, wait

DOWN = "c3-n2"
PEERS = ["c3-n1", "c3-n3"]
FOR, COLLECT, SCRAPE, EVAL = 20, 10, 5, 5
BOUND = FOR + COLLECT + 2 * SCRAPE + EVAL + 15


def firing(name):
    """Servers (or consumers) an alert is firing for."""
    return set(a["labels"].get("consumer_name") or a["labels"].get("server", "")
               for a in prom("/api/v1/alerts")["alerts"]
               if a["labels"]["alertname"] == name and a["state"] == "firing")


def active(name):
    return [a for a in prom("/api/v1/alerts")["alerts"] if a["labels"]["alertname"] == name]


def monitoring_playbook(*extra):
    proc = run_playbook("monitoring.yml", "--limit", "mon", "--tags", "nats_monitoring_server", *extra, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc


def js(coro_fn, nodes):
    async def go():
        nc = await nats.connect(urls(nodes), tls=tls_context("admin"))
        try:
            return await coro_fn(nc, nc.jetstream(timeout=10))
        finally:
            await nc.close()
    return asyncio.run(go())


async def delete_streams(nc, jsc):
    """The drill's streams, gone (a stream already missing is fine)."""
    for name in ("MONLAG", "MONFILL"):
        try:
            await jsc.delete_stream(name)
        except nats.js.errors.NotFoundError:
            pass


def test_alerts_fire_for_the_failure_and_resolve(host):
    once(host)
    outage = ("NatsServerDown", "NatsHealthzFailing", "NatsRoutesBelowExpected")
    wait("no outage alert active before the drill", lambda: not any(active(a) for a in outage), 120)
    ratio = "natsops:jetstream_storage_used:ratio"
    before = prom("/api/v1/query", query='%s{cluster="c2"}' % ratio)["result"]
    assert len(before) == 3 and all(float(r["value"][1]) < 0.005 for r in before), before
    monitoring_playbook("-e", json.dumps({"nats_monitoring_alert_storage_percent": 1}))
    figures = {}
    try:
        async def streams(nc, jsc):
            await delete_streams(nc, jsc)
            await jsc.add_stream(name="MONLAG", subjects=["monlag.>"], num_replicas=3, placement=Placement(cluster="c1"))
            await jsc.add_stream(name="MONFILL", subjects=["monfill.>"], num_replicas=3, placement=Placement(cluster="c2"))
            await jsc.add_consumer("MONLAG", durable_name="LAGGING", ack_policy=AckPolicy.EXPLICIT)
            for i in range(1100):
                await jsc.publish("monlag.%d" % (i % 10), b"x")
            chunk = os.urandom(512 * 1024)
            for i in range(80):
                await jsc.publish("monfill.x", chunk)
            return (await jsc.consumer_info("MONLAG", "LAGGING")).num_pending
        assert js(streams, ["c1-n1", "c2-n1"]) == 1100
        filled = time.time()

        stopped = time.time()
        subprocess.run(["docker", "exec", DOWN, "systemctl", "stop", "nats-server"], check=True)
        wait("NatsServerDown for %s only" % DOWN, lambda: firing("NatsServerDown") == {DOWN}, BOUND)
        figures["server down fired"] = time.time() - stopped
        wait("NatsHealthzFailing for %s only" % DOWN, lambda: firing("NatsHealthzFailing") == {DOWN},
             max(5, BOUND - (time.time() - stopped)))
        wait("NatsRoutesBelowExpected for %s" % PEERS, lambda: firing("NatsRoutesBelowExpected") == set(PEERS),
             max(5, BOUND - (time.time() - stopped)))
        figures["routes and healthz fired"] = time.time() - stopped
        wait("NatsConsumerLag for LAGGING", lambda: "LAGGING" in firing("NatsConsumerLag"),
             max(5, BOUND - (time.time() - filled)))
        wait("NatsJetStreamStorageHigh for c2", lambda: {"c2-n1", "c2-n2", "c2-n3"} <= firing("NatsJetStreamStorageHigh"),
             max(5, BOUND - (time.time() - filled)))
        figures["lag and storage fired"] = time.time() - filled

        started = time.time()
        subprocess.run(["docker", "exec", DOWN, "systemctl", "start", "nats-server"], check=True)
        wait("the outage alerts resolve", lambda: not any(firing(a) for a in outage), COLLECT + 2 * SCRAPE + EVAL + 30)
        figures["resolved after start"] = time.time() - started
    finally:
        subprocess.run(["docker", "exec", DOWN, "systemctl", "start", "nats-server"], check=False)
        js(delete_streams, ["c1-n1", "c2-n1"])
        monitoring_playbook()
    print("monitoring drill (s): %s" % ", ".join("%s %.0f" % kv for kv in figures.items()))
    # The node is back in its meta group and streams before the next tests.
    wait("%s healthy again" % DOWN, lambda: subprocess.run(
        ["docker", "exec", DOWN, "python3", "-c",
         "import ssl,urllib.request;c=ssl.create_default_context(cafile='/etc/nats-server/tls/ca.crt');"
         "urllib.request.urlopen('https://127.0.0.1:8222/healthz', timeout=5, context=c)"],
        capture_output=True, check=False).returncode == 0, 60)
