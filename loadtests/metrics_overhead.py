"""What metrics cost: the same ingest load against the service with metrics on, then off.

    python loadtests/metrics_overhead.py --seconds 10 --rounds 2

Starts `tracker serve` on 127.0.0.1 with a fresh data directory for each run
(TRACKER_RATE_LIMIT=0), drives it with quick_ingest.py, and prints both
rates and their ratio. Rounds alternate on/off so that drift in the
machine's load falls on both sides.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the service did not start")


def events_per_second(metrics: bool, args) -> float:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "TRACKER_DATA_DIR": data_dir, "TRACKER_RATE_LIMIT": "0",
               "TRACKER_METRICS": "true" if metrics else "false", "TRACKER_SYNC": args.sync}
        server = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1",
                                   "--port", str(port), "--workers", str(args.workers)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(url, server)
            load = subprocess.run([sys.executable, str(HERE / "quick_ingest.py"), "--url", url,
                                   "--seconds", str(args.seconds), "--batch", str(args.batch)],
                                  capture_output=True, text=True, check=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
    print(f"  metrics {'on ' if metrics else 'off'}: {load.stdout.strip()}")
    return float(re.search(r"([\d,]+) events/s", load.stdout).group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sync", default="full", choices=("full", "normal"))
    args = parser.parse_args()
    rates: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(args.rounds):
        for metrics in (True, False) if round_ % 2 == 0 else (False, True):
            rates[metrics].append(events_per_second(metrics, args))
    on, off = sum(rates[True]) / args.rounds, sum(rates[False]) / args.rounds
    print(f"metrics on {on:,.0f} events/s, off {off:,.0f} events/s: on/off = {on / off:.3f}")


if __name__ == "__main__":
    main()
