"""Running the service under uvicorn, with one worker or several."""

from __future__ import annotations

import uvicorn

from tracker.config import Config

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


def run(config: Config) -> None:
    uv_config = uvicorn.Config(
        APP,
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=config.access_log,
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
        uvicorn.supervisors.Multiprocess(uv_config, sockets=[sock]).run()
