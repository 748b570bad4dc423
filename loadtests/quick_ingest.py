"""Quick ingest check: POST batches of random users to a running service and print events/s.

    python loadtests/quick_ingest.py --url http://127.0.0.1:8000 --seconds 10 --batch 50

Uses raw keep-alive HTTP/1.1 connections from asyncio so that the client
costs as little CPU as possible next to the service on the same machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
import uuid
from urllib.parse import urlsplit


def batch_body(size: int, users: int) -> bytes:
    now = int(time.time() * 1000)
    events = []
    for _ in range(size):
        user = random.randrange(users)
        events.append({"userId": f"user-{user}", "sessionId": f"s-{user}-{now // 1_800_000}",
                       "event": random.choice(("page_view", "click", "scroll")),
                       "timestamp": now, "data": {"path": f"/p/{random.randrange(50)}"},
                       "eventId": uuid.uuid4().hex})
    return json.dumps({"events": events}).encode()


async def connection(host: str, port: int, args, deadline: float, totals: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline:
            body = batch_body(args.batch, args.users)
            writer.write(b"POST /track HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            status, length = await read_head(reader)
            await reader.readexactly(length)
            key = "ok" if status == 200 else "failed"
            totals[key] += 1
    finally:
        writer.close()


async def read_head(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length"))
    return status, length


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=100_000)
    args = parser.parse_args()
    target = urlsplit(args.url)
    totals = {"ok": 0, "failed": 0}
    started = time.monotonic()
    deadline = started + args.seconds
    await asyncio.gather(*(connection(target.hostname, target.port or 80, args, deadline, totals)
                           for _ in range(args.connections)))
    elapsed = time.monotonic() - started
    print(f"batch {args.batch}, {args.connections} connections, {elapsed:.1f} s: "
          f"{totals['ok'] / elapsed:,.0f} requests/s, {totals['ok'] * args.batch / elapsed:,.0f} "
          f"events/s acknowledged, {totals['failed']} non-200")


if __name__ == "__main__":
    asyncio.run(main())
