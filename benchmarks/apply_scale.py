"""200 streams + 200 consumers declared: first apply, no-op re-apply, and the same 400 items through a loop
of the single-resource modules (no-op), against a loopback nats-server. Not a test: prints figures.
Goals: first apply <= 15 s, no-op <= 5 s, no-op at least 10x faster than the loop."""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from natsproc import Supercluster, ansible_env  # noqa: E402

N = int(os.environ.get("BENCH_N", "200"))


def playbook(path, tasks, servers):
    with open(path, "w") as f:
        json.dump([{"hosts": "localhost", "gather_facts": False, "connection": "local",
                    "module_defaults": {"group/natsops.jetstream.jetstream": {"servers": servers}},
                    "tasks": tasks}], f)


def run(path):
    env = ansible_env()
    t0 = time.time()
    proc = subprocess.run([os.path.join(ROOT, ".venv", "bin", "ansible-playbook"), "-i", "localhost,", path],
                          env=env, capture_output=True, text=True, check=False)
    elapsed = time.time() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stdout[-3000:])
    changed = [int(x) for x in __import__("re").findall(r"changed=(\d+)", proc.stdout)]
    return elapsed, sum(changed)


def main():
    sc = Supercluster({"bench": 1}).start()
    work = os.path.join(ROOT, ".cache", "bench-apply")
    os.makedirs(work, exist_ok=True)
    try:
        servers = sc.urls()
        streams = [{"name": "BENCH_%03d" % i, "subjects": ["bench.%03d.>" % i], "max_age": "1d", "replicas": 1}
                   for i in range(N)]
        consumers = [{"stream": "BENCH_%03d" % i, "name": "worker", "ack_wait": "30s", "max_deliver": 5}
                     for i in range(N)]
        apply_pb = os.path.join(work, "apply.yml")
        playbook(apply_pb, [{"natsops.jetstream.apply": {"streams": streams, "consumers": consumers}}], servers)
        loop_pb = os.path.join(work, "loop.yml")
        playbook(loop_pb, [
            {"natsops.jetstream.stream": "{{ item }}", "loop": streams},
            {"natsops.jetstream.consumer": "{{ item }}", "loop": consumers},
        ], servers)
        first, c1 = run(apply_pb)
        noop, c2 = run(apply_pb)
        loop, c3 = run(loop_pb)
        print("\n%d streams + %d consumers on nats-server %s" % (N, N, "loopback"))
        print("%-44s %8s %8s %8s" % ("measure", "seconds", "changed", "goal"))
        print("%-44s %8.1f %8d %8s" % ("first apply (natsops.jetstream.apply)", first, c1, "<= 15"))
        print("%-44s %8.1f %8d %8s" % ("no-op re-apply", noop, c2, "<= 5"))
        print("%-44s %8.1f %8d %8s" % ("no-op loop of stream + consumer modules", loop, c3, "-"))
        print("no-op apply is %.1fx faster than the loop (goal >= 10x)" % (loop / noop))
    finally:
        sc.stop()


if __name__ == "__main__":
    main()
