"""Fixtures: a fresh data directory, the in-process app, and the real service in a subprocess."""

from __future__ import annotations

import compileall
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

import tracker
from helpers import PEER, PROXY, TOKEN, free_port, http_client, now_ms, service_env
from tracker.app import create_app
from tracker.config import Config

# The fixtures that start `tracker serve` in a subprocess.
SERVICE_FIXTURES = {"tracker_server", "module_tracker_server", "demo_service"}


def pytest_configure(config: pytest.Config) -> None:
    """Compile tracker's modules once, in the controlling process.

    Every test that starts the service starts two interpreters (the server and
    its folding process) that import tracker. Where PYTHONDONTWRITEBYTECODE is
    set, nothing would ever write their bytecode, and each would compile
    every module from source again.
    """
    if not hasattr(config, "workerinput"):  # not a pytest-xdist worker
        compileall.compile_dir(Path(tracker.__file__).parent, quiet=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the tests that start the service in a subprocess `service` (make test-fast leaves
    them out). Modules holding slow tests run first: under `make test`'s workers, which take a
    module at a time, the longest modules then start at once instead of being the last to finish."""
    for item in items:
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.service)
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


@pytest.fixture
def now() -> int:
    """A timestamp taken once per test, so that the test and its fixtures agree on it."""
    return now_ms()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def make_client(data_dir: Path) -> Iterator:
    """Factory for the in-process app (lifespan run), with settings overridable per test."""
    clients: list[TestClient] = []

    def make(peer: str = "testclient", **overrides: str) -> TestClient:
        config = Config.from_env(service_env(data_dir, **overrides))
        client = TestClient(create_app(config), headers={"Authorization": f"Bearer {TOKEN}"},
                            client=(peer, 50000))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()


@pytest.fixture(scope="module")
def table_client(tmp_path_factory) -> Iterator[TestClient]:
    """One service for a module's table of rules (tests/rule_table.py): no row depends on what
    another stored."""
    config = Config.from_env(service_env(tmp_path_factory.mktemp("table") / "data"))
    with TestClient(create_app(config), headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


@dataclass
class LiveServer:
    """The real service in a subprocess on 127.0.0.1."""

    data_dir: Path
    env: dict[str, str]
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    token: str = TOKEN

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> LiveServer:
        command = [sys.executable, "-m", "tracker", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(self.workers)]
        env = {**os.environ, **self.env}
        self.log_path = self.data_dir.parent / f"server-{self.port}.log"
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with http_client(base_url=self.url, timeout=1) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"service exited {self.process.returncode}: {self.output()}")
                try:
                    if client.get("/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        raise RuntimeError(f"service did not start: {self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, **kwargs) -> httpx.Client:
        return http_client(base_url=self.url, headers={"Authorization": f"Bearer {self.token}"},
                            timeout=30, **kwargs)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send `sig` and wait for the exit status."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        finally:
            self.log.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@contextlib.contextmanager
def serving(data_dir: Path) -> Iterator[Callable[..., LiveServer]]:
    """A factory of services on `data_dir`, each stopped when the block ends."""
    servers: list[LiveServer] = []

    def start(workers: int = 1, port: int | None = None, **overrides: str) -> LiveServer:
        server = LiveServer(data_dir, service_env(data_dir, **overrides), workers,
                            **({"port": port} if port else {}))
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            try:
                server.stop(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


@pytest.fixture
def tracker_server(data_dir: Path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: `tracker_server(workers=2, TRACKER_X="..")` starts the service (on a free port
    unless `port` is given); stopped at test end."""
    with serving(data_dir) as start:
        yield start


@pytest.fixture(scope="module")
def module_tracker_server(tmp_path_factory) -> Iterator[Callable[..., LiveServer]]:
    """Like `tracker_server`, but the services last for the whole module: for tests that only
    read what the module stored, or write only data of their own (users no other test reads)."""
    with serving(tmp_path_factory.mktemp("module") / "data") as start:
        yield start


@pytest.fixture
def web_client(make_client) -> TestClient:
    """The in-process app, its client's address a trusted proxy (X-Forwarded-For names visitors)."""
    return make_client(peer=PEER, **PROXY)
