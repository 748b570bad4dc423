"""Ingest benchmark: tracker against a bare Starlette ceiling, driven by wrk on 127.0.0.1.

    python loadtests/bench.py                 # the full matrix, ~4 minutes
    python loadtests/bench.py --seconds 5     # shorter runs
    python loadtests/bench.py growth --movements 10000000
    python loadtests/bench.py enrich --baseline /work/wt/baseline   # ~4 minutes

Each scenario starts its server with a fresh data directory, warms up, then
runs wrk for a fixed time. It prints one table and writes it as JSON. After
each tracker run the server is stopped and the movements stored are counted
in the shard files: every acknowledged event must be there.

A tracker rate counts only what the aggregates can see: each tracker run ends
with GET /analytics (which folds whatever the log still holds), and the time
that call takes is added to the run's time.

`compare` runs one scenario against this tree and against another source
tree given by --baseline (a checkout of an earlier commit, run with this
interpreter and PYTHONPATH set to it), in rounds of the same length whose
order alternates (ABBA), so that drift on a shared machine falls on both. It
prints every run and the ratio of the mean rates:

    git archive main | tar -x -C /tmp/baseline
    python loadtests/bench.py compare --baseline /tmp/baseline --events 1 --rounds 6

With one worker, the CPU time is also split three ways: the event loop's
thread, the worker's other threads (the log's writer, the read pool) and
the other processes (the folding process).

With --ceiling, every round also runs the bare ceiling (the three take turns
at going first), and it prints each tree's share of the ceiling measured in
the same round, the figure the single-event target is given in:

    python loadtests/bench.py compare --baseline /tmp/baseline --events 1 --rounds 4 --ceiling

`enrich` is that comparison for the batch scenario (50 events a request) with
browsers' headers (wrk/track.lua with WEB=1: a few hundred User-Agents, a few
thousand public addresses in X-Forwarded-For, page views with referrers and
UTM tags), against a tree from before web analytics, which derives no
context and folds no visits; without --baseline, against this tree given the
same bodies without User-Agent and X-Forwarded-For (HEADERS=0), which is the
cost of the enrichment alone (browser, OS, device and country per request).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import apsw

HERE = Path(__file__).resolve().parent
TRACK_LUA = HERE / "wrk" / "track.lua"
RESULTS = HERE / "results"
READ_TOKEN = "bench-read-token"
CEILING = "ceiling"


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str  # "ceiling" or "tracker"
    events: int  # per request
    workers: int
    sync: str = "-"
    tree: Path | None = None  # run the tracker from this source tree instead of this one
    web: bool = False  # browsers' headers and page view data (wrk/track.lua WEB=1)
    headers: bool = True  # with web: send the User-Agent and address (HEADERS=0 leaves them out)


@dataclass
class Outcome:
    scenario: str
    workers: int
    sync: str
    events_per_request: int
    requests_per_s: float
    events_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    analytics_wait_ms: float | None
    cpu_us_per_request: float  # the service's processes (workers, folding process), wrk's run only
    # With one worker, that split: the event loop's thread, the worker's other threads (the
    # log's writer, the read pool), and the other processes (the folding process).
    cpu_split_us: tuple[float, float, float] | None
    peak_rss_mb_per_worker: list[float]
    acknowledged: int
    stored: int | None


def matrix() -> list[Scenario]:
    scenarios = [Scenario("ceiling single", "ceiling", 1, w) for w in (1, 2)]
    scenarios += [Scenario("ceiling batch50", "ceiling", 50, w) for w in (1, 2)]
    for events, label in ((1, "single"), (50, "batch50")):
        for workers in (1, 2):
            for sync in ("full", "normal"):
                scenarios.append(Scenario(f"tracker {label}", "tracker", events, workers, sync))
    return scenarios


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (Debian package)...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    return shutil.which("wrk") or "wrk"


def start_server(scenario: Scenario, port: int, data_dir: Path) -> subprocess.Popen:
    python = sys.executable
    if scenario.target == "ceiling":
        command = [python, "-m", "uvicorn", "ceiling_app:app", "--app-dir", str(HERE),
                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(scenario.workers),
                   "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                   "--no-server-header", "--log-level", "warning"]
    else:
        command = [python, "-m", "tracker", "serve", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(scenario.workers), "--data-dir", str(data_dir)]
    env = {**os.environ, "TRACKER_RATE_LIMIT": "0", "TRACKER_SHARDS": "16",
           "TRACKER_READ_TOKEN": READ_TOKEN,
           "TRACKER_SYNC": scenario.sync if scenario.sync != "-" else "full"}
    if scenario.web:
        env["TRACKER_TRUSTED_PROXIES"] = "127.0.0.1"  # X-Forwarded-For names the client
    if scenario.tree is not None:
        env["PYTHONPATH"] = str(scenario.tree)
    process = subprocess.Popen(command, env=env, cwd=scenario.tree, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_healthy(port, process)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (the service drains and folds), then SIGKILL if it takes over a minute."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_healthy(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n")
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become healthy")


def run_wrk(wrk: str, port: int, events: int, seconds: float, connections: int,
            web: bool = False, headers: bool = True) -> dict:
    env = {**os.environ, "EVENTS": str(events), "WEB": "1" if web else "0",
           "HEADERS": "1" if headers else "0"}
    result = subprocess.run(
        [wrk, "-t", "2", "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--latency",
         "-s", str(TRACK_LUA), f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next(text for text in result.stdout.splitlines() if text.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def worker_pids(process: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    pids = [int(pid) for pid in children if _is_python(int(pid))]
    return pids or [process.pid]


def _is_python(pid: int) -> bool:
    """A uvicorn worker, not multiprocessing's resource tracker."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"python" in command and b"resource_tracker" not in command


