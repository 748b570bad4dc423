"""Cluster benchmark: ingest through HAProxy into three nodes against one node, takeover, fan-out.

    .venv/bin/python loadtests/cluster_bench.py [--seconds 20] [--threads 8] [--batch 10]

Everything runs on this machine, on loopback: first one node in its default
mode (`tracker serve`, no NATS), then the loopback cluster of `make cluster`
(three nats-servers, three nodes, HAProxy). Against each, in the same order:

1. a fixed data set of --seed events (the same users and pages) goes in,
   then --reads reads of `GET /stats` and of one user's `GET /movements`
   are timed one after another: their p50 on the cluster against one node is
   the cost of asking the owners (fan-out) instead of local files;
2. --threads threads post batches of --batch events for --seconds seconds,
   each batch retried until acknowledged; acknowledged events per second;
3. on the cluster only, one node is killed (SIGKILL) and the time until every
   shard has a live owner again is measured (the takeover).

Counts and times are bounded: nothing runs longer than the durations given
(plus start-up and the takeover's 60 s at most). Prints one table.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx2 as httpx

from tracker.cluster import loopback

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-token-" + uuid.uuid4().hex[:12]
SHARDS = 16
USERS = [f"user-{i}" for i in range(500)]


def batch(size: int, offset: int) -> list[dict]:
    now = int(time.time() * 1000)
    return [{"userId": USERS[(offset + k) % len(USERS)], "sessionId": f"s-{(offset + k) % len(USERS)}",
             "event": "page_view", "data": {"path": f"/p{k % 7}"}, "eventId": uuid.uuid4().hex,
             "timestamp": now} for k in range(size)]


def post_until_acknowledged(client: httpx.Client, events: list[dict], deadline: float) -> bool:
    while time.monotonic() < deadline + 60:
        try:
            if client.post("/track", json={"events": events}).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return False


def seed(url: str, count: int, size: int) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        for offset in range(0, count, size):
            assert post_until_acknowledged(client, batch(size, offset), time.monotonic())


def ingest(url: str, seconds: float, threads: int, size: int) -> float:
    """Acknowledged events per second over `seconds`, from `threads` posting threads."""
    acknowledged = [0] * threads
    deadline = time.monotonic() + seconds

    def run(n: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            i = 0
            while time.monotonic() < deadline:
                if post_until_acknowledged(client, batch(size, n * 997 + i * size), deadline):
                    acknowledged[n] += size
                i += 1

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(acknowledged) / (time.monotonic() - started)


def read_p50(url: str, reads: int) -> dict[str, float]:
    """p50 in ms of GET /stats (every shard) and of one user's GET /movements (one shard)."""
    found = {}
    with httpx.Client(base_url=url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        for name, path, params in (("stats", "/stats", {}), ("movements", "/movements",
                                                             {"userId": USERS[3]})):
            client.get(path, params=params).raise_for_status()  # warm
            times = []
            for _ in range(reads):
                started = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            found[name] = statistics.median(times)
    return found


def one_node(root: Path, args: argparse.Namespace) -> dict:
    port = loopback.free_port()
    env = {**os.environ, "TRACKER_DATA_DIR": str(root / "single"), "TRACKER_READ_TOKEN": TOKEN,
           "TRACKER_SHARDS": str(SHARDS), "TRACKER_RATE_LIMIT": "0"}
    env.pop("TRACKER_NATS_URL", None)
    node = loopback.Process("single", [sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1",
                                       "--port", str(port)], root / "single.log", env)
    node.start()
    url = f"http://127.0.0.1:{port}"
    try:
        loopback.wait_until(lambda: loopback.get(f"{url}/readyz") == 200, 60, "the node up")
        seed(url, args.seed, args.batch)
        reads = read_p50(url, args.reads)
        rate = ingest(url, args.seconds, args.threads, args.batch)
    finally:
        node.stop()
    return {"reads": reads, "rate": rate}


def cluster(root: Path, args: argparse.Namespace) -> dict:
    with loopback.running(root / "cluster", shards=SHARDS, token=TOKEN) as started:
        started.wait_balanced(timeout=90)
        seed(started.front, args.seed, args.batch)
        reads = read_p50(started.members[0].url, args.reads)
        rate = ingest(started.front, args.seconds, args.threads, args.batch)
        started.wait_owned(timeout=60)
        victim = started.members[1]
        killed = time.monotonic()
        victim.signal(signal.SIGKILL)
        started.wait_owned(timeout=60, among=[n.node_id for n in started.members if n is not victim])
        takeover = time.monotonic() - killed
    return {"reads": reads, "rate": rate, "takeover": takeover}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="ingest time against each (s)")
    parser.add_argument("--threads", type=int, default=8, help="posting threads")
    parser.add_argument("--batch", type=int, default=10, help="events per POST /track")
    parser.add_argument("--seed", type=int, default=2000, help="events in before the reads")
    parser.add_argument("--reads", type=int, default=100, help="reads of each kind timed")
    args = parser.parse_args()
    if loopback.missing_tools():
        print("needs nats-server and haproxy (apt-get install nats-server haproxy)", file=sys.stderr)
        return 2
    cores = os.cpu_count()
    version = subprocess.run([loopback.NATS_SERVER, "--version"], capture_output=True, text=True).stdout
    with tempfile.TemporaryDirectory(prefix="tracker-cluster-bench-") as directory:
        root = Path(directory)
        single = one_node(root, args)
        three = cluster(root, args)
    print(f"{cores} cores, {version.strip()}, {SHARDS} shards, {args.threads} threads x "
          f"{args.batch} events a request, {args.seconds:.0f} s each")
    print("| | one node | three nodes behind HAProxy | ratio |")
    print("|---|---|---|---|")
    print(f"| ingest, events/s acknowledged | {single['rate']:.0f} | {three['rate']:.0f} | "
          f"{three['rate'] / single['rate']:.2f} |")
    for name in ("stats", "movements"):
        print(f"| `GET /{name}` p50, ms | {single['reads'][name]:.1f} | {three['reads'][name]:.1f} | "
              f"{three['reads'][name] / single['reads'][name]:.2f} |")
    print(f"| takeover after kill -9 of a node, s | - | {three['takeover']:.1f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
