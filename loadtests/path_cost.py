"""A worker's CPU time per single-event `POST /track`, through the whole service, with no sockets.

    python loadtests/path_cost.py                                # this tree
    python loadtests/path_cost.py --baseline /tmp/baseline       # against another tree, ABBA

wrk's rates on a machine shared with other work swing by tens of per cent;
the CPU time a request costs the worker's threads swings far less. This
starts the real application (`tracker.app.create_app`, its lifespan, a fresh
data directory of 16 shards, `TRACKER_SYNC=normal`, metrics in files as
`tracker serve` keeps them) in one process and feeds
single events, each whole in one read as a browser's arrives, into tracker's
HTTP protocol (tracker/http_guard.py) over 64 keep-alive connections whose
transports only keep what is written. Events go through the log's writer
thread and commit; the folding process is not started (the backlog bounds are
off), so the figures are the worker's alone: the event loop's thread, and the
other threads (the log's writer, the read pool). Every answer must be a 200.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

from edge_cost import QuietTransport
from tree_runs import alternating, answer_as_child, arguments, child_figures

CONNECTIONS = 64
USERS = 100_000


def request_bytes(number: int) -> bytes:
    user = number * 7919 % USERS
    body = json.dumps({"userId": f"user-{user}", "sessionId": f"s-{user}", "event": "click",
                       "data": {"n": number}, "eventId": str(uuid.uuid4())}).encode()
    return (b"POST /track HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
            b"User-Agent: path-cost\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


class KeepingTransport(QuietTransport):
    """Keeps what the protocol writes (one answer per request, never split here)."""

    def __init__(self, port: int, answered) -> None:
        self.port = port
        self.answers: list[bytes] = []
        self.answered = answered  # called once an answer is written to its end

    def write(self, data: bytes) -> None:
        if self.answers and not self.answers[-1].endswith(b"}"):
            self.answers[-1] += data  # the body of an answer whose head came first
        else:
            self.answers.append(data)
        if data.endswith(b"}"):  # every body here is a JSON object
            self.answered()


class Lifespan:
    """Drives an ASGI application's lifespan: started, then shut down."""

    def __init__(self, app) -> None:
        import asyncio

        self._sent: asyncio.Queue = asyncio.Queue()
        self._answers: asyncio.Queue = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.ensure_future(app(scope, self._sent.get, self._answers.put))

    async def step(self, event: str) -> None:
        await self._sent.put({"type": f"lifespan.{event}"})
        answer = await self._answers.get()
        if answer["type"] != f"lifespan.{event}.complete":
            raise RuntimeError(f"lifespan {event}: {answer}")
        if event == "shutdown":
            await self._task


def measure(requests: int) -> tuple[float, float]:
    """(the event loop's thread, the process's other threads) CPU seconds per request."""
    import asyncio
    import time

    import uvloop
    from uvicorn.server import ServerState

    from tracker.app import create_app
    from tracker.config import Config
    from tracker.http_guard import GuardedConfig, GuardedHttpToolsProtocol, Limits

    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    app = create_app(Config.from_env())
    config = GuardedConfig(app, limits=Limits(), lifespan="off", access_log=False,
                           proxy_headers=False, server_header=False, log_level="warning")
    config.load()
    state = ServerState()
    waiting = {"answers": 0, "event": asyncio.Event()}

    def answered() -> None:
        waiting["answers"] -= 1
        if not waiting["answers"]:
            waiting["event"].set()

    connections = []
    for number in range(CONNECTIONS):
        protocol = GuardedHttpToolsProtocol(config, state, {}, _loop=loop)
        transport = KeepingTransport(40_000 + number, answered)
        protocol.connection_made(transport)  # type: ignore[arg-type]
        connections.append((protocol, transport))
    pending = [request_bytes(number) for number in range(requests)]

    async def serve() -> tuple[float, float]:
        lifespan = Lifespan(app)
        await lifespan.step("startup")
        started_loop, started_all = time.thread_time(), time.process_time()
        sent = 0
        while sent < requests:
            wave = connections[:requests - sent]
            waiting["answers"] = len(wave)
            waiting["event"].clear()
            for protocol, _transport in wave:
                protocol.data_received(pending[sent])
                sent += 1
            await waiting["event"].wait()
        loop_seconds = time.thread_time() - started_loop
        all_seconds = time.process_time() - started_all
        await lifespan.step("shutdown")
        return loop_seconds, all_seconds - loop_seconds

    loop_seconds, other_seconds = loop.run_until_complete(serve())
    loop.close()
    answers = [answer for _p, t in connections for answer in t.answers]
    refused = [answer for answer in answers if not answer.startswith(b"HTTP/1.1 200")]
    if len(answers) != requests or refused:
        raise SystemExit(f"{len(answers)} answers to {requests} requests, not 200: {refused[:1]}")
    return loop_seconds / requests, other_seconds / requests


def run_in(tree: Path | None, requests: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="tracker-path-cost-") as data_dir:
        env = {"TRACKER_DATA_DIR": data_dir, "TRACKER_SHARDS": "16",
               "TRACKER_SYNC": "normal", "TRACKER_RATE_LIMIT": "0", "TRACKER_MAX_BACKLOG": "0",
               "TRACKER_MAX_BACKLOG_SECONDS": "0", "TRACKER_MIN_FREE_MB": "0",
               "TRACKER_FOLDING_PROCESS": "1", "TRACKER_READ_TOKEN": "path-cost",
               "PROMETHEUS_MULTIPROC_DIR": data_dir}  # metrics in files, as under `tracker serve`
        loop, others = child_figures(__file__, tree, requests, env)
    return loop, others


def main() -> int:
    args = arguments(__doc__.splitlines()[0], requests=20_000, rounds=4)
    if args.child:
        return answer_as_child(measure(args.child))
    runs = alternating(args.baseline, args.rounds, lambda tree: run_in(tree, args.requests))
    print(f"{args.requests:,} single events a run over {CONNECTIONS} connections, "
          f"CPU µs per request (median of {args.rounds} runs)")
    for side, figures in runs.items():
        loops = [loop * 1e6 for loop, _others in figures]
        others = [other * 1e6 for _loop, other in figures]
        print(f"{side:>9}: event loop {statistics.median(loops):6.1f}  other threads "
              f"{statistics.median(others):6.1f}   (loop per run: {', '.join(f'{m:.1f}' for m in loops)})")
    if "baseline" in runs:
        added = [(a[0] - b[0]) * 1e6 for a, b in zip(runs["this tree"], runs["baseline"])]
        print(f"event loop, this tree - baseline: {statistics.median(added):+.1f} µs/request "
              f"(median of the rounds' differences)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
