"""`tracker import` against batch ingest: the same movements both ways, and the rate of each.

    python loadtests/import_bench.py --rows 1000000

Makes `--rows` page views and events (visits of 1 to 8 hits by visitors with
several browsers and countries, over the last 29 days) and stores them twice,
each time into a fresh data directory with the default settings (16 shards,
TRACKER_SYNC=full):

- batch ingest: the real service (`tracker serve`, one worker and its folding
  process) takes them as `POST /track` batches of 500 over `--connections`
  keep-alive connections (a 503 is retried after its Retry-After), and the
  clock stops when `GET /analytics` answers, which folds everything
  acknowledged first: the rate counts what the aggregates can see;
- import: the same movements as one GoatCounter CSV export, through
  `tracker import --format goatcounter` with the service stopped (the command
  starts the folding process and folds the rest before it ends), timed from
  start to exit; then the same file imported again while the service runs on
  that data directory (all duplicates).

It prints both rates and their ratio. The files and data directories live in
`--work-dir` (a temporary directory by default) and are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
]
COUNTRIES = ["NL", "US", "DE", "FR", "GB", "IN", ""]
PATHS = [f"/docs/page-{n}" for n in range(200)] + ["/", "/pricing", "/blog"]
REFERRERS = ["", "www.google.com", "news.ycombinator.com/item", "github.com/a/b"]
BATCH = 500
HEADER = ["2Path", "Title", "Event", "UserAgent", "Browser", "System", "Session", "Bot", "Referrer",
          "Referrer scheme", "Screen size", "Location", "FirstVisit", "Date"]


def hits(count: int, seed: int = 1) -> list[tuple]:
    """(session, timestamp ms, path or event name, is event, referrer, agent, country) per hit."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    found: list[tuple] = []
    while len(found) < count:
        session = uuid.UUID(int=rng.getrandbits(128)).hex
        start = now - rng.randint(3_600_000, 29 * 86_400_000)
        agent, country, referrer = rng.choice(AGENTS), rng.choice(COUNTRIES), rng.choice(REFERRERS)
        for step in range(rng.randint(1, 8)):
            is_event = step > 0 and rng.random() < 0.15
            name = "signup" if is_event else rng.choice(PATHS)
            found.append((session, start + step * 40_000, name, is_event, referrer if step == 0 else "",
                          agent, country))
    return found[:count]


def write_goatcounter(rows: list[tuple], path: Path) -> None:
    with path.open("w", newline="") as file:
        out = csv.writer(file)
        out.writerow(HEADER)
        for session, at, name, is_event, referrer, agent, country in rows:
            moment = datetime.fromtimestamp(at / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            out.writerow([name, "A title", "true" if is_event else "false", agent, "", "", session, "0",
                          referrer, "h" if referrer else "", "1920,1080,1", country, "false", moment])


def track_bodies(rows: list[tuple]) -> list[bytes]:
    """The same hits as /track batches (ids of the visit; eventIds as a client makes them)."""
    bodies = []
    for start in range(0, len(rows), BATCH):
        events = []
        for session, at, name, is_event, referrer, _agent, _country in rows[start:start + BATCH]:
            data = {"title": "A title"} if is_event else {
                "path": name, "title": "A title", "referrer": f"https://{referrer}" if referrer else ""}
            events.append({"userId": f"v-{session[:16]}", "sessionId": f"s-{session}",
                           "event": name if is_event else "page_view", "timestamp": at, "data": data,
                           "eventId": uuid.uuid4().hex})
        bodies.append(json.dumps({"events": events}).encode())
    return bodies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "TRACKER_DATA_DIR": str(data_dir), "TRACKER_RATE_LIMIT": "0",
            "TRACKER_READ_TOKEN": "bench-token"}


class Service:
    """`tracker serve` on a free port of 127.0.0.1, stopped on exit."""

    def __init__(self, data_dir: Path):
        self.port = free_port()
        self.log = (data_dir.parent / f"serve-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracker", "serve", "--port", str(self.port)],
            env=environment(data_dir), stdout=self.log, stderr=subprocess.STDOUT)

    def __enter__(self) -> Service:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the service did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(120)
        self.log.close()


async def post_all(port: int, bodies: list[bytes], connections: int) -> int:
    """Post every body; returns how many 503s were waited out."""
    queue = list(reversed(bodies))
    waited = 0

    async def connection() -> None:
        nonlocal waited
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                body = queue.pop()
                while True:
                    writer.write(b"POST /track HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                    status, headers, _ = await answer(reader)
                    if status == 200:
                        break
                    if status != 503:
                        raise RuntimeError(f"/track answered {status}")
                    waited += 1
                    await asyncio.sleep(float(headers.get("retry-after", "1")))
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return waited


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in head[1:] if ": " in line)
    return int(head[0].split()[1]), headers, await reader.readexactly(int(headers["content-length"]))


def folded_analytics(port: int) -> None:
    """GET /analytics over 30 days, which answers once everything acknowledged is folded."""
    with socket.create_connection(("127.0.0.1", port), timeout=600) as sock:
        sock.sendall(b"GET /analytics?timeRange=30d HTTP/1.1\r\nHost: bench\r\n"
                     b"Authorization: Bearer bench-token\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    if not reply.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(reply[:200])


def batch_ingest(work: Path, bodies: list[bytes], connections: int) -> tuple[float, int]:
    data_dir = work / "batch"
    with Service(data_dir) as service:
        started = time.perf_counter()
        waited = asyncio.run(post_all(service.port, bodies, connections))
        folded_analytics(service.port)
        return time.perf_counter() - started, waited


def tracker_import(data_dir: Path, export: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tracker", "import", "--site", "default", "--format",
                           "goatcounter", str(export)], env=environment(data_dir), capture_output=True,
                          text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--work-dir", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="import-bench-", dir=args.work_dir))
    try:
        rows = hits(args.rows)
        export = work / "goatcounter.csv"
        write_goatcounter(rows, export)
        bodies = track_bodies(rows)
        del rows
        seconds, waited = batch_ingest(work, bodies, args.connections)
        batch_rate = args.rows / seconds
        print(f"batch ingest: {args.rows:,} movements as {len(bodies):,} POST /track batches of {BATCH} "
              f"over {args.connections} connections, folded: {seconds:.1f} s, {batch_rate:,.0f} movements/s "
              f"({waited} answers of 503 waited out)")
        del bodies
        imported = work / "import"
        seconds, said = tracker_import(imported, export)
        import_rate = args.rows / seconds
        print(f"tracker import, service stopped: {args.rows:,} rows ({export.stat().st_size / 2**20:,.0f} MiB "
              f"GoatCounter CSV), folded: {seconds:.1f} s, {import_rate:,.0f} rows/s")
        print("  " + said.replace("\n", "\n  "))
        with Service(imported):
            seconds, said = tracker_import(imported, export)
        print(f"tracker import again, service running (all duplicates): {seconds:.1f} s, "
              f"{args.rows / seconds:,.0f} rows/s")
        print(f"import / batch ingest: {import_rate / batch_rate:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
