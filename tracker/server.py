"""Running the service under uvicorn, with one worker or several."""

from __future__ import annotations

import http.client
import multiprocessing
import os
import signal
import sys
import threading
import time
from functools import partial

import uvicorn

from tracker.config import Config
from tracker.http_guard import GuardedConfig, Limits
from tracker.ingest.apply import applier
from tracker.ops import multiproc, parent_death
from tracker.ops.metrics import Metrics, NoMetrics
from tracker.storage import connections, folding_process, log, registry
from tracker.storage.folding_process import advance_rows
from tracker.storage.lock import hold_shared, release
from tracker.storage.log import LogFile
from tracker.storage.registry import RegistryFile
from tracker.storage.shards import ShardFiles

# A fold takes well under this; the folding process is killed past it.
FOLDER_STOP_SECONDS = 30
ANNOUNCE_TRIES = 1200  # two minutes of start-up, then it says nothing

APP = "tracker.app:create_app"


class Server(uvicorn.Server):
    """uvicorn's server, except that a clean stop on SIGTERM or SIGINT exits 0.

    uvicorn re-raises a caught signal after its graceful shutdown, so the
    process would otherwise end by the signal even though every accepted
    event was committed.
    """

    def handle_exit(self, sig: int, frame: object) -> None:
        super().handle_exit(sig, frame)  # type: ignore[arg-type]
        self._captured_signals.clear()


class Supervisor(uvicorn.supervisors.Multiprocess):
    """uvicorn's supervisor, which also tells the metrics when a worker is gone for good."""

    def keep_subprocess_alive(self) -> None:
        self._forget_replaced(super().keep_subprocess_alive)

    def handle_signals(self) -> None:
        self._forget_replaced(super().handle_signals)

    def _forget_replaced(self, step) -> None:
        before = {process.pid for process in self.processes}
        step()
        for pid in before - {process.pid for process in self.processes}:
            if pid is not None:
                multiproc.forget_worker(pid)


def run(config: Config, token_source: str = "TRACKER_READ_TOKEN") -> None:
    """Serve until stopped, with the folding process beside the workers (a cluster node folds
    the stream in its one worker: tracker/cluster/folding.py)."""
    announce_when_serving(config, token_source)
    if config.clustered:
        serve(config)
        return
    folding = FoldingProcess(config)
    os.environ[folding_process.ENV] = "1"  # the workers inherit it: they leave folding to that process
    if config.workers > 1:  # they stop with this process, however it ends
        os.environ[parent_death.SUPERVISOR_ENV] = str(os.getpid())
    try:
        serve(config)
    finally:
        folding.stop()


def serve(config: Config) -> None:
    uv_config = GuardedConfig(
        APP,
        limits=Limits.of(config),
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        loop="uvloop",
        lifespan="on",
        access_log=False,  # tracker's own access log: TRACKER_ACCESS_LOG
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    if config.workers == 1:
        Server(uv_config).run()
    else:
        # uvicorn's supervisor terminates the workers on SIGTERM and waits
        # for each to finish its lifespan shutdown, then returns normally.
        sock = uv_config.bind_socket()
        Supervisor(uv_config, sockets=[sock]).run()


def announce_when_serving(config: Config, token_source: str) -> None:
    """Print the dashboard's address and where the admin token is, once a worker answers
    /healthz: an address printed earlier would be refused if opened at once."""
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    shown = f"[{host}]" if ":" in host else host
    token = ("admin token: the value of TRACKER_READ_TOKEN" if token_source == "TRACKER_READ_TOKEN"
             else f"admin token in {token_source}")

    def wait_and_print() -> None:
        for _ in range(ANNOUNCE_TRIES):
            try:
                connection = http.client.HTTPConnection(host, config.port, timeout=1)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    print(f"INFO:     tracker: dashboard at http://{shown}:{config.port}/ ({token})",
                          file=sys.stderr, flush=True)
                    return
            except OSError:
                pass
            finally:
                connection.close()
            time.sleep(0.1)

    threading.Thread(target=wait_and_print, name="announce", daemon=True).start()


class FoldingProcess:
    """The folding process, started again whenever it dies, until stopped."""

    def __init__(self, config: Config):
        self._config = config
        self._stopping = threading.Event()
        self._process = self._start()
        self._watch = threading.Thread(target=self._keep_alive, name="folder-watch", daemon=True)
        self._watch.start()

    def _start(self) -> multiprocessing.process.BaseProcess:
        process = multiprocessing.get_context("spawn").Process(
            target=fold_forever, args=(self._config, os.getpid()), name="tracker-folder")
        process.start()
        return process

    def _keep_alive(self) -> None:
        while not self._stopping.wait(1.0):
            if not self._process.is_alive():
                if self._process.pid is not None:  # always, once started
                    multiproc.forget_worker(self._process.pid)
                self._process = self._start()

    def stop(self) -> None:
        """Ask it to stop after the fold under way, and wait for it."""
        self._stopping.set()
        self._watch.join()
        self._process.terminate()  # SIGTERM
        self._process.join(FOLDER_STOP_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


class StopFlag:
    """Raised by a signal handler. A plain attribute, no lock: a handler that takes one
    (threading.Event.set does) deadlocks when another signal interrupts it there, and a
    parent's death sends SIGTERM once for each of the parent's threads that exits."""

    def __init__(self) -> None:
        self.raised = False

    def raise_(self, signum: int, frame: object) -> None:
        self.raised = True

    def is_raised(self) -> bool:
        return self.raised


def fold_forever(config: Config, server_pid: int) -> None:
    """The folding process: fold due shards until SIGTERM or until the server is gone."""
    stop = StopFlag()
    signal.signal(signal.SIGTERM, stop.raise_)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which stops us
    parent_death.stop_with_parent(server_pid)
    metrics_lock = multiproc.use()
    connections.limit_memory(connections.FOLDING_MEMORY_MIB)
    service_lock = hold_shared(config.data_dir)
    metrics = Metrics(config.shards) if multiproc.directory() is not None else NoMetrics()
    sites = RegistryFile(registry.path_in(config.data_dir), config.sync)
    files = ShardFiles(config.data_dir, config.shards, config.sync)
    worker = folding_process.Folder(partial(files.live, sites),
                                    LogFile(log.path_in(config.data_dir), config.sync),
                                    applier(config.session_ttl_seconds), on_fold=metrics.folded,
                                    advance_rows=advance_rows(config.max_backlog))
    try:
        folding_process.run_until_stopped(worker, stop.is_raised, server_pid)
    finally:
        worker.close()
        files.close()
        sites.close()
        release(service_lock)
        multiproc.leave(metrics_lock, parent_death.orphaned(server_pid))