def cpu_seconds(pid: int) -> float:
    """User and system time of the process and all its descendants so far. Unlike a rate, it
    barely moves when other work shares the machine."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += sum(cpu_seconds(int(child)) for child in (task / "children").read_text().split())
    except (FileNotFoundError, ProcessLookupError):  # gone meanwhile
        pass
    return total


def thread_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds of the process's main thread, and of its other threads."""
    main = others = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        if task.name == str(pid):
            main += seconds
        else:
            others += seconds
    return main, others


def cpu_split(pid: int) -> tuple[float, float, float]:
    """(main thread, other threads, other processes) CPU seconds of a one-worker service,
    whose main thread runs the event loop."""
    main, others = thread_seconds(pid)
    return main, others, cpu_seconds(pid) - main - others


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stored_movements(data_dir: Path) -> int:
    total = 0
    for path in sorted(data_dir.glob("shard-*.sqlite")):
        conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
        total += conn.execute("SELECT count(*) FROM movements").fetchone()[0]
        conn.close()
    return total


def analytics_seconds(port: int) -> float:
    """Time of one global GET /analytics?timeRange=24h: it counts every acknowledged event
    (folded, or from the log's unfolded tail)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/analytics?timeRange=24h",
                                     headers={"Authorization": f"Bearer {READ_TOKEN}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as answer:
        answer.read()
    return time.perf_counter() - started


def run_scenario(wrk: str, scenario: Scenario, seconds: float, warmup: float,
                 connections: int) -> Outcome:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tracker-bench-") as temp:
        data_dir = Path(temp) / "data"
        process = start_server(scenario, port, data_dir)
        try:
            if scenario.web:
                check_code(scenario, port)
            warm = run_wrk(wrk, port, scenario.events, warmup, connections, scenario.web,
                           scenario.headers)
            cpu_before, split_before = cpu_seconds(process.pid), cpu_split(process.pid)
            measured = run_wrk(wrk, port, scenario.events, seconds, connections, scenario.web,
                               scenario.headers)
            cpu = cpu_seconds(process.pid) - cpu_before
            split = [after - before for after, before in zip(cpu_split(process.pid), split_before)]
            wait = analytics_seconds(port) if scenario.target == "tracker" else 0.0
            measured["seconds"] += wait
            rss = [round(peak_rss_mb(pid), 1) for pid in worker_pids(process)]
        finally:
            stop(process)
        stored = stored_movements(data_dir) if scenario.target == "tracker" else None
    acknowledged = warm["acknowledged"] + measured["acknowledged"]
    return Outcome(
        scenario=scenario.name, workers=scenario.workers, sync=scenario.sync,
        events_per_request=scenario.events,
        requests_per_s=round(measured["requests"] / measured["seconds"], 1),
        events_per_s=round(measured["acknowledged"] / measured["seconds"], 1),
        p50_ms=round(measured["p50_ms"], 2), p99_ms=round(measured["p99_ms"], 2),
        non_2xx=measured["non2xx"], socket_errors=measured["socket_errors"],
        analytics_wait_ms=round(wait * 1000, 1) if scenario.target == "tracker" else None,
        cpu_us_per_request=round(cpu / max(measured["requests"], 1) * 1e6, 1),
        cpu_split_us=(tuple(round(part / max(measured["requests"], 1) * 1e6, 1) for part in split)
                      if scenario.workers == 1 and scenario.target == "tracker" else None),
        peak_rss_mb_per_worker=rss, acknowledged=acknowledged, stored=stored)


def of_ceiling(outcome: Outcome, outcomes: list[Outcome]) -> str:
    """The tracker's events/s as a share of the bare ceiling's, same request size and workers."""
    ceiling = next((o for o in outcomes if o.scenario.startswith("ceiling")
                    and o.events_per_request == outcome.events_per_request
                    and o.workers == outcome.workers), None)
    if ceiling is None or outcome.scenario.startswith("ceiling") or not ceiling.events_per_s:
        return "-"
    return f"{outcome.events_per_s / ceiling.events_per_s:.2f}"


def print_table(outcomes: list[Outcome]) -> None:
    header = (f"{'scenario':<16} {'workers':>7} {'sync':>6} {'req/s':>9} {'events/s':>10} {'of ceil':>7} "
              f"{'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'fold wait ms':>12} {'RSS MB/worker':>14} {'acked':>9} {'stored':>9}")
    print(header)
    print("-" * len(header))
    for o in outcomes:
        rss = "/".join(f"{r:.0f}" for r in o.peak_rss_mb_per_worker)
        stored = "-" if o.stored is None else str(o.stored)
        print(f"{o.scenario:<16} {o.workers:>7} {o.sync:>6} {o.requests_per_s:>9,.0f} "
              f"{o.events_per_s:>10,.0f} {of_ceiling(o, outcomes):>7} {o.p50_ms:>8.2f} {o.p99_ms:>8.2f} {o.non_2xx:>8} "
              f"{'-' if o.analytics_wait_ms is None else f'{o.analytics_wait_ms:.0f}':>12} "
              f"{rss:>14} {o.acknowledged:>9} {stored:>9}")


def machine() -> dict:
    memory = next(text for text in Path("/proc/meminfo").read_text().splitlines()
                  if text.startswith("MemTotal"))
    return {"cores": os.cpu_count(), "memory_gib": round(int(memory.split()[1]) / 2**20, 1),
            "python": sys.version.split()[0], "sqlite": apsw.sqlite_lib_version()}


def ingest_matrix(args: argparse.Namespace) -> int:
    wrk = ensure_wrk()
    outcomes = []
    for scenario in matrix():
        if args.only and args.only not in scenario.name:
            continue
        print(f"running {scenario.name}, {scenario.workers} worker(s), sync {scenario.sync}...",
              file=sys.stderr, flush=True)
        outcomes.append(run_scenario(wrk, scenario, args.seconds, args.warmup, args.connections))
    print_table(outcomes)
    lost = [o for o in outcomes if o.stored is not None and o.stored < o.acknowledged]
    RESULTS.mkdir(exist_ok=True)
    report = {"machine": machine(), "seconds": args.seconds, "connections": args.connections,
              "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "results": [asdict(o) for o in outcomes]}
    out = RESULTS / "bench.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nmachine: {report['machine']}; written to {out}")
    if lost:
        print(f"ACKNOWLEDGED EVENTS MISSING in: {[o.scenario for o in lost]}")
        return 1
    return 0


def status_of(port: int, path: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                     headers={"Authorization": f"Bearer {READ_TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def check_code(scenario: Scenario, port: int) -> None:
    """The server runs the code meant: GET /stats exists in this tree, not before web analytics."""
    status = status_of(port, "/stats?timeRange=1h")
    expected = 404 if scenario.tree is not None else 200
    if status != expected:
        raise RuntimeError(f"GET /stats answered {status}, not {expected}: the server on port "
                           f"{port} does not run the code of {scenario.tree or 'this tree'}")


def imported_from(tree: Path) -> Path:
    """Where `tracker` comes from for this interpreter with PYTHONPATH and cwd set to `tree`."""
    found = subprocess.run([sys.executable, "-c", "import tracker; print(tracker.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(tree)}, cwd=tree,
                           capture_output=True, text=True, check=True)
    return Path(found.stdout.strip())


def enrichment(args: argparse.Namespace) -> int:
    """Batches with browsers' headers: this tree (context, visits) against a baseline tree from
    before web analytics, or against this tree sent the same bodies without the headers."""
    args.events, args.web = 50, True
    return compare_trees(args, this_side="enriched")


def compare_trees(args: argparse.Namespace, this_side: str = "this tree") -> int:
    """One scenario, this tree against the baseline tree (or, for `enrich` without one, against
    itself without browsers' headers), in rounds of the same length, the order alternating
    (ABBA)."""
    wrk = ensure_wrk()
    label = f"{'batch' + str(args.events) if args.events > 1 else 'single'}{' web' if args.web else ''}"
    if args.baseline is None:
        baseline = Path(__file__).resolve().parent.parent
        commit = "this tree, no User-Agent or address"
        other = Scenario(f"tracker {label} no headers", "tracker", args.events, args.workers,
                         args.sync, web=args.web, headers=False)
    else:
        baseline = args.baseline.resolve()
        if not imported_from(baseline).is_relative_to(baseline):
            raise SystemExit(f"with PYTHONPATH={baseline} tracker is imported from "
                             f"{imported_from(baseline)}: is {baseline} a source tree?")
        commit = subprocess.run(["git", "-C", str(baseline), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip() or baseline.name
        other = Scenario(f"baseline {commit} {label}", "tracker", args.events, args.workers,
                         args.sync, tree=baseline, web=args.web)
    sides = {
        this_side: Scenario(f"tracker {label}", "tracker", args.events, args.workers, args.sync,
                            web=args.web),
        "baseline": other,
    }
    if args.ceiling:
        sides[CEILING] = Scenario(f"ceiling {label}", "ceiling", args.events, args.workers)
    runs: list[tuple[int, str, Outcome]] = []
    for round_ in range(1, args.rounds + 1):
        for side in round_order(list(sides), round_):
            print(f"round {round_}: {side} ({sides[side].name}, {args.workers} worker(s), "
                  f"sync {args.sync}, {args.seconds:.0f} s)...", file=sys.stderr, flush=True)
            runs.append((round_, side, run_scenario(wrk, sides[side], args.seconds, args.warmup,
                                                    args.connections)))
    print(f"{label}, {args.events} event(s) a request; {args.workers} worker(s), sync {args.sync}, "
          f"{args.connections} connections, {args.seconds:.0f} s a run; baseline {baseline} ({commit})\n")
    print_runs(runs)
    trackers = [side for side in sides if side != CEILING]
    for figure, unit in (("events_per_s", "events/s"), ("cpu_us_per_request", "CPU µs/request")):
        means = {side: statistics.mean(getattr(o, figure) for _r, s, o in runs if s == side)
                 for side in trackers}
        per_round = [getattr(side_of(runs, round_, this_side), figure)
                     / getattr(side_of(runs, round_, "baseline"), figure)
                     for round_ in range(1, args.rounds + 1)]
        print(f"\nmean {unit}: {this_side} {means[this_side]:,.1f}, baseline "
              f"{means['baseline']:,.1f}; ratio {this_side}/baseline "
              f"{means[this_side] / means['baseline']:.3f}, median of the rounds' ratios "
              f"{statistics.median(per_round):.3f}")
        print("ratio per round: " + ", ".join(f"{ratio:.3f}" for ratio in per_round))
    if args.ceiling:
        print_ceiling_shares(runs, trackers, args.rounds)
    lost = [(r, s) for r, s, o in runs if o.stored is not None and o.stored < o.acknowledged]
    if lost:
        print(f"ACKNOWLEDGED EVENTS MISSING in: {lost}")
        return 1
    print("acknowledged events missing: none (stored >= acked in every tracker run)")
    return 0


def round_order(sides: list[str], round_: int) -> list[str]:
    """Two sides alternate (ABBA); three take turns at going first, and reverse every other
    round, so that drift on a shared machine falls on each alike."""
    shift = (round_ - 1) // 2 % len(sides) if len(sides) > 2 else 0
    turned = sides[shift:] + sides[:shift]
    return turned if round_ % 2 else list(reversed(turned))


def print_runs(runs: list[tuple[int, str, Outcome]]) -> None:
    print("| round | side | events/s | req/s | CPU µs/req | loop / threads / folding | p50 ms | p99 ms "
          "| non-2xx | fold wait ms | acked | stored |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for round_, side, o in runs:
        wait = "-" if o.analytics_wait_ms is None else f"{o.analytics_wait_ms:.0f}"
        stored = "-" if o.stored is None else o.stored
        split = "-" if o.cpu_split_us is None else " / ".join(f"{part:.0f}" for part in o.cpu_split_us)
        print(f"| {round_} | {side} | {o.events_per_s:,.0f} | {o.requests_per_s:,.0f} | "
              f"{o.cpu_us_per_request:,.0f} | {split} | {o.p50_ms:.2f} | {o.p99_ms:.2f} | "
              f"{o.non_2xx} | {wait} | {o.acknowledged} | {stored} |")


def print_ceiling_shares(runs: list[tuple[int, str, Outcome]], trackers: list[str],
                         rounds: int) -> None:
    """Each tracker side's events/s as a share of the bare ceiling's in the same round."""
    print("\nshare of the bare ceiling (events/s over the ceiling's of the same round):")
    for side in trackers:
        shares = [side_of(runs, round_, side).events_per_s / side_of(runs, round_, CEILING).events_per_s
                  for round_ in range(1, rounds + 1)]
        print(f"  {side}: mean {statistics.mean(shares):.3f}, median {statistics.median(shares):.3f}; "
              f"per round " + ", ".join(f"{share:.3f}" for share in shares))


def side_of(runs: list[tuple[int, str, Outcome]], round_: int, side: str) -> Outcome:
    return next(o for r, s, o in runs if r == round_ and s == side)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15, help="measured time per scenario")
    parser.add_argument("--warmup", type=float, default=3, help="warm-up time per scenario")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--only", help="run only scenarios whose name contains this")
    sub = parser.add_subparsers(dest="mode")
    growth_parser = sub.add_parser("growth", help="ingest many movements through the store, rate per million")
    growth_parser.add_argument("--movements", type=int, default=10_000_000)
    growth_parser.add_argument("--batch", type=int, default=50)
    growth_parser.add_argument("--shards", type=int, default=16)
    growth_parser.add_argument("--step", type=int, default=1_000_000,
                               help="movements timed together (a million: the issue's rows)")
    growth_parser.add_argument("--users", type=int, default=100_000, help="random users sending them")
    enrich_parser = sub.add_parser("enrich", help="batches with browsers' headers, this tree against "
                                                  "a baseline tree, alternating rounds")
    compare_parser = sub.add_parser("compare", help="one scenario, this tree against a baseline "
                                                    "tree, alternating rounds")
    compare_parser.add_argument("--events", type=int, default=1, help="events a request")
    compare_parser.add_argument("--web", action="store_true", help="browsers' headers (WEB=1)")
    enrich_parser.add_argument("--baseline", type=Path,
                               help="source tree to compare with (e.g. the commit before web "
                                    "analytics); without it, this tree without browsers' headers")
    compare_parser.add_argument("--baseline", type=Path, required=True,
                                help="source tree to compare with, e.g. made by `git archive "
                                     "main | tar -x -C /tmp/baseline`")
    for tree_parser in (enrich_parser, compare_parser):
        tree_parser.add_argument("--rounds", type=int, default=4)
        tree_parser.add_argument("--workers", type=int, default=1)
        tree_parser.add_argument("--sync", choices=("full", "normal"), default="full")
        tree_parser.add_argument("--ceiling", action="store_true",
                                 help="run the bare ceiling in every round too, and print each "
                                      "side's share of it")
    args = parser.parse_args()
    if args.mode == "growth":
        from growth import run_growth
        return run_growth(args.movements, args.batch, args.shards, args.step, args.users)
    if args.mode == "enrich":
        return enrichment(args)
    if args.mode == "compare":
        return compare_trees(args)
    return ingest_matrix(args)


if __name__ == "__main__":
    sys.exit(main())
