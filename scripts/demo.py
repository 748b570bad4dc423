"""`make demo`: a month of made-up traffic on two sites through the real service, then the
dashboard on it.

The first run fills a data directory of its own (`demo-data/` in the
repository unless `--data-dir` says otherwise): it starts `tracker serve` on
a free 127.0.0.1 port, sets up the sites of `demo_traffic.SITES` (a product
on the default site, given its domains, and its blog, with their goals and a
weekly email report of the product to its owner), posts every visit of
`demo_traffic.month()` to `POST /track` (one request per visit, with the
visitor's `User-Agent` and, as from a trusted proxy, its made-up address in
`X-Forwarded-For`), stops that service and records the data set in
`demo.json`. Filling happens in `<dir>.partial`, renamed once complete, so an
interrupted fill is started afresh next time. Later runs find `demo.json`
and skip the filling.

Then it starts `tracker serve` on 127.0.0.1 (port 8000 unless `--port`) and,
once it answers, prints the dashboard's address, read token, a link to each
site and how to see its email report; Ctrl-C stops it, and the next run can
start at once (the port check binds as uvicorn does, so the last run's
connections in TIME-WAIT do not block it).

Usage: .venv/bin/python scripts/demo.py [--data-dir D] [--port P] [--scale S] [--seed N]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_traffic  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT / "demo-data"
MARKER = "demo.json"
FILLING = "demo-filling"  # in <dir>.partial while a fill runs
TOKEN_FILE = "read-token"
POSTERS = 8
MAX_TRIES = 20
DAY_MS = 86_400_000
FUNNELS = {
    demo_traffic.PRODUCT: "step=page:/&step=page:/pricing&step=signup&step=purchase",
    demo_traffic.BLOG: "step=page_view&step=page:/subscribe&step=subscribe",
}


class DemoError(Exception):
    """The demo cannot go on; the message says why and what to do."""


def service_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """This environment without the caller's TRACKER_* settings, plus the demo's own."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TRACKER_")}
    return {**env, "TRACKER_DATA_DIR": str(data_dir), **settings}


