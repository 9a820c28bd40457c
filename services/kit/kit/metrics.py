"""The platform's Prometheus metrics, all defined here, and their HTTP server.

gRPC metrics use the names and labels of go-grpc-prometheus
(`grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}`,
...), so stock Grafana dashboards and alert rules work unchanged. Event
metrics are the platform's own, prefixed `liaison_`.

Every object below is registered in prometheus-client's default registry and
named after the metric it exposes: `metrics.liaison_events_published_total
.labels(service="registry", type="deputy_registered").inc()`.

`start_metrics_server(port, health, ready)` serves `/metrics`, `/healthz` and
`/readyz` from a daemon thread. In an eventlet process (the nameko worker,
which monkey-patches before anything else is imported) it is started after
patching and still runs on a real OS thread with real sockets, taken from
`eventlet.patcher.original`, so a busy hub cannot stall scrapes; the health
and readiness checks themselves run in the hub (see `start_metrics_server`).
In a process without eventlet it uses the ordinary modules.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from types import ModuleType
from typing import Any

import grpc
import prometheus_client.metrics
import prometheus_client.registry
import prometheus_client.values
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

__all__ = [
    "grpc_code_label",
    "grpc_client_handled_total",
    "grpc_client_handling_seconds",
    "grpc_client_started_total",
    "grpc_server_handled_total",
    "grpc_server_handling_seconds",
    "grpc_server_started_total",
    "liaison_consumer_lag_messages",
    "liaison_event_latency_seconds",
    "liaison_events_consumed_total",
    "liaison_events_dead_lettered_total",
    "liaison_events_duplicate_total",
    "liaison_events_failed_total",
    "liaison_events_published_total",
    "liaison_outbox_backlog",
    "liaison_outbox_oldest_age_seconds",
    "start_metrics_server",
]

_log = logging.getLogger(__name__)


def _eventlet_patcher() -> Any:
    """eventlet.patcher when eventlet has monkey-patched threads, else None."""
    patcher: Any = sys.modules.get("eventlet.patcher")
    if patcher is not None and patcher.is_monkey_patched("thread"):
        return patcher
    return None


def _use_real_locks() -> None:
    """Give prometheus-client real locks in an eventlet-patched process.

    Imported after patching, it would take green locks, and a green lock
    contended between the metrics server's OS thread and a greenthread can
    leave either waiting forever. Real locks are safe for greenthreads here:
    nothing yields while holding them.
    """
    patcher = _eventlet_patcher()
    if patcher is None:
        return
    real_lock = patcher.original("_thread").allocate_lock
    for module in (prometheus_client.values, prometheus_client.metrics, prometheus_client.registry):
        module.Lock = real_lock  # type: ignore[attr-defined]
    REGISTRY._lock = real_lock()  # type: ignore[attr-defined]


# Before any metric below is created, so that they all get real locks.
_use_real_locks()

# ---------------------------------------------------------------- gRPC server
# Labels as go-grpc-prometheus has them: grpc_type is unary, server_stream,
# client_stream or bidi_stream; grpc_code is Go's name of the status code
# ("OK", "NotFound", "DeadlineExceeded"), which stock alert rules match on.
_GO_CODE_NAMES = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}


def grpc_code_label(code: grpc.StatusCode | None) -> str:
    """The grpc_code label value of a status code, as go-grpc-prometheus writes it."""
    if code is None:
        return "Unknown"
    return _GO_CODE_NAMES.get(code, "Unknown")


_GRPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")

grpc_server_started_total = Counter(
    "grpc_server_started_total",
    "Total number of RPCs started on the server.",
    _GRPC_LABELS,
)
grpc_server_handled_total = Counter(
    "grpc_server_handled_total",
    "Total number of RPCs completed on the server, regardless of success or failure.",
    (*_GRPC_LABELS, "grpc_code"),
)
grpc_server_handling_seconds = Histogram(
    "grpc_server_handling_seconds",
    "Histogram of response latency (seconds) of gRPC that had been application-level "
    "handled by the server.",
    _GRPC_LABELS,
)

# ---------------------------------------------------------------- gRPC client
grpc_client_started_total = Counter(
    "grpc_client_started_total",
    "Total number of RPCs started on the client.",
    _GRPC_LABELS,
)
grpc_client_handled_total = Counter(
    "grpc_client_handled_total",
    "Total number of RPCs completed by the client, regardless of success or failure.",
    (*_GRPC_LABELS, "grpc_code"),
)
grpc_client_handling_seconds = Histogram(
    "grpc_client_handling_seconds",
    "Histogram of response latency (seconds) of the gRPC until it is finished by the application.",
    _GRPC_LABELS,
)

# ---------------------------------------------------------------- events
liaison_events_published_total = Counter(
    "liaison_events_published_total",
    "Events the outbox relay published and the broker confirmed.",
    ("service", "type"),
)
liaison_events_consumed_total = Counter(
    "liaison_events_consumed_total",
    "Events a handler processed and committed.",
    ("service", "type", "handler"),
)
liaison_events_duplicate_total = Counter(
    "liaison_events_duplicate_total",
    "Redelivered events a handler had already processed and skipped.",
    ("service", "type", "handler"),
)
liaison_events_failed_total = Counter(
    "liaison_events_failed_total",
    "Attempts of a handler that raised (each retry counts).",
    ("service", "type", "handler"),
)
liaison_events_dead_lettered_total = Counter(
    "liaison_events_dead_lettered_total",
    "Events sent to the dead-letter queue after the last retry failed.",
    ("service", "type", "handler"),
)
liaison_outbox_backlog = Gauge(
    "liaison_outbox_backlog",
    "Events written to the outbox and not yet confirmed by the broker.",
    ("service",),
)
liaison_outbox_oldest_age_seconds = Gauge(
    "liaison_outbox_oldest_age_seconds",
    "Age of the oldest unsent outbox event (0 when the outbox is empty).",
    ("service",),
)
liaison_consumer_lag_messages = Gauge(
    "liaison_consumer_lag_messages",
    "Messages ready in a consumer's queue, not yet delivered.",
    ("service", "queue"),
)
liaison_event_latency_seconds = Histogram(
    "liaison_event_latency_seconds",
    "Time from an event's occurred_at to its handling by a consumer.",
    ("service", "type"),
    # From a fast relay (tens of ms) to a consumer that was down for an hour.
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)


# ---------------------------------------------------------------- HTTP server
_REAL_MODULES = ("_thread", "threading", "socket", "select", "time")
_FRESH_MODULES = ("selectors", "socketserver", "http.server")


def _real_modules() -> tuple[ModuleType, ModuleType]:
    """The threading and http.server modules to run the server with.

    When eventlet has monkey-patched this process: unpatched copies, with a
    socketserver built on the real socket, select and threading modules, so
    the server and its request threads are OS threads on real sockets.
    """
    patcher = _eventlet_patcher()
    if patcher is None:
        import http.server
        import threading

        return threading, http.server
    originals = {name: patcher.original(name) for name in _REAL_MODULES}
    saved = {name: sys.modules.get(name) for name in (*_REAL_MODULES, *_FRESH_MODULES)}
    http_package = sys.modules["http"]
    saved_attribute = http_package.__dict__.get("server")
    try:
        sys.modules.update(originals)
        for name in _FRESH_MODULES:
            sys.modules.pop(name, None)
        real_http_server = importlib.import_module("http.server")
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        # The fresh import rebinds `http.server`; the rest of the process keeps its own.
        if saved_attribute is None:
            http_package.__dict__.pop("server", None)
        else:
            http_package.server = saved_attribute  # type: ignore[attr-defined]
    return originals["threading"], real_http_server


# Under eventlet the checks run in the hub, every CHECK_INTERVAL_SECONDS; a
# result older than CHECK_STALE_SECONDS means the hub (or the check) is
# stuck, and counts as failing.
CHECK_INTERVAL_SECONDS = 2.0
CHECK_STALE_SECONDS = 60.0


class _Check:
    """One of /healthz and /readyz.

    Without eventlet, the check runs on the request's thread. With eventlet,
    a greenthread runs it in the hub (where the worker's green locks,
    connection pools and sockets belong; touching those from the server's OS
    thread could deadlock) and the server reads the latest result.
    """

    def __init__(self, name: str, check: Callable[[], bool] | None, green: bool) -> None:
        self._name = name
        self._check = check
        self._green = green
        self._last: bool | None = None
        # (when, result); "healthy" until the first check, "not ready" likewise.
        self._result = (time.monotonic(), name == "health")

    def start(self) -> None:
        if self._green:
            import eventlet

            self._result = (time.monotonic(), self._result[1])
            eventlet.spawn(self._refresh_forever, eventlet.sleep)

    def _evaluate(self) -> bool:
        error: Exception | None = None
        try:
            ok = True if self._check is None else bool(self._check())
        except Exception as exc:
            ok, error = False, exc
        # Logged when the answer changes, not on every probe.
        if self._last != ok:
            self._last = ok
            if ok:
                _log.info("%s check passes", self._name)
            else:
                _log.warning("%s check fails", self._name, exc_info=error)
        return ok

    def _refresh_forever(self, sleep: Callable[[float], None]) -> None:
        while True:
            ok = self._evaluate()
            # One tuple assignment: the server thread never sees a torn update.
            self._result = (time.monotonic(), ok)
            sleep(CHECK_INTERVAL_SECONDS)

    def __call__(self) -> bool:
        if not self._green:
            return self._evaluate()
        stamp, ok = self._result
        return ok and time.monotonic() - stamp <= CHECK_STALE_SECONDS


def _handler_class(health: _Check, ready: _Check) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0 and a closed connection per request: scrapes and probes are
        # rare, and no keep-alive means no idle thread per client.
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                self._send(200, encoder(REGISTRY), content_type)
            elif path == "/healthz":
                self._send_probe(health())
            elif path == "/readyz":
                self._send_probe(ready())
            else:
                self._send(404, b"not found\n", "text/plain; charset=utf-8")

        def _send_probe(self, ok: bool) -> None:
            if ok:
                self._send(200, b"ok\n", "text/plain; charset=utf-8")
            else:
                self._send(503, b"unavailable\n", "text/plain; charset=utf-8")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Probes every few seconds would drown the logs.
            pass

    return Handler


def start_metrics_server(
    port: int,
    health: Callable[[], bool] | None = None,
    ready: Callable[[], bool] | None = None,
) -> None:
    """Serve `/metrics`, `/healthz` and `/readyz` on `port` from a daemon thread.

    `/healthz` answers 200 when `health()` is true (or not given), else 503;
    `/readyz` likewise with `ready()`; a check that raises counts as false.
    Without eventlet the checks run per request on the server's thread, so
    they should be cheap. Under eventlet they run in the hub every
    CHECK_INTERVAL_SECONDS and the server answers from the latest result; a
    result older than CHECK_STALE_SECONDS (the hub or the check is stuck)
    answers 503, so liveness notices a blocked worker. Port 0 means no server.

    Call it after eventlet's monkey-patching (kit.green.patch) or without
    eventlet at all: the server always runs on a real OS thread.
    """
    if port == 0:
        return
    green = _eventlet_patcher() is not None
    health_check, ready_check = _Check("health", health, green), _Check("readiness", ready, green)
    threading_mod, http_server = _real_modules()

    class Server(http_server.ThreadingHTTPServer):  # type: ignore[name-defined,misc]
        daemon_threads = True
        # Restarting a process must not wait for the old socket's TIME_WAIT.
        allow_reuse_address = True

    server = Server(("", port), _handler_class(health_check, ready_check))
    thread = threading_mod.Thread(
        target=server.serve_forever, name=f"metrics-http-{port}", daemon=True
    )
    thread.start()
    health_check.start()
    ready_check.start()
    _log.info("metrics server listening", extra={"port": port})
