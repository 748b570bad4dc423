"""Live feed benchmark on loopback: delivery latency, and ingest with streams open.

    python loadtests/live_bench.py --seconds 15 --streams 100 --rounds 2

Starts `tracker serve --workers 2` on a free 127.0.0.1 port with a fresh data
directory, then (1) posts about `--rate` events/s for `--seconds` with one
GET /live stream open and prints the p50/p99 time from a batch's
acknowledgement to its events' arrival; (2) posts as fast as `--connections`
connections can for `--seconds`, with no stream and with `--streams` streams
open (read by a process of their own; `--fixed-rate R` posts R events/s
instead, so both sides do the same work), in `--rounds` rounds whose order
alternates (ABBA) so that drift on a shared machine falls on both sides, and
prints events/s of each phase, the ratio of the means, and the service's CPU
time per acknowledged event on each side (which moves less with other work
on the machine than a rate). Last it waits for the fold, stops the service
and counts the movements in the shard files: every acknowledged event must
be there (exit 1 otherwise). The peak RSS of each worker and of the folding
process is printed against the issue's bound. Bounded: it stops the service
and removes the directory at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench import cpu_seconds, stored_movements
from service_memory import RssWatch, describe

TOKEN = "bench-token"
BATCH = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "TRACKER_DATA_DIR": str(data_dir), "TRACKER_READ_TOKEN": TOKEN,
           "TRACKER_RATE_LIMIT": "0", "TRACKER_SYNC": "normal",
           # every client of the benchmark is 127.0.0.1: its streams and posters together
           "TRACKER_MAX_CONNECTIONS_PER_CLIENT": "1024"}
    process = subprocess.Popen([sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1",
                                "--port", str(port), "--workers", "2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the service did not start")


def batch_body(ids: list[str]) -> bytes:
    now = int(time.time() * 1000)
    return json.dumps({"events": [
        {"userId": f"user-{i % 500}", "sessionId": f"s-{i % 500}", "event": "page_view",
         "timestamp": now, "data": {"path": "/"}, "eventId": event_id}
        for i, event_id in enumerate(ids)]}).encode()


async def post(reader, writer, body: bytes) -> int:
    """POST one batch; its answer's status (503 is waited out for its Retry-After first)."""
    writer.write(b"POST /track HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    length = next(int(line.split(":")[1]) for line in head.split("\r\n")
                  if line.lower().startswith("content-length"))
    await reader.readexactly(length)
    status = int(head.split(" ", 2)[1])
    if status == 503:
        await asyncio.sleep(1)
    return status


async def open_stream(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /live HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
                 .encode())
    await reader.readuntil(b"\r\n\r\n")
    return reader, writer


async def arrivals(reader: asyncio.StreamReader, seen: dict[str, float]) -> None:
    """Note when each eventId arrives (chunked framing lines are skipped as non-data)."""
    while line := await reader.readline():
        if line.startswith(b"data: "):
            seen[json.loads(line[6:])["eventId"]] = time.monotonic()


async def drain(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


async def latency(port: int, rate: int, seconds: float) -> tuple[list[float], int]:
    """Delays from acknowledgement to arrival on one stream; and the events acknowledged."""
    stream_reader, stream_writer = await open_stream(port)
    seen: dict[str, float] = {}
    listener = asyncio.create_task(arrivals(stream_reader, seen))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    acked: dict[str, float] = {}
    interval = BATCH / rate
    next_at = time.monotonic()
    deadline = next_at + seconds
    while time.monotonic() < deadline:
        ids = [uuid.uuid4().hex for _ in range(BATCH)]
        if await post(reader, writer, batch_body(ids)) == 200:
            acked.update(dict.fromkeys(ids, time.monotonic()))
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await asyncio.sleep(2)
    listener.cancel()
    writer.close()
    stream_writer.close()
    delays = [seen[key] - at for key, at in acked.items() if key in seen] + \
        [float("inf")] * sum(key not in seen for key in acked)
    return delays, len(acked)


class Phase:
    """One timed phase of posting: events acknowledged, answers refused, CPU seconds spent."""

    def __init__(self, streams: int):
        self.streams = streams
        self.acknowledged = self.refused = 0
        self.seconds = self.service_cpu = self.readers_cpu = 0.0

    @property
    def rate(self) -> float:
        return self.acknowledged / self.seconds

    @property
    def cpu_us_per_event(self) -> float:
        return self.service_cpu / max(self.acknowledged, 1) * 1e6


async def ingest_phase(port: int, service_pid: int, seconds: float, connections: int,
                       streams: int, rate: float | None = None) -> Phase:
    """Post as fast as `connections` can, or at `rate` events/s in all (the same work on both
    sides, so that the service's CPU per event compares what the streams add)."""
    phase = Phase(streams)
    readers = await open_readers(port, streams) if streams else None
    interval = BATCH * connections / rate if rate else 0.0

    async def poster() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        next_at = time.monotonic()
        while time.monotonic() < deadline:
            status = await post(reader, writer, batch_body([uuid.uuid4().hex for _ in range(BATCH)]))
            if status == 200:
                phase.acknowledged += BATCH
            else:
                phase.refused += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        writer.close()

    cpu_before = cpu_seconds(service_pid)
    readers_before = cpu_seconds(readers.pid) if readers else 0.0
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(poster() for _ in range(connections)))
    phase.seconds = time.monotonic() - started
    phase.service_cpu = cpu_seconds(service_pid) - cpu_before
    if readers is not None:
        phase.readers_cpu = cpu_seconds(readers.pid) - readers_before
        readers.terminate()
        await readers.wait()
    return phase


