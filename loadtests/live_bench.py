"""Live feed benchmark on loopback: delivery latency, and ingest with streams open.

    python loadtests/live_bench.py --seconds 10

Starts `tracker serve --workers 2` on a free 127.0.0.1 port with a fresh data
directory, then (1) posts about `--rate` events/s for `--seconds` with one
GET /live stream open and prints the p50/p99 time from a batch's
acknowledgement to its events' arrival; (2) posts as fast as `--connections`
connections can for `--seconds`, with no stream and then with `--streams`
streams open (read by a process of their own), and prints events/s for both. Bounded: it stops the service
and removes the directory at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TOKEN = "bench-token"
BATCH = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(data_dir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "TRACKER_DATA_DIR": str(data_dir), "TRACKER_READ_TOKEN": TOKEN,
           "TRACKER_RATE_LIMIT": "0", "TRACKER_SYNC": "normal"}
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


async def post(reader, writer, body: bytes) -> None:
    writer.write(b"POST /track HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    length = next(int(line.split(":")[1]) for line in head.split("\r\n")
                  if line.lower().startswith("content-length"))
    await reader.readexactly(length)


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


async def latency(port: int, rate: int, seconds: float) -> list[float]:
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
        await post(reader, writer, batch_body(ids))
        acked.update(dict.fromkeys(ids, time.monotonic()))
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await asyncio.sleep(2)
    listener.cancel()
    writer.close()
    stream_writer.close()
    return [seen[key] - at for key, at in acked.items() if key in seen] + \
        [float("inf")] * sum(key not in seen for key in acked)


async def ingest_rate(port: int, seconds: float, connections: int, streams: int) -> float:
    readers = await open_readers(port, streams) if streams else None
    posted = [0]

    async def poster() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.monotonic() < deadline:
            await post(reader, writer, batch_body([uuid.uuid4().hex for _ in range(BATCH)]))
            posted[0] += BATCH
        writer.close()

    deadline = time.monotonic() + seconds
    await asyncio.gather(*(poster() for _ in range(connections)))
    if readers is not None:
        readers.terminate()
        await readers.wait()
    return posted[0] / seconds


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


async def run(port: int, args) -> None:
    delays = await latency(port, args.rate, args.seconds)
    print(f"delivery at ~{args.rate} events/s: {len(delays)} events, "
          f"p50 {percentile(delays, 0.5) * 1000:.0f} ms, p99 {percentile(delays, 0.99) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms")
    alone = await ingest_rate(port, args.seconds, args.connections, 0)
    watched = await ingest_rate(port, args.seconds, args.connections, args.streams)
    print(f"ingest: {alone:.0f} events/s with no stream, {watched:.0f} with {args.streams} streams")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--drain", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drain:
        asyncio.run(drain_streams(args.drain, args.streams))
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        process = start_service(Path(data_dir), port)
        try:
            asyncio.run(run(port, args))
        finally:
            process.terminate()
            process.wait(60)


if __name__ == "__main__":
    main()
