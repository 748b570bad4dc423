"""Sustained ingest: wrk posts batches of 50 for a minute while the folder keeps up.

    python loadtests/sustained.py --seconds 60 --workers 1
    python loadtests/sustained.py --seconds 60 --baseline /tmp/speed-base   # both trees, in turn

During the load, once a second, it times a global GET /analytics?timeRange=24h
and reads the unfolded backlog from /metrics. It prints the acknowledged
rate (time of the final /analytics included), the share of batch requests
refused (503), the service's CPU time per acknowledged event (which moves
little when other work shares the machine), the largest backlog in events and seconds, p50 and p99 of
/analytics, peak RSS of each worker and of the folding process against the
issue's bounds (150 and 250 MB; loadtests/service_memory.py), and checks that
every acknowledged event is stored once the service has stopped. With --baseline it runs the same load
against that source tree too (this interpreter, PYTHONPATH set to it), in
alternating order over --rounds rounds, so both share whatever else the
machine is doing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

from bench import (
    Scenario,
    analytics_seconds,
    cpu_seconds,
    ensure_wrk,
    free_port,
    run_wrk,
    start_server,
    stored_movements,
)
from service_memory import RssWatch, describe


def backlog(port: int) -> tuple[float, float]:
    """(unfolded events over all shards, oldest unfolded age in seconds) from /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60) as answer:
        text = answer.read().decode()
    events = age = 0.0
    for line in text.splitlines():
        if line.startswith("tracker_unfolded_events{"):
            events += float(line.split()[-1])
        elif line.startswith("tracker_unfolded_age_seconds{"):
            age = max(age, float(line.split()[-1]))
    return events, age


def watch(port: int, stop: threading.Event, samples: dict) -> None:
    while not stop.wait(1.0):
        samples["analytics"].append(analytics_seconds(port))
        events, age = backlog(port)
        samples["events"].append(events)
        samples["age"].append(age)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (nan when there are none)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sync", default="full")
    parser.add_argument("--baseline", type=Path, help="also run this source tree, in turn")
    parser.add_argument("--rounds", type=int, default=1, help="rounds with --baseline (ABBA)")
    args = parser.parse_args()
    wrk = ensure_wrk()
    if args.baseline is None:
        return run(wrk, args, None, "this tree")
    failed = 0
    for round_ in range(1, args.rounds + 1):
        order = [None, args.baseline.resolve()] if round_ % 2 else [args.baseline.resolve(), None]
        for tree in order:
            failed |= run(wrk, args, tree, f"round {round_}, {'baseline' if tree else 'this tree'}")
    return failed


def run(wrk: str, args: argparse.Namespace, tree: Path | None, label: str) -> int:
    port = free_port()
    samples: dict[str, list[float]] = {"analytics": [], "events": [], "age": []}
    with tempfile.TemporaryDirectory(prefix="tracker-sustained-") as temp:
        data_dir = Path(temp) / "data"
        process = start_server(Scenario("tracker batch50", "tracker", 50, args.workers, args.sync,
                                        tree=tree), port, data_dir)
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(port, stop, samples))
        memory = RssWatch(process.pid, port)
        try:
            watcher.start()
            cpu = cpu_seconds(process.pid)
            measured = run_wrk(wrk, port, 50, args.seconds, args.connections)
            stop.set()
            watcher.join()
            wait = analytics_seconds(port)
            cpu = cpu_seconds(process.pid) - cpu
            rss = describe(memory.stop())
        finally:
            stop.set()
            process.send_signal(signal.SIGTERM)
            process.wait(120)
        stored = stored_movements(data_dir)
    rate = measured["acknowledged"] / (measured["seconds"] + wait)
    p50 = percentile(samples["analytics"], 0.5) * 1000
    p99 = percentile(samples["analytics"], 0.99) * 1000
    refused = measured["non2xx"] / max(measured["requests"], 1)
    print(f"{label}: sustained {args.seconds:.0f} s, batches of 50, {args.workers} worker(s), "
          f"sync {args.sync}: {rate:,.0f} events/s (final /analytics {wait * 1000:.0f} ms), "
          f"{refused:.0%} of requests refused, "
          f"{cpu / max(measured['acknowledged'], 1) * 1e6:.0f} µs CPU per event acknowledged "
          f"(the service's processes, reads and final fold included), "
          f"largest backlog {max(samples['events'], default=0):,.0f} events / "
          f"{max(samples['age'], default=0):.1f} s, /analytics 24h p50 {p50:.0f} ms p99 {p99:.0f} ms "
          f"({len(samples['analytics'])} samples), peak RSS: {rss}, "
          f"acknowledged {measured['acknowledged']}, stored {stored}", flush=True)
    return 0 if stored >= measured["acknowledged"] else 1


if __name__ == "__main__":
    sys.exit(main())