async def open_readers(port: int, streams: int) -> asyncio.subprocess.Process:
    """The streams' readers in a process of their own, as other clients would be: read in this
    event loop they would slow the posters down, which is not a cost of the service."""
    readers = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--drain", str(port), "--streams", str(streams),
        stdout=asyncio.subprocess.PIPE)
    assert await readers.stdout.readline() == b"open\n"
    return readers


async def drain_streams(port: int, streams: int) -> None:
    opened = [await open_stream(port) for _ in range(streams)]
    print("open", flush=True)
    await asyncio.gather(*(drain(reader) for reader, _ in opened))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(port: int, service_pid: int, args) -> int:
    """Delivery, then the rounds of ingest; the events acknowledged in all."""
    delays, acknowledged = await latency(port, args.rate, args.seconds)
    print(f"delivery at ~{args.rate} events/s: {len(delays)} events, "
          f"p50 {percentile(delays, 0.5) * 1000:.0f} ms, p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms", flush=True)
    phases: list[Phase] = []
    for round_ in range(1, args.rounds + 1):
        order = (0, args.streams) if round_ % 2 else (args.streams, 0)
        for streams in order:
            phase = await ingest_phase(port, service_pid, args.seconds, args.connections, streams,
                                       args.fixed_rate)
            phases.append(phase)
            acknowledged += phase.acknowledged
            print(f"round {round_}, {streams:>3} streams: {phase.rate:,.0f} events/s, "
                  f"{phase.refused} refused, service CPU {phase.cpu_us_per_event:.0f} µs/event, "
                  f"readers' CPU {phase.readers_cpu / phase.seconds:.0%} of a core", flush=True)
    alone = [phase for phase in phases if not phase.streams]
    watched = [phase for phase in phases if phase.streams]
    rate = {side: statistics.mean(p.rate for p in group) for side, group in (("alone", alone),
                                                                             ("watched", watched))}
    cpu = {side: statistics.mean(p.cpu_us_per_event for p in group)
           for side, group in (("alone", alone), ("watched", watched))}
    print(f"ingest: {rate['alone']:,.0f} events/s with no stream, {rate['watched']:,.0f} with "
          f"{args.streams} streams: ratio {rate['watched'] / rate['alone']:.2f} (mean of "
          f"{args.rounds} round(s)); service CPU per event {cpu['alone']:.0f} against "
          f"{cpu['watched']:.0f} µs ({cpu['alone'] / cpu['watched']:.2f})", flush=True)
    return acknowledged


def folded(port: int) -> None:
    """GET /analytics answers once everything acknowledged is folded."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/analytics?timeRange=24h",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        answer.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of no streams and streams")
    parser.add_argument("--fixed-rate", type=float,
                        help="post this many events/s in every phase instead of as fast as possible")
    parser.add_argument("--drain", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drain:
        asyncio.run(drain_streams(args.drain, args.streams))
        return 0
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        process = start_service(Path(data_dir), port)
        memory = RssWatch(process.pid, port)
        try:
            acknowledged = asyncio.run(run(port, process.pid, args))
            folded(port)
            print(f"peak RSS: {describe(memory.stop())}")
        finally:
            process.terminate()
            process.wait(60)
        stored = stored_movements(Path(data_dir))
    print(f"acknowledged {acknowledged}, stored {stored}"
          + ("" if stored >= acknowledged else ": ACKNOWLEDGED EVENTS MISSING"))
    return 0 if stored >= acknowledged else 1


if __name__ == "__main__":
    sys.exit(main())
