#!/usr/bin/env python3
"""What a side_effect step of the scenario records, for the verify tests that follow it (tests/<step>/).

    observe.py before STEP                 the nodes before the step: nats-server PIDs, /varz start and version,
                                           the serial each listener serves, the Ansible log's size
    observe.py watch STEP [NAME:CLUSTER]   while the step acts: /healthz of every node once a second and, for each
                                           NAME:CLUSTER, a publisher writing to an R3 stream placed there; runs
                                           until `stop` (the step starts it with async) and at most 900 s
    observe.py stop STEP                   ends the watch and waits (at most 120 s) until it has written its record
    observe.py run STEP PLAYBOOK [ARG...]  runs playbooks/PLAYBOOK as an operator would and records its exit code
                                           and output, failed or not (a step whose play is meant to fail)

Everything goes to <ephemeral dir>/steps/STEP/ as JSON. Run by the controller's Python (nats-py, cryptography)."""
import asyncio
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import nats  # noqa: E402

from scenario import (ALL, PORTS, HealthWatch, Publisher, container_ids, container_ip, node_monitor, pids,  # noqa: E402
                      run_playbook, served_serial, tls_context, urls)

EPHEMERAL = os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]
LOG = os.environ.get("ANSIBLE_LOG_PATH", "")
WATCH_LIMIT, STOP_WAIT = 900, 120


def record_dir(step):
    path = os.path.join(EPHEMERAL, "steps", step)
    os.makedirs(path, exist_ok=True)
    return path


def write(step, name, data):
    path = os.path.join(record_dir(step), name)
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.rename(path + ".tmp", path)


def before(step):
    ips = {n: container_ip(n) for n in ALL}
    varz = {n: node_monitor(n) for n in ALL}
    for stale in ("before.json", "watch.json", "run.json"):
        if os.path.exists(os.path.join(record_dir(step), stale)):
            os.remove(os.path.join(record_dir(step), stale))
    write(step, "before.json", {
        "time": time.time(),
        "containers": container_ids(),
        "pids": pids(),
        "start": {n: v["start"] for n, v in varz.items()},
        "version": {n: v["version"] for n, v in varz.items()},
        "serials": {"%s/%s" % (n, p): str(served_serial(ips[n], port)) for n in ALL for p, port in PORTS.items()},
        "log": LOG,
        "log_offset": os.path.getsize(LOG) if LOG and os.path.exists(LOG) else 0,
    })


async def create_streams(placements):
    nc = await nats.connect(urls(ALL), tls=tls_context())
    try:
        for name, cluster in placements:
            reply = json.loads((await nc.request("$JS.API.STREAM.CREATE." + name, json.dumps({
                "name": name, "subjects": [name.lower() + ".>"], "num_replicas": 3,
                "placement": {"cluster": cluster}}).encode(), timeout=10)).data)
            if "error" in reply and reply["error"].get("err_code") != 10058:  # 10058: the stream already exists
                raise SystemExit("creating %s: %s" % (name, reply["error"]))
    finally:
        await nc.close()


def watch(step, specs):
    placements = [tuple(s.split(":", 1)) for s in specs]
    stop_file = os.path.join(record_dir(step), "stop")
    for stale in (stop_file, os.path.join(record_dir(step), "watch.json")):
        if os.path.exists(stale):
            os.remove(stale)
    if placements:
        asyncio.run(create_streams(placements))
    health = HealthWatch()
    health.start()
    pub = Publisher(urls(ALL), [name for name, dummy in placements]) if placements else None
    if pub:
        pub.start()
    deadline = time.time() + WATCH_LIMIT
    while not os.path.exists(stop_file) and time.time() < deadline:
        time.sleep(0.5)
    # A moment after the step so the last writes are in and the last restart is seen.
    time.sleep(2)
    health.stop.set()
    health.join(30)
    record = {"stopped_by": "step" if os.path.exists(stop_file) else "time limit", "polls": health.polls,
              "bad": health.bad, "blips": health.blips}
    if pub:
        pub.stop.set()
        pub.join(60)
        record.update(acked=pub.acked, failures=pub.failures, retries=pub.retries,
                      streams=dict(placements))
    write(step, "watch.json", record)


def stop(step):
    path = record_dir(step)
    open(os.path.join(path, "stop"), "w").close()
    deadline = time.time() + STOP_WAIT
    while not os.path.exists(os.path.join(path, "watch.json")):
        if time.time() > deadline:
            raise SystemExit("the watch of step %s wrote nothing within %d s" % (step, STOP_WAIT))
        time.sleep(0.5)


def run(step, playbook, args):
    proc = run_playbook(playbook, *args)
    write(step, "run.json", {"args": args, "rc": proc.returncode, "output": proc.stdout + proc.stderr,
                             "seconds": round(proc.seconds, 1)})


def main(argv):
    if len(argv) < 3 or argv[1] not in ("before", "watch", "stop", "run") or (argv[1] == "run" and len(argv) < 4):
        raise SystemExit(__doc__)
    action, step = argv[1], argv[2]
    if action == "run":
        run(step, argv[3], argv[4:])
    elif action == "before":
        before(step)
    elif action == "watch":
        watch(step, argv[3:])
    else:
        stop(step)


if __name__ == "__main__":
    main(sys.argv)
