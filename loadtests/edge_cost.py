"""The HTTP edge's own cost per request: this tree against a baseline tree, with no sockets.

    git archive main | tar -x -C /tmp/baseline
    python loadtests/edge_cost.py --baseline /tmp/baseline --requests 100000 --rounds 6

A rate measured with wrk on a machine shared with other work swings by tens
of per cent between runs, far more than a guard's cost. This feeds a single
event's `POST /track`, whole in one read as a browser's arrives, straight into
tracker's HTTP protocol (tracker/http_guard.py, on uvicorn's httptools
protocol) over a transport that only counts what is written, with a
minimal ASGI application that reads the body and answers, and times the
requests on one keep-alive connection. Each tree runs in a process of its own
(PYTHONPATH set to it), in rounds whose order alternates (ABBA); it prints
the CPU time per request of each run and the median difference.
"""

from __future__ import annotations

import json
import statistics
import sys

from tree_runs import alternating, answer_as_child, arguments, child_figures

BODY = json.dumps({"userId": "u1", "sessionId": "s1", "event": "click",
                   "eventId": "0b9d2a51-7c1e-4a55-9a36-5f0e3e0f1c11"}).encode()
REQUEST = (b"POST /track HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY))


class QuietTransport:
    """A transport for a protocol fed by hand: no socket, no flow control, never closed."""

    port = 50000  # the client's, as the protocol sees it

    def get_extra_info(self, name: str, default=None):
        return {"peername": ("127.0.0.1", self.port), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        pass

    def can_write_eof(self) -> bool:
        return False

    def close(self) -> None:
        raise AssertionError("the connection was closed")


class CountingTransport(QuietTransport):
    """What the protocol writes is counted and dropped."""

    def __init__(self) -> None:
        self.answers = 0

    def write(self, data: bytes) -> None:
        self.answers += data.endswith(b"{}")


async def answer(scope, receive, send) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


def measure(requests: int) -> float:
    """CPU seconds per request through this interpreter's tracker.http_guard."""
    import asyncio
    import time

    import uvloop
    from uvicorn.server import ServerState

    from tracker.http_guard import GuardedConfig, GuardedHttpToolsProtocol, Limits

    loop = uvloop.new_event_loop()
    config = GuardedConfig(answer, limits=Limits(), lifespan="off", access_log=False,
                           proxy_headers=False, server_header=False, log_level="warning")
    config.load()
    protocol = GuardedHttpToolsProtocol(config, ServerState(), {}, _loop=loop)
    transport = CountingTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]

    async def serve() -> float:
        started = time.process_time()
        for _ in range(requests):
            before = transport.answers
            protocol.data_received(REQUEST)
            while transport.answers == before:
                await asyncio.sleep(0)
        return time.process_time() - started

    seconds = loop.run_until_complete(serve())
    loop.close()
    return seconds / requests


def main() -> int:
    args = arguments(__doc__.splitlines()[0], requests=100_000, rounds=6)
    if args.child:
        return answer_as_child([measure(args.child)])
    runs = alternating(args.baseline, args.rounds,
                       lambda tree: child_figures(__file__, tree, args.requests)[0] * 1e6)
    for side, micros in runs.items():
        print(f"{side:>9}: {statistics.median(micros):.2f} µs/request (median of {len(micros)} runs "
              f"of {args.requests:,}: {', '.join(f'{m:.2f}' for m in micros)})")
    if "baseline" in runs:
        added = [a - b for a, b in zip(runs["this tree"], runs["baseline"])]
        print(f"this tree - baseline: {statistics.median(added):+.2f} µs/request (median of the rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
