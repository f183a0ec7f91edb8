"""The storage alert on a really filling store: a nats-server with a 2 MB `max_file_store`, the role's collector
writing a node-exporter textfile, Debian's node exporter serving it, and Debian's Prometheus evaluating the role's
rules rendered with their defaults (85 %). Quiet at half full, firing once the store is past 85 %, resolved when
the stream is deleted. Bounded: every wait has its own limit and the processes stop with the test."""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import nats
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from natsproc import ROOT, Supercluster, free_ports  # noqa: E402
from ansible_collections.natsops.jetstream.tests.unit.monitoring.monitoring_render import render  # noqa: E402

COLLECTOR = os.path.join(ROOT, "roles", "monitoring", "files", "natsops-nats-collect")


def _require(binary):
    path = shutil.which(binary)
    if path is None:
        if os.environ.get("NATSOPS_REQUIRE_PROMTOOL") == "1":
            pytest.fail("%s is not installed (scripts/setup.sh installs it)" % binary, pytrace=False)
        pytest.skip("%s is not installed" % binary)
    return path


class Stack(object):
    """Node exporter and Prometheus on loopback, scraping one server's textfile every second."""

    def __init__(self, tmp_path, node):
        self.node, self.dir = node, tmp_path
        self.textfiles = tmp_path / "textfile"
        self.textfiles.mkdir()
        self.exporter_port, self.prom_port = free_ports(2)
        (tmp_path / "natsops-rules.yml").write_text(render("natsops-rules.yml.j2"))
        (tmp_path / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            "rule_files: [%s]\n"
            "scrape_configs:\n"
            "  - job_name: natsops_node\n"
            "    static_configs:\n"
            "      - targets: ['127.0.0.1:%d']\n"
            "        labels: {cluster: s, server: %s, az: '1'}\n"
            % (tmp_path / "natsops-rules.yml", self.exporter_port, node.name))
        self.procs = []

    def start(self):
        self.collect()
        log = open(self.dir / "services.log", "wb")
        self.procs.append(subprocess.Popen(
            [_require("prometheus-node-exporter"), "--web.listen-address=127.0.0.1:%d" % self.exporter_port,
             "--collector.disable-defaults", "--collector.textfile",
             "--collector.textfile.directory=%s" % self.textfiles], stdout=log, stderr=subprocess.STDOUT))
        self.procs.append(subprocess.Popen(
            [_require("prometheus"), "--config.file=%s" % (self.dir / "prometheus.yml"),
             "--storage.tsdb.path=%s" % (self.dir / "tsdb"), "--web.listen-address=127.0.0.1:%d" % self.prom_port],
            stdout=log, stderr=subprocess.STDOUT))
        return self

    def stop(self):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def collect(self):
        """One run of the role's timer: the collector writes the textfile."""
        subprocess.run([sys.executable, COLLECTOR, "--url", "http://127.0.0.1:%d" % self.node.http_port,
                        "--server-name", self.node.name, "--outfile", str(self.textfiles / "natsops_nats.prom")],
                       check=True, capture_output=True, timeout=30)

    def api(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.prom_port, path), timeout=5) as resp:
            return json.loads(resp.read().decode())["data"]

    def wait(self, what, predicate, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.collect()
            try:
                if predicate():
                    return time.time()
            except OSError:
                pass  # Prometheus still starting
            time.sleep(1)
        pytest.fail("%s: not within %d s" % (what, timeout))

    def ratio(self):
        result = self.api("/api/v1/query?query=natsops:jetstream_storage_used:ratio")["result"]
        return float(result[0]["value"][1]) if result else None

    def firing(self):
        return [a for a in self.api("/api/v1/alerts")["alerts"]
                if a["labels"]["alertname"] == "NatsJetStreamStorageHigh" and a["state"] == "firing"]


def fill_to(node, low, high):
    """Publish 1 KiB messages until the store is above ``low`` (a fraction of max_file_store), never past ``high``."""
    async def go():
        nc = await nats.connect(node.url, user="app", password="app")
        js = nc.jetstream(timeout=5)
        try:
            try:
                await js.stream_info("FILL")
            except nats.js.errors.NotFoundError:
                await js.add_stream(name="FILL", subjects=["fill"])
            for dummy in range(4000):
                jsz = node.monitor("jsz")
                used = jsz["storage"] / jsz["config"]["max_storage"]
                if used > low:
                    return used
                assert used < high
                await js.publish("fill", b"x" * 1024)
            raise AssertionError("the store never reached %.0f %%" % (100 * low))
        finally:
            await nc.close()
    return asyncio.run(go())


def delete_stream(node):
    async def go():
        nc = await nats.connect(node.url, user="app", password="app")
        try:
            await nc.jetstream(timeout=5).delete_stream("FILL")
        finally:
            await nc.close()
    asyncio.run(go())


def test_storage_alert_fires_past_85_percent_of_a_real_store_and_clears(tmp_path):
    server = Supercluster({"s": 1}, accounts=True, max_file_store="2MB").start()
    stack = Stack(tmp_path, server.nodes[0])
    try:
        stack.start()
        half = fill_to(server.nodes[0], 0.5, 0.8)
        stack.wait("the storage ratio at half full", lambda: (stack.ratio() or 0) >= 0.5, 30)
        time.sleep(3)
        assert stack.firing() == [], "fires at %.0f %%" % (100 * half)

        full = fill_to(server.nodes[0], 0.87, 0.99)
        filled = time.time()
        fired = stack.wait("NatsJetStreamStorageHigh", lambda: len(stack.firing()) == 1, 20)
        alert = stack.firing()[0]
        assert alert["labels"]["server"] == "s-n1" and alert["labels"]["severity"] == "warning", alert

        delete_stream(server.nodes[0])
        deleted = time.time()
        cleared = stack.wait("NatsJetStreamStorageHigh resolved", lambda: stack.firing() == [], 20)
        print("storage alert: quiet at %.0f %%, fired %.1f s after the store reached %.0f %%, cleared %.1f s after "
              "the stream was deleted" % (100 * half, fired - filled, 100 * full, cleared - deleted))
    finally:
        stack.stop()
        server.stop()
