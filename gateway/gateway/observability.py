"""Metrics, logs and the request-id middleware.

Each app gets its own Prometheus registry so that several apps (tests, or an
embedded run) never collide on metric names.

A gateway of several worker processes (gateway.cli) shares its metrics
through prometheus-client's multiprocess mode: the supervisor sets
PROMETHEUS_MULTIPROC_DIR before it starts the workers, each worker's values
(the app's and kit's gRPC client metrics alike) live in files there, and
`/metrics` in any worker sums every worker's counters and histograms
(`GatewayMetrics.exposition`). A gauge says how it is aggregated by its
`multiprocess_mode`; a value only the process knows at scrape time (the
directory's age) is set by a refresher, on each scrape and every
REFRESH_SECONDS, since `set_function` is not seen by the other workers.
Per-process collectors (`process_*`, `python_gc_*`) are not exported then:
they would describe whichever worker answered the scrape.

What constituents type (an address to find their station, names in a body)
never reaches a log line: the access log names the route template, not the
URL, and an unhandled error is logged by its type and stack frames, without
its message, which may quote a request value.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
import traceback
import uuid
from collections.abc import Callable

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit import logging as kit_logging
from kit.settings import Settings

REQUEST_ID_HEADER = "x-request-id"
# Accept a caller's request id only if it is safe to log and echo.
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
UNMATCHED_ROUTE = "<unmatched>"

access_log = logging.getLogger("gateway.access")

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# How often a worker writes the values only it knows (the directory's age)
# where the other workers' scrapes read them.
REFRESH_SECONDS = 1.0


def multiprocess_dir() -> str | None:
    """The directory this process's metrics are kept in, shared with the
    gateway's other workers; None when they are in its memory only.

    prometheus-client chooses when it is imported: a process that imported it
    before PROMETHEUS_MULTIPROC_DIR was set keeps its values to itself.
    """
    if values.ValueClass is values.MutexValue:
        return None
    return os.environ.get(MULTIPROC_DIR_ENV) or None


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._refreshers: list[Callable[[], None]] = []
        self.workers = Gauge(
            "liaison_gateway_workers",
            "Worker processes serving this gateway's port (1 without workers).",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.workers.set(1)
        self.http_requests = Counter(
            "liaison_gateway_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "liaison_gateway_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ["route", "method"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "liaison_gateway_rate_limited",
            "Requests refused with 429, by kind (read or write).",
            ["kind"],
            registry=self.registry,
        )
        self.rate_limit_storage_errors = Counter(
            "liaison_gateway_rate_limit_storage_errors",
            "Rate-limit checks that could not reach the shared store and were counted locally.",
            registry=self.registry,
        )

    def refresh(self, refresher: Callable[[], None]) -> None:
        """Run `refresher` before every exposition (and, in a worker, every
        REFRESH_SECONDS: see `keep_refreshed`)."""
        self._refreshers.append(refresher)

    def _refresh(self) -> None:
        for refresher in self._refreshers:
            refresher()

    async def keep_refreshed(self) -> None:
        """While the workers share their metrics, write this worker's own
        values every REFRESH_SECONDS, where the others' scrapes read them;
        returns at once otherwise."""
        if multiprocess_dir() is None:
            return
        while True:
            self._refresh()
            await asyncio.sleep(REFRESH_SECONDS)

    def exposition(self) -> bytes:
        """The text `/metrics` answers: this app's metrics and the process's
        (kit's gRPC client metrics, the process collectors). With workers,
        those of every worker: counters and histograms summed over all that
        served since the gateway started, gauges over the live ones as their
        `multiprocess_mode` says."""
        self._refresh()
        path = multiprocess_dir()
        if path is None:
            return generate_latest(self.registry) + generate_latest(REGISTRY)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=path)
        return generate_latest(registry)


def configure_logging(settings: Settings) -> None:
    """The platform's JSON log lines (kit.logging), without uvicorn's own
    access log, which would duplicate the gateway's request line."""
    kit_logging.configure_logging(settings)
    logging.getLogger("uvicorn.access").disabled = True


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER.encode():
            candidate = value.decode("latin-1").strip()
            if _REQUEST_ID_RE.match(candidate):
                return candidate
    return str(uuid.uuid4())


class RequestContextMiddleware:
    """Request id, metrics and the access log line for every HTTP request.

    A pure ASGI middleware (not BaseHTTPMiddleware) so streaming bodies and
    background tasks are untouched. It also answers unhandled exceptions with a
    problem, so even a bug carries the request id.
    """

    def __init__(self, app: ASGIApp, metrics: GatewayMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            # Every log line written while handling the request carries its id.
            with kit_logging.correlation_scope(request_id):
                await self.app(scope, receive, send_with_id)
        except Exception as exc:
            access_log.error(
                "unhandled error: %s",
                type(exc).__name__,
                extra={
                    "request_id": request_id,
                    "correlation_id": request_id,
                    "error_type": type(exc).__name__,
                    "stack": _stack_without_values(exc),
                },
            )
            # Not re-raised: the server would log it again, message and all.
            if not response_started:
                status = 500
                await _send_internal_error(scope, request_id, send_with_id)
        finally:
            duration = time.perf_counter() - started
            route = scope.get("route")
            # The template as OpenAPI writes it, without convertors.
            template = getattr(route, "path_format", None) or UNMATCHED_ROUTE
            method = scope.get("method", "")
            self.metrics.http_requests.labels(template, method, str(status)).inc()
            self.metrics.http_latency.labels(template, method).observe(duration)
            access_log.info(
                "%s %s %s",
                method,
                template,
                status,
                extra={
                    "request_id": request_id,
                    "correlation_id": request_id,
                    "method": method,
                    "route": template,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                },
            )


def _stack_without_values(exc: BaseException) -> str:
    """Where an exception came from (file, line, code), not what it said."""
    frames = traceback.extract_tb(exc.__traceback__)
    return "".join(traceback.format_list(frames))


async def _send_internal_error(scope: Scope, request_id: str, send: Send) -> None:
    body = json.dumps(
        {
            "type": "/problems/internal-error",
            "title": "Internal error",
            "status": 500,
            "instance": scope.get("path", ""),
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
