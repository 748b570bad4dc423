"""The dashboard's requests one at a time: how long each takes the service.

    .venv/bin/python loadtests/dashboard_requests.py --data-dir /tmp/tracker-web-bench \\
        [--filter channel:Direct ...] [--together 20]

Starts the real service on 127.0.0.1 over an existing data set (as
`dashboard_bench.py` does), then asks, for the 30-day window, what the
dashboard asks at once (`/stats?compare=previous`, `/breakdown` by channel,
page, country, device and event, `limit=10`, and by goal for the goals card),
and `/stats` without compare:
each twice, printing the second time. `--filter` adds a `filter` parameter,
as a click on a breakdown row does. `--together SECONDS` then asks the overview's
requests all at once, as the page does, round after round, and prints the median
time until the last one answered.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
from analytics_bench import TOKEN, start_service

REQUESTS = [("/stats", {"compare": "previous"}), ("/stats", {}),
            *(("/breakdown", {"by": by}) for by in ("channel", "page", "country", "device", "event")),
            ("/breakdown", {"by": "goal", "limit": 100})]
# What the overview asks at once (every request above but the plain /stats).
OVERVIEW = [request for request in REQUESTS if request != ("/stats", {})]


def ask(client: httpx.Client, path: str, extra: dict, filters: list[str]) -> httpx.Response:
    return client.get(path, params={"timeRange": "30d", "tz": "UTC", "limit": 10, "filter": filters,
                                    **extra})


def together(client: httpx.Client, filters: list[str], seconds: float) -> None:
    """The overview's requests at once, a round after another for `seconds`: the median time
    until the last answered."""
    rounds = []
    deadline = time.monotonic() + seconds
    with ThreadPoolExecutor(len(OVERVIEW)) as pool:
        while time.monotonic() < deadline or not rounds:
            started = time.perf_counter()
            answers = list(pool.map(lambda request: ask(client, *request, filters), OVERVIEW))
            rounds.append((time.perf_counter() - started) * 1000)
            assert all(answer.status_code == 200 for answer in answers), answers
    print(f"the overview's {len(OVERVIEW)} requests at once {' '.join(filters)}: median "
          f"{statistics.median(rounds):,.0f} ms, fastest {min(rounds):,.0f} ms, {len(rounds)} rounds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/tracker-web-bench"))
    parser.add_argument("--filter", action="append", default=[])
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--together", type=float, default=0, metavar="SECONDS",
                        help="then ask the overview's requests at once, round after round")
    args = parser.parse_args()
    service = start_service(args.data_dir, None, args.port)
    client = httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=300,
                          headers={"Authorization": f"Bearer {TOKEN}"},
                          limits=httpx.Limits(max_connections=len(OVERVIEW)))
    try:
        for path, extra in REQUESTS:
            for _ in range(2):
                started = time.perf_counter()
                response = ask(client, path, extra, args.filter)
                took = (time.perf_counter() - started) * 1000
            shown = " ".join(f"{key}={value}" for key, value in extra.items())
            print(f"{path} {shown} {' '.join(args.filter)}: {took:,.0f} ms {response.status_code}")
        if args.together:
            together(client, args.filter, args.together)
    finally:
        service.terminate()
        service.wait(60)


if __name__ == "__main__":
    main()
