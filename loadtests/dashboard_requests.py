"""The dashboard's requests one at a time: how long each takes the service.

    .venv/bin/python loadtests/dashboard_requests.py --data-dir /tmp/tracker-web-bench \\
        [--filter channel:Direct ...]

Starts the real service on 127.0.0.1 over an existing data set (as
`dashboard_bench.py` does), then asks, for the 30-day window, what the
dashboard asks at once (`/stats?compare=previous` and `/breakdown` by channel,
page, country, device and event, `limit=10`), and `/stats` without compare:
each twice, printing the second time. `--filter` adds a `filter` parameter,
as a click on a breakdown row does.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import httpx2 as httpx
from analytics_bench import TOKEN, start_service

REQUESTS = [("/stats", {"compare": "previous"}), ("/stats", {}),
            *(("/breakdown", {"by": by}) for by in ("channel", "page", "country", "device", "event"))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/tracker-web-bench"))
    parser.add_argument("--filter", action="append", default=[])
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    service = start_service(args.data_dir, None, args.port)
    client = httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=300,
                          headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        for path, extra in REQUESTS:
            params = {"timeRange": "30d", "tz": "UTC", "limit": 10, "filter": args.filter, **extra}
            for _ in range(2):
                started = time.perf_counter()
                response = client.get(path, params=params)
                took = (time.perf_counter() - started) * 1000
            shown = " ".join(f"{key}={value}" for key, value in extra.items())
            print(f"{path} {shown} {' '.join(args.filter)}: {took:,.0f} ms {response.status_code}")
    finally:
        service.terminate()
        service.wait(60)


if __name__ == "__main__":
    main()
