"""Sustained ingest: wrk posts batches of 50 for a minute while the folder keeps up.

    python loadtests/sustained.py --seconds 60 --workers 1

During the load, once a second, it times a global GET /analytics?timeRange=24h
and reads the unfolded backlog from /metrics. It prints the acknowledged
rate (time of the final /analytics included), the largest backlog in events
and seconds, p50 of /analytics, peak RSS per worker, and checks that every
acknowledged event is stored once the service has stopped.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

from bench import (
    Scenario,
    analytics_seconds,
    ensure_wrk,
    free_port,
    peak_rss_mb,
    run_wrk,
    start_server,
    stored_movements,
    worker_pids,
)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sync", default="full")
    args = parser.parse_args()
    wrk = ensure_wrk()
    port = free_port()
    samples: dict[str, list[float]] = {"analytics": [], "events": [], "age": []}
    with tempfile.TemporaryDirectory(prefix="tracker-sustained-") as temp:
        data_dir = Path(temp) / "data"
        process = start_server(Scenario("tracker batch50", "tracker", 50, args.workers, args.sync),
                               port, data_dir)
        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(port, stop, samples))
        try:
            watcher.start()
            measured = run_wrk(wrk, port, 50, args.seconds, args.connections)
            stop.set()
            watcher.join()
            wait = analytics_seconds(port)
            rss = [round(peak_rss_mb(pid), 1) for pid in worker_pids(process)]
        finally:
            stop.set()
            process.send_signal(signal.SIGTERM)
            process.wait(120)
        stored = stored_movements(data_dir)
    rate = measured["acknowledged"] / (measured["seconds"] + wait)
    p50 = statistics.median(samples["analytics"]) * 1000 if samples["analytics"] else float("nan")
    print(f"sustained {args.seconds:.0f} s, batches of 50, {args.workers} worker(s), sync {args.sync}: "
          f"{rate:,.0f} events/s (final /analytics {wait * 1000:.0f} ms), "
          f"largest backlog {max(samples['events'], default=0):,.0f} events / "
          f"{max(samples['age'], default=0):.1f} s, /analytics 24h p50 {p50:.0f} ms "
          f"({len(samples['analytics'])} samples), RSS MB/worker {rss}, "
          f"acknowledged {measured['acknowledged']}, stored {stored}")
    return 0 if stored >= measured["acknowledged"] else 1


if __name__ == "__main__":
    sys.exit(main())
