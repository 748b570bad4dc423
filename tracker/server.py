"""Running the service under uvicorn, with one worker or several."""

from __future__ import annotations

import uvicorn

from tracker.ops import multiproc
from tracker.config import Config
from tracker.http_guard import GuardedConfig, Limits

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


def run(config: Config) -> None:
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
