"""Peak memory of a site's export (GET /sites/{id}/export) over a large web data set.

    .venv/bin/python loadtests/export_memory.py --movements 10000000

Builds the web data set of `analytics_bench.py --web` (loadtests/web_dataset.py,
written through the store's writers) unless the data directory holds one,
starts the real service on 127.0.0.1 over it, and asks for the export of the
last `--days` days (31: all of a data set built today), reading the zip to
its end. The service runs one worker, in its own process (the folding process
is a child of it); that process's peak resident memory (VmHWM in /proc, reset
just before the export through /proc/PID/clear_refs) is printed beside its
resident memory before the export, with the zip's size and the time it took.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import httpx2 as httpx
import web_dataset
from analytics_bench import BATCH, TOKEN, config_for, start_service, write_all

MIB = 2**20


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def export(port: int, days: int) -> tuple[int, float]:
    """(bytes, seconds) of the export of the last `days` days, read to its end."""
    now = int(time.time() * 1000)
    started = time.perf_counter()
    size = 0
    with httpx.stream("GET", f"http://127.0.0.1:{port}/sites/default/export",
                      params={"from": now - days * 86_400_000, "to": now},
                      headers={"Authorization": f"Bearer {TOKEN}"}, timeout=3600) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_bytes():
            size += len(chunk)
    return size, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/tracker-web-bench"))
    parser.add_argument("--movements", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--days", type=int, default=31, help="the export's window, ending now")
    args = parser.parse_args()
    if not (args.data_dir / "manifest.json").exists():
        batches = web_dataset.generate(args.movements, args.users, int(time.time() * 1000), BATCH)
        written, seconds = asyncio.run(write_all(config_for(args.data_dir, args.shards), batches))
        print(f"built {written:,} movements in {seconds:,.0f} s")
    size = sum(f.stat().st_size for f in args.data_dir.glob("shard-*"))
    print(f"data set: {args.data_dir} ({size / 2**30:.2f} GiB of shard files)")
    service = start_service(args.data_dir, args.shards, args.port)
    try:
        worker = service.pid  # one worker: `tracker serve` serves in its own process
        before = status_kib(worker, "VmRSS")
        Path(f"/proc/{worker}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
        length, seconds = export(args.port, args.days)
        peak = status_kib(worker, "VmHWM")
    finally:
        service.terminate()
        service.wait(60)
    print(f"export of the last {args.days} days: {length / MIB:,.1f} MiB zip in {seconds:,.1f} s")
    print(f"worker resident memory: {before / 1024:,.0f} MiB before, peak {peak / 1024:,.0f} MiB "
          f"during the export (+{(peak - before) / 1024:,.0f} MiB)")


if __name__ == "__main__":
    main()
