"""`python -m gateway`: serve the gateway with uvicorn.

With LIAISON_GATEWAY_WORKERS=1 this process serves, with the app built here.
With N > 1 it is uvicorn's supervisor (`uvicorn.supervisors.Multiprocess`):
it binds the port, spawns N worker processes that accept on that one socket,
each building its app from the environment (`worker_app`), replaces a worker
that dies or leaves its ping unanswered for
LIAISON_GATEWAY_WORKER_TIMEOUT_SECONDS (a thread of the worker answers it: a
frozen process misses it, a busy event loop does not), and on SIGTERM or
SIGINT stops them all. A worker finishes what it is answering for at most
GRACEFUL_SHUTDOWN_SECONDS, then closes its connections and its clients.
Workers are spawned, not forked: grpcio's and the broker client's threads
never cross a fork.

Each worker is a whole gateway: its own public directory (a snapshot, and
its own exclusive queue on registry.events), its own gRPC channels, its own
`/readyz` (a probe reaches one worker), and, without Redis, its own
in-memory rate-limit counts. Metrics are shared: the supervisor points
PROMETHEUS_MULTIPROC_DIR at a directory of this run before it starts the
workers, so `/metrics` in any worker answers for all of them
(gateway.observability), and it removes the live gauges of each worker it
reaps, so a dead worker's directory age and version drop out while its
counters stay in the totals. The directory is PROMETHEUS_MULTIPROC_DIR when
that is set (the chart mounts an emptyDir there; it must be this gateway's
own), emptied of an earlier run's files at start; else a new private
temporary directory, removed at the end. A single process given
PROMETHEUS_MULTIPROC_DIR keeps its metrics there too, and empties it first
likewise.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import uvicorn
from prometheus_client import multiprocess
from uvicorn.supervisors import Multiprocess

from gateway.config import GatewaySettings
from gateway.observability import MULTIPROC_DIR_ENV, configure_logging
from kit.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

# A worker's graceful stop: the pod's 30 s grace period (charts/) less the 5 s
# preStop pause, with room for the lifespan's own shutdown.
GRACEFUL_SHUTDOWN_SECONDS = 20
# prctl(2): be sent a signal when the process that started this one ends.
_PR_SET_PDEATHSIG = 1


class _ServerOptions(TypedDict):
    host: str
    port: int
    log_config: None
    proxy_headers: bool
    timeout_graceful_shutdown: int


def _server_options(settings: GatewaySettings) -> _ServerOptions:
    return _ServerOptions(
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep the JSON logging configured in each process
        # The app reads X-Forwarded-For itself, from LIAISON_GATEWAY_TRUSTED_PROXIES
        # only; uvicorn's own default would trust any local peer.
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def _configure_logging() -> None:
    configure_logging(Settings.load("gateway", "gateway"))


def main() -> None:
    settings = GatewaySettings.load()
    _configure_logging()
    if settings.workers == 1 and not os.environ.get(MULTIPROC_DIR_ENV):
        _serve_alone(settings)
        return
    # Refuse bad settings once, here, rather than in every worker.
    settings.validate()
    with metrics_directory() as path:
        if settings.workers == 1:
            # One process, its metrics in the directory given (prometheus-client
            # saw it when imported), emptied of an earlier run's first.
            _serve_alone(settings)
            return
        os.environ[MULTIPROC_DIR_ENV] = path
        config = uvicorn.Config(
            f"{__name__}:worker_app",
            factory=True,
            workers=settings.workers,
            timeout_worker_healthcheck=settings.worker_timeout_seconds,
            **_server_options(settings),
        )
        sockets = [config.bind_socket()]
        Supervisor(config, sockets, metrics_dir=path).run()


def _serve_alone(settings: GatewaySettings) -> None:
    from gateway.app import create_app

    uvicorn.run(create_app(settings), **_server_options(settings))


def worker_app() -> FastAPI:
    """The app of one worker process (uvicorn's factory, in the worker)."""
    _end_with_the_supervisor()
    _configure_logging()
    from gateway.app import create_app

    return create_app(GatewaySettings.load())


def _end_with_the_supervisor() -> None:
    """Ask Linux for SIGTERM when the supervisor ends, however it ends: a
    supervisor killed outright must not leave its workers serving."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.contextmanager
def metrics_directory() -> Iterator[str]:
    """Where the workers keep their metrics for this run (see the module's
    docstring)."""
    given = os.environ.get(MULTIPROC_DIR_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield str(path)
        return
    created = tempfile.mkdtemp(prefix="liaison-gateway-metrics-")
    try:
        yield created
    finally:
        shutil.rmtree(created, ignore_errors=True)


class Supervisor(Multiprocess):
    """uvicorn's supervisor, which also removes the live gauges of every
    worker it has reaped: one that died and was replaced, or one retired by
    a restart (SIGHUP) or by SIGTTOU."""

    def __init__(
        self, config: uvicorn.Config, sockets: list[socket.socket], *, metrics_dir: str
    ) -> None:
        super().__init__(config, sockets)
        self.metrics_dir = metrics_dir

    @contextlib.contextmanager
    def _forgetting_reaped(self) -> Iterator[None]:
        before = {process.pid for process in self.processes}
        try:
            yield
        finally:
            gone = before - {process.pid for process in self.processes}
            for pid in gone:
                if pid is not None:
                    multiprocess.mark_process_dead(pid, self.metrics_dir)

    def keep_subprocess_alive(self) -> None:
        with self._forgetting_reaped():
            super().keep_subprocess_alive()

    def handle_signals(self) -> None:
        with self._forgetting_reaped():
            super().handle_signals()


if __name__ == "__main__":
    main()