def serve_command(port: int) -> list[str]:
    return [sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1", "--port", str(port)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether `tracker serve` could bind the port: with SO_REUSEADDR, as uvicorn binds, so that
    the connections of a demo stopped a moment ago (in TIME-WAIT) do not count."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Service:
    """`tracker serve` in a subprocess on 127.0.0.1, for a `with` block that always stops it."""

    def __init__(self, data_dir: Path, port: int | None = None, **settings: str) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = service_env(data_dir, **settings)
        self.log = tempfile.TemporaryFile()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Service:
        self.process = subprocess.Popen(serve_command(self.port), env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DemoError(f"tracker serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if get_status(self.port, "/healthz") == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise DemoError(f"tracker serve did not answer within {timeout:.0f} s:\n{self.output()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM (the service finishes and commits what it accepted), SIGKILL if it hangs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.log.close()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]


def get_status(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def set_up_sites(service: Service) -> None:
    """Give the default site the product's domains, add the blog, each site's goals and the
    product's weekly report to its owner (admin token)."""
    requests = [("PATCH", f"/sites/{demo_traffic.PRODUCT}", demo_traffic.SITES[demo_traffic.PRODUCT]),
                ("POST", "/sites", {"id": demo_traffic.BLOG, **demo_traffic.SITES[demo_traffic.BLOG]})]
    requests += [("POST", f"/sites/{site}/goals", goal)
                 for site, goals in demo_traffic.GOALS.items() for goal in goals]
    requests.append(("POST", f"/sites/{demo_traffic.PRODUCT}/reports",
                     {"email": demo_traffic.REPORT_TO, "every": "week"}))
    token = read_token(service.data_dir)
    for method, path, body in requests:
        connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
        try:
            connection.request(method, path, json.dumps(body),
                               {"Authorization": f"Bearer {token}",
                                "Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
        finally:
            connection.close()
        if response.status not in (200, 201):
            raise DemoError(f"{method} {path} answered {response.status}: {answer[:300]!r}")


class Poster:
    """Posts visits to /track over keep-alive connections, one per thread, and counts them."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.local = threading.local()
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.posted = 0
        self.connections: list[http.client.HTTPConnection] = []

    def close(self) -> None:
        for connection in self.connections:
            connection.close()

    def post_visitor(self, visits: list[demo_traffic.Visit]) -> None:
        """A visitor's visits in time order: an anonymous visitor's sessions follow that order."""
        for visit in visits:
            if self.stopped.is_set():
                return
            self.post(visit)
            with self.lock:
                self.posted += len(visit.events)

    def post(self, visit: demo_traffic.Visit) -> None:
        body = json.dumps({"events": visit.events}).encode()
        headers = {"Content-Type": "application/json", "User-Agent": visit.user_agent,
                   "X-Forwarded-For": visit.address}
        for _ in range(MAX_TRIES):
            status, answer, retry_after = self.send(body, headers)
            if status == 200:
                return self.check(answer, len(visit.events))
            if status not in (None, 503):
                raise DemoError(f"POST /track answered {status}: {answer[:300]!r}")
            if not self.service.running():
                raise DemoError("tracker serve stopped in the middle of the fill")
            time.sleep(retry_after)
        raise DemoError(f"POST /track failed {MAX_TRIES} times in a row")

    def send(self, body: bytes, headers: dict) -> tuple[int | None, bytes, float]:
        """Status, body and how long to wait before a retry; status None when the connection failed
        (a retry is safe: every event has an eventId, so the service stores it once)."""
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self.local.connection = http.client.HTTPConnection(
                "127.0.0.1", self.service.port, timeout=30)
            with self.lock:
                self.connections.append(connection)
        try:
            connection.request("POST", "/track", body, headers)
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()  # the next request reconnects
            return None, b"", 0.2
        return response.status, answer, float(response.getheader("Retry-After") or 0.5)

    @staticmethod
    def check(answer: bytes, sent: int) -> None:
        counts = json.loads(answer)
        if counts["accepted"] != sent or counts["ignored"]:
            raise DemoError(f"POST /track stored less than it was sent: {counts}")


def post_month(service: Service, visitors: list[list[demo_traffic.Visit]], total: int) -> None:
    """Every visitor's visits, from POSTERS threads, with a progress line now and then."""
    poster = Poster(service)
    with contextlib.closing(poster), ThreadPoolExecutor(POSTERS) as pool:
        futures = [pool.submit(poster.post_visitor, visits) for visits in visitors]
        try:
            for done, future in enumerate(futures, 1):
                future.result()
                if done % max(1, len(futures) // 10) == 0:
                    print(f"  {poster.posted:,} of {total:,} movements", flush=True)
        except BaseException:
            poster.stopped.set()
            for future in futures:
                future.cancel()
            raise


@dataclass
class DataSet:
    """What a fill put in a data directory, as recorded in its marker file: per site, its
    visitors, how many of them signed in, their visits and movements."""

    seed: int
    scale: float
    sites: dict[str, dict[str, int]]
    filled_at: int
    seconds: float

    @classmethod
    def read(cls, data_dir: Path) -> DataSet | None:
        try:
            return cls(**json.loads((data_dir / MARKER).read_text()))
        except FileNotFoundError:
            return None
        except TypeError:
            raise DemoError(f"{data_dir} was filled by an older demo, of one site; delete it "
                            "for a fresh month of two sites") from None

    @property
    def movements(self) -> int:
        return sum(site["movements"] for site in self.sites.values())

    def write(self, data_dir: Path) -> None:
        (data_dir / MARKER).write_text(json.dumps(self.__dict__, indent=2) + "\n")


def fill(data_dir: Path, scale: float = 1.0, seed: int = 17) -> DataSet:
    """Fill `data_dir` (which must not exist) with a month of traffic through the real service."""
    partial = data_dir.with_name(data_dir.name + ".partial")
    clear_partial(partial)
    partial.mkdir(parents=True)
    (partial / FILLING).touch()
    started = time.monotonic()
    now = int(time.time() * 1000)
    by_site = demo_traffic.month(now, scale, seed)
    visitors = [visits for site_visitors in by_site.values() for visits in site_visitors]
    sites = {site: facts_of(site_visitors) for site, site_visitors in by_site.items()}
    total = sum(facts["movements"] for facts in sites.values())
    print(f"Filling {data_dir} with a month of made-up traffic on {len(sites)} sites: "
          f"{len(visitors):,} visitors, {total:,} movements", flush=True)
    with Service(partial, TRACKER_TRUSTED_PROXIES="127.0.0.1", TRACKER_RATE_LIMIT="0",
                 TRACKER_SYNC="normal") as service:
        set_up_sites(service)
        post_month(service, visitors, total)
    data_set = DataSet(seed, scale, sites, now, round(time.monotonic() - started, 1))
    (partial / FILLING).unlink()
    data_set.write(partial)
    partial.rename(data_dir)
    print(f"Filled in {data_set.seconds:.0f} s", flush=True)
    return data_set


def facts_of(visitors: list[list[demo_traffic.Visit]]) -> dict[str, int]:
    return {"visitors": len(visitors),
            "identified": sum(1 for visits in visitors if "userId" in visits[0].events[0]),
            "visits": sum(len(visits) for visits in visitors),
            "movements": sum(len(visit.events) for visits in visitors for visit in visits)}


def clear_partial(partial: Path) -> None:
    """Remove what an interrupted fill left, and nothing that is not one."""
    if not partial.exists():
        return
    if not (partial / FILLING).exists():
        raise DemoError(f"{partial} exists and is not an unfinished demo fill; move it away")
    shutil.rmtree(partial)


def ensure_filled(data_dir: Path, scale: float = 1.0, seed: int = 17) -> DataSet:
    """The data set in `data_dir`, filled first unless an earlier run did."""
    data_set = DataSet.read(data_dir)
    if data_set is not None:
        return data_set
    if data_dir.exists() and any(data_dir.iterdir()):
        raise DemoError(f"{data_dir} holds something other than the demo data set "
                        f"(no {MARKER}); choose another --data-dir")
    if data_dir.exists():
        data_dir.rmdir()
    return fill(data_dir, scale, seed)


def read_token(data_dir: Path) -> str:
    return (data_dir / TOKEN_FILE).read_text().strip()


def age_note(data_set: DataSet) -> str | None:
    days = (time.time() * 1000 - data_set.filled_at) // DAY_MS
    if days < 1:
        return None
    return (f"(The data set was made {days:.0f} days ago, so the last {days:.0f} days are empty: "
            "delete the directory for a fresh month.)")


def welcome(address: str, token: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[str]:
    """The dashboard's address and token, then each site with its funnel."""
    lines = [f"Dashboard: {address}/  token: {token}"]
    for site, setup in demo_traffic.SITES.items():
        lines += [f"  {setup['name']} (site {site}: {', '.join(setup['domains'])}): "
                  f"{address}/?site={site}&range=30d",
                  f"    its funnel: {address}/?site={site}&view=funnels&range=30d&{FUNNELS[site]}"]
    lines.append(f"The weekly report {demo_traffic.REPORT_TO} gets (sent when TRACKER_SMTP_URL is "
                 f"set): .venv/bin/tracker reports preview {demo_traffic.PRODUCT} "
                 f"--data-dir {shown_path(data_dir)}")
    return lines


def shown_path(path: Path) -> str:
    """`path` from the repository root when it is inside it (where `make demo` runs)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def serve(data_dir: Path, port: int) -> int:
    """`tracker serve` on the data set; the welcome once it answers; its exit status. Ctrl-C
    reaches it too (the same process group) and it stops; this waits for that."""
    service = subprocess.Popen(serve_command(port), env=service_env(data_dir),
                               stdin=subprocess.DEVNULL)
    try:
        for _ in range(600):  # a minute
            if service.poll() is not None:
                return service.returncode
            with contextlib.suppress(OSError):
                if get_status(port, "/healthz") == 200:
                    break
            time.sleep(0.1)
        print("\n".join(welcome(f"http://127.0.0.1:{port}", read_token(data_dir), data_dir)),
              flush=True)
        return service.wait()
    except KeyboardInterrupt:
        try:
            return service.wait(60)
        except subprocess.TimeoutExpired:
            service.kill()
            return service.wait()
    finally:
        if service.poll() is None:
            service.terminate()
            service.wait(60)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fill a demo data directory once, then serve it.")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="the demo's own data directory (default: demo-data/ in the repository)")
    parser.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="traffic relative to the default of about 33,000 movements")
    parser.add_argument("--seed", type=int, default=17, help="seed of the made-up traffic")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    data_dir = args.data_dir.resolve()
    try:
        data_set = ensure_filled(data_dir, args.scale, args.seed)
        if not port_is_free(args.port):
            raise DemoError(f"127.0.0.1:{args.port} is in use; choose another with --port")
    except DemoError as error:
        sys.exit(f"demo: {error}")
    except KeyboardInterrupt:
        sys.exit("demo: interrupted; the next run starts the fill afresh")
    if note := age_note(data_set):
        print(note)
    sys.exit(serve(data_dir, args.port))


if __name__ == "__main__":
    main()
