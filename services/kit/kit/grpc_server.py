"""The gRPC server of every service's api process.

A grpcio server on a thread pool (never under eventlet: see ARCHITECTURE.md,
Processes), with `grpc.health.v1`, reflection (not in production) and one
interceptor that gives every call the same treatment:

- the correlation id from the `x-correlation-id` metadata (a new one when
  absent) is set for the handler and echoed in the trailing metadata;
- go-grpc-prometheus metrics (started, handled by code, latency);
- one structured log line per call (method, code, duration_ms, peer, ...);
- a call whose deadline has already passed fails with DEADLINE_EXCEEDED
  without running the handler; handlers read what is left with
  `remaining_deadline()`, and long ones call `check_deadline()` between
  steps to stop (DEADLINE_EXCEEDED) once it has passed;
- a `kit.errors.DomainError` becomes its status code with `google.rpc.Status`
  details; any other exception is logged with its traceback and becomes
  INTERNAL with a generic message;
- the bearer token in the `authorization` metadata is verified
  (`kit.auth.TokenVerifier`) and the caller is available to the handler as
  `kit.auth.current_principal()`. A call without a token answers
  UNAUTHENTICATED unless its RPC is marked `allow_anonymous` in the proto
  (health and reflection always answer); a bad token is refused on every
  RPC. Handlers check roles and scope themselves.

Health has two meanings. The server as a whole ("") and each service name
report readiness: SERVING while `readiness()` holds (the database reachable
and migrated). LIVENESS_SERVICE ("liveness") reports that the process serves
calls at all: SERVING from the start until the server stops, whatever the
database does, so a database outage takes pods out of Services without
restarting them.

With LIAISON_GRPC_TLS_CERT_FILE and _KEY_FILE the server serves TLS only,
and picks up a renewed certificate on the next handshake; the kubelet's gRPC
probes cannot speak TLS, so health is then also served in plaintext on
LIAISON_GRPC_HEALTH_PORT.

So handlers just return responses or raise DomainError. A service's api
module is:

    serve(settings, register=lambda s: add_XServicer_to_server(X(...), s),
          service_names=[X_FULL_NAME], readiness=storage_is_ready)
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import HealthServicer
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from kit import metrics
from kit.auth import Principal, TokenVerifier, acting_as, bearer_token
from kit.errors import DeadlineExceeded, DomainError, Unauthenticated, to_rpc_status
from kit.logging import configure_logging, correlation_id, new_correlation_id
from kit.settings import GrpcTls, Settings, read_pem
from liaison.common.v1 import auth_pb2

__all__ = [
    "CORRELATION_ID_KEY",
    "LIVENESS_SERVICE",
    "ReadinessHealthServicer",
    "ServerInterceptor",
    "add_port",
    "build_server",
    "check_deadline",
    "remaining_deadline",
    "serve",
    "serve_health",
]

CORRELATION_ID_KEY = "x-correlation-id"
AUTHORIZATION_KEY = "authorization"

# The grpc.health.v1 name the liveness probe asks for (see the module's doc).
LIVENESS_SERVICE = "liveness"

_log = logging.getLogger("kit.grpc")

# An incoming id is echoed into logs and events, so only a sane one is taken;
# anything else is replaced by a fresh id.
_VALID_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

# Services whose calls are logged at DEBUG only: probes poll them all day.
_QUIET_SERVICES = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)

# grpcio reports "no deadline" as a deadline decades away.
_NO_DEADLINE_AFTER = 10.0**8

# Absolute time.monotonic() deadline of the call being handled, if any.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "grpc_deadline", default=None
)

_SERVER_OPTIONS: list[tuple[str, Any]] = [
    # Fail loudly when the port is taken instead of sharing it with a stale process.
    ("grpc.so_reuseport", 0),
    # Accept the clients' keep-alive pings (kit.grpc_client pings every 30 s),
    # and ping idle clients ourselves so dead peers are noticed.
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_ping_strikes", 0),
    # Clients reconnect every few minutes and so resolve the (headless) name
    # again: replicas added by the autoscaler get their share of calls.
    ("grpc.max_connection_age_ms", 300_000),
    ("grpc.max_connection_age_grace_ms", 30_000),
    # Rosters travel as spreadsheets; allow a generous message.
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
    ("grpc.max_send_message_length", 32 * 1024 * 1024),
]


def remaining_deadline() -> float | None:
    """Seconds left before the current gRPC call's deadline.

    None outside a call or when the client set no deadline. Handlers pass it
    on (kit.grpc_client does so by itself) or stop early when it runs out.
    """
    deadline = _deadline.get()
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def check_deadline(doing: str) -> None:
    """Raise DeadlineExceeded once the current call's deadline has passed.

    Long handlers call it between steps (rows of a file, say): the caller has
    stopped waiting, so further work only holds a thread and a transaction.
    `doing` completes "the call's deadline passed while ...". A no-op outside
    a call or when the client set no deadline.
    """
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExceeded(f"the call's deadline passed while {doing}")


def _split_method(full_method: str) -> tuple[str, str]:
    """Split "/liaison.registry.v1.RegistryService/GetStreet" into service and method."""
    parts = full_method.strip("/").split("/", 1)
    if len(parts) == 2:
        return parts[0], parts[1]
    return "unknown", full_method


def _take_correlation_id(metadata: Sequence[tuple[str, Any]] | None) -> str:
    for key, value in metadata or ():
        if key == CORRELATION_ID_KEY and isinstance(value, str):
            if _VALID_CORRELATION_ID.match(value):
                return value
            break
    return new_correlation_id()


def _code_name(code: grpc.StatusCode) -> str:
    return str(code.name)


class _Call:
    """One call's bookkeeping: correlation id, deadline, metrics, log line."""

    def __init__(
        self,
        service: str,
        grpc_type: str,
        full_method: str,
        cid: str,
        context: grpc.ServicerContext,
    ) -> None:
        self.service = service
        self.full_method = full_method
        self.grpc_service, self.grpc_method = _split_method(full_method)
        self.grpc_type = grpc_type
        self.cid = cid
        self.context = context
        self.finished = False
        self.labels = {
            "grpc_type": grpc_type,
            "grpc_service": self.grpc_service,
            "grpc_method": self.grpc_method,
        }
        remaining = context.time_remaining()
        self.deadline: float | None = None
        self.expired = False
        if remaining is not None and remaining < _NO_DEADLINE_AFTER:
            self.deadline = time.monotonic() + remaining
            self.expired = remaining <= 0
        self.started = time.perf_counter()
        self.principal: Principal | None = None
        self.refusal: Unauthenticated | None = None
        metrics.grpc_server_started_total.labels(**self.labels).inc()

    @contextmanager
    def scope(self) -> Iterator[None]:
        """The handler's view: its correlation id, deadline and caller."""
        cid_token = correlation_id.set(self.cid)
        deadline_token = _deadline.set(self.deadline)
        try:
            with acting_as(self.principal):
                yield
        finally:
            _deadline.reset(deadline_token)
            correlation_id.reset(cid_token)

    def authenticate(
        self,
        metadata: Sequence[tuple[str, Any]] | None,
        verifier: TokenVerifier | None,
        anonymous_allowed: bool,
    ) -> None:
        """Verify the bearer token now; a refusal is kept and raised by
        `check_caller()` inside the handler's scope, so it is counted and
        logged like any other outcome."""
        try:
            header = next(
                (v for k, v in metadata or () if k == AUTHORIZATION_KEY and isinstance(v, str)),
                None,
            )
            token = bearer_token(header)
            if token is None:
                if not anonymous_allowed:
                    raise Unauthenticated(f"{self.grpc_method} needs a bearer token")
            elif verifier is None:
                raise Unauthenticated("this server verifies no tokens")
            else:
                self.principal = verifier.verify(token)
        except Unauthenticated as refused:
            self.refusal = refused

    def check_caller(self) -> None:
        if self.refusal is not None:
            self.fail(self.refusal)

    def echo_correlation_id(self) -> None:
        """Add the id to whatever trailing metadata the handler set."""
        existing = tuple(self.context.trailing_metadata() or ())
        if not any(key == CORRELATION_ID_KEY for key, _ in existing):
            self.context.set_trailing_metadata((*existing, (CORRELATION_ID_KEY, self.cid)))

    def check_deadline(self) -> None:
        if self.expired:
            self.finish(grpc.StatusCode.DEADLINE_EXCEEDED)
            self.echo_correlation_id()
            self.context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded")

    def succeed(self) -> None:
        code = self.context.code() or grpc.StatusCode.OK
        if code == grpc.StatusCode.OK and not self.context.is_active():
            # The client gave up while the handler ran; count what it saw.
            code = (
                grpc.StatusCode.DEADLINE_EXCEEDED
                if self.deadline is not None and self.deadline <= time.monotonic()
                else grpc.StatusCode.CANCELLED
            )
        self.echo_correlation_id()
        self.finish(code)

    def fail(self, exc: Exception) -> NoReturn:
        """Turn what the handler raised into the call's status; always raises."""
        if isinstance(exc, DomainError):
            status = rpc_status.to_status(to_rpc_status(exc, self.service))
            # The message may echo what the caller sent (an address, a
            # phone number): the log keeps the reason and the field names.
            self.finish(exc.code, detail=exc.reason, fields=[v.field for v in exc.violations])
            self.context.abort_with_status(
                status._replace(
                    trailing_metadata=(
                        *status.trailing_metadata,
                        (CORRELATION_ID_KEY, self.cid),
                    )
                )
            )
        code = self.context.code()
        if code is not None and code != grpc.StatusCode.OK:
            # The handler called context.abort() (which raises) or set a code
            # and raised: its status stands.
            self.echo_correlation_id()
            self.finish(code)
            raise exc
        self.finish(grpc.StatusCode.INTERNAL, exc=exc)
        self.echo_correlation_id()
        # Nothing about the failure leaves the process but the id to find it by.
        self.context.abort(grpc.StatusCode.INTERNAL, f"internal error (correlation id {self.cid})")
        raise AssertionError("context.abort returned")  # pragma: no cover

    def finish(
        self,
        code: grpc.StatusCode,
        *,
        exc: Exception | None = None,
        detail: str | None = None,
        fields: list[str] | None = None,
    ) -> None:
        if self.finished:
            return
        self.finished = True
        elapsed = time.perf_counter() - self.started
        code_name = _code_name(code)
        metrics.grpc_server_handled_total.labels(
            **self.labels, grpc_code=metrics.grpc_code_label(code)
        ).inc()
        metrics.grpc_server_handling_seconds.labels(**self.labels).observe(elapsed)
        extra: dict[str, Any] = {
            "method": self.full_method,
            "grpc_type": self.grpc_type,
            "code": code_name,
            "duration_ms": round(elapsed * 1000, 3),
            "peer": self.context.peer(),
            "correlation_id": self.cid,
        }
        if detail is not None:
            extra["detail"] = detail
        if fields:
            extra["fields"] = fields
        if self.principal is not None:
            extra["actor_role"] = self.principal.role.value
        if exc is not None:
            _log.error("grpc call failed", extra=extra, exc_info=exc)
        elif self.grpc_service in _QUIET_SERVICES:
            _log.debug("grpc call", extra=extra)
        else:
            _log.info("grpc call", extra=extra)


def anonymous_methods(service_names: Sequence[str]) -> frozenset[str]:
    """Full method names ("/pkg.Service/Method") that answer without a token:
    those marked `allow_anonymous` in the protos, health and reflection."""
    pool = descriptor_pool.Default()
    found: set[str] = set()
    for name in service_names:
        try:
            service = pool.FindServiceByName(name)
        except KeyError:
            continue  # not described by a proto: every method needs a token
        for method in service.methods:
            if method.GetOptions().Extensions[auth_pb2.allow_anonymous]:
                found.add(f"/{name}/{method.name}")
    return frozenset(found)


class ServerInterceptor(grpc.ServerInterceptor):
    """Correlation id, deadline, caller, metrics, log line and error mapping per call."""

    def __init__(
        self,
        service: str,
        verifier: TokenVerifier | None = None,
        anonymous: frozenset[str] = frozenset(),
    ) -> None:
        self._service = service
        self._verifier = verifier
        self._anonymous = anonymous

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None  # unknown method: grpcio answers UNIMPLEMENTED
        method: str = handler_call_details.method
        metadata = handler_call_details.invocation_metadata

        anonymous_allowed = method in self._anonymous or _split_method(method)[0] in _QUIET_SERVICES
        verifier = self._verifier

        def new_call(grpc_type: str, context: grpc.ServicerContext) -> _Call:
            cid = _take_correlation_id(metadata)
            call = _Call(self._service, grpc_type, method, cid, context)
            call.authenticate(metadata, verifier, anonymous_allowed)
            return call

        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._unary_response(handler.unary_unary, "unary", new_call),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                self._unary_response(handler.stream_unary, "client_stream", new_call),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        behavior = handler.unary_stream or handler.stream_stream
        if getattr(behavior, "experimental_non_blocking", False):
            # Health's Watch answers through a callback, not a generator; a
            # wrapper would turn it into a blocking stream holding a thread.
            return handler
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._stream_response(handler.unary_stream, "server_stream", new_call),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._stream_response(handler.stream_stream, "bidi_stream", new_call),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    @staticmethod
    def _unary_response(
        behavior: Callable[[Any, grpc.ServicerContext], Any],
        grpc_type: str,
        new_call: Callable[[str, grpc.ServicerContext], _Call],
    ) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handle(request: Any, context: grpc.ServicerContext) -> Any:
            call = new_call(grpc_type, context)
            with call.scope():
                call.check_deadline()
                call.check_caller()
                try:
                    response = behavior(request, context)
                except Exception as exc:
                    call.fail(exc)
                call.succeed()
                return response

        return handle

    @staticmethod
    def _stream_response(
        behavior: Callable[[Any, grpc.ServicerContext], Iterator[Any]],
        grpc_type: str,
        new_call: Callable[[str, grpc.ServicerContext], _Call],
    ) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
        def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            call = new_call(grpc_type, context)
            try:
                # The scope is entered per step, not across `yield`: grpcio
                # drives the generator, and the id must not leak into its thread.
                with call.scope():
                    call.check_deadline()
                    call.check_caller()
                    try:
                        responses = iter(behavior(request, context))
                    except Exception as exc:
                        call.fail(exc)
                while True:
                    with call.scope():
                        try:
                            response = next(responses)
                        except StopIteration:
                            call.succeed()
                            return
                        except Exception as exc:
                            call.fail(exc)
                    yield response
            finally:
                # Closed early: the client cancelled or the deadline passed.
                if not call.finished:
                    call.finish(
                        grpc.StatusCode.DEADLINE_EXCEEDED
                        if call.deadline is not None and call.deadline <= time.monotonic()
                        else grpc.StatusCode.CANCELLED
                    )

        return handle


class ReadinessHealthServicer(HealthServicer):
    """grpc.health.v1 with readiness and liveness kept apart.

    Every name in `service_names` and the server as a whole ("") start
    NOT_SERVING; a daemon thread calls `readiness()` every `interval` seconds
    and flips them all together. LIVENESS_SERVICE is SERVING from the start
    and never follows readiness. `stop()` sets every name NOT_SERVING for good.
    """

    def __init__(
        self,
        service_names: Sequence[str],
        readiness: Callable[[], bool],
        interval: float = 2.0,
    ) -> None:
        super().__init__(experimental_non_blocking=True)
        self._names = ("", *service_names)
        self._readiness = readiness
        self._interval = interval
        self._serving = False
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grpc-readiness", daemon=True)
        for name in self._names:
            self.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        self.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)

    @property
    def serving(self) -> bool:
        """Whether the last check passed (and the server is not stopping)."""
        return self._serving and not self._stopped.is_set()

    def start(self) -> None:
        if not self._thread.is_alive() and not self._stopped.is_set():
            self._thread.start()

    def check_now(self) -> bool:
        """Run the readiness check once and publish its result."""
        try:
            ready = bool(self._readiness())
        except Exception:
            _log.warning("readiness check raised", exc_info=True)
            ready = False
        if self._stopped.is_set():
            return False
        if ready != self._serving:
            self._serving = ready
            status = (
                health_pb2.HealthCheckResponse.SERVING
                if ready
                else health_pb2.HealthCheckResponse.NOT_SERVING
            )
            for name in self._names:
                self.set(name, status)
            _log.info("grpc health", extra={"status": "SERVING" if ready else "NOT_SERVING"})
        return ready

    def stop(self) -> None:
        self._stopped.set()
        self._serving = False
        self.enter_graceful_shutdown()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self.check_now()
            self._stopped.wait(self._interval)


def build_server(
    settings: Settings,
    *,
    register: Callable[[grpc.Server], None],
    service_names: Sequence[str],
    readiness: Callable[[], bool],
    max_workers: int = 16,
    readiness_interval: float = 2.0,
    verifier: TokenVerifier | None = None,
    anonymous: Sequence[str] = (),
) -> tuple[grpc.Server, ReadinessHealthServicer]:
    """A server with the interceptor, the service's servicers, health and reflection.

    `register(server)` adds the service's servicers; `service_names` are
    their full names (`liaison.registry.v1.RegistryService`). The readiness
    thread is already running; the caller binds a port and starts the server
    (as `serve` does), and calls `health.stop()` before stopping it.

    Tokens are verified as `settings.auth` says unless a `verifier` is
    given; `anonymous` adds full method names that answer without a token to
    those the protos mark `allow_anonymous`.
    """
    interceptor = ServerInterceptor(
        settings.service,
        verifier or TokenVerifier(settings.auth),
        anonymous_methods(service_names) | frozenset(anonymous),
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
        interceptors=[interceptor],
        options=_SERVER_OPTIONS,
    )
    register(server)
    health = ReadinessHealthServicer(service_names, readiness, interval=readiness_interval)
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    # Reflection hands anyone the whole API's shape: a help in development,
    # nothing production's clients need (they have the published protos).
    if not settings.is_production:
        reflection.enable_server_reflection(
            (
                *service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
    health.start()
    return server, health


class _CertificateFiles:
    """The server's certificate and key, read again when either file changes.

    Kubernetes swaps a mounted Secret's files in one step when cert-manager
    renews it; gRPC asks for the configuration on every new handshake, so a
    renewed certificate is served without a restart.
    """

    def __init__(self, tls: GrpcTls) -> None:
        self._tls = tls
        self._stamp = self._stat()
        self.initial = self._configuration()

    def _stat(self) -> tuple[float, ...]:
        try:
            return tuple(
                os.stat(path).st_mtime_ns for path in (self._tls.cert_file, self._tls.key_file)
            )
        except OSError:
            return ()

    def _configuration(self) -> Any:
        key = read_pem("LIAISON_GRPC_TLS_KEY_FILE", self._tls.key_file)
        chain = read_pem("LIAISON_GRPC_TLS_CERT_FILE", self._tls.cert_file)
        return grpc.ssl_server_certificate_configuration([(key, chain)])

    def fetch(self) -> Any:
        """A new configuration when the files changed, else None (keep the current one)."""
        stamp = self._stat()
        if not stamp or stamp == self._stamp:
            return None
        try:
            configuration = self._configuration()
        except Exception:
            _log.warning("could not read the renewed gRPC certificate", exc_info=True)
            return None
        self._stamp = stamp
        _log.info("grpc certificate reloaded")
        return configuration


def add_port(server: grpc.Server, address: str, tls: GrpcTls) -> int:
    """Bind `address`: TLS when a certificate and key are set, else plaintext."""
    if not tls.serves_tls:
        return int(server.add_insecure_port(address))
    files = _CertificateFiles(tls)
    credentials = grpc.dynamic_ssl_server_credentials(files.initial, files.fetch)
    return int(server.add_secure_port(address, credentials))


def serve_health(health: HealthServicer, address: str) -> tuple[grpc.Server, int]:
    """A started plaintext server answering grpc.health.v1 only, for probes."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="grpc-health"),
        options=[("grpc.so_reuseport", 0)],
    )
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port(address)
    server.start()
    return server, int(port)


def serve(
    settings: Settings,
    *,
    register: Callable[[grpc.Server], None],
    service_names: Sequence[str],
    readiness: Callable[[], bool],
    on_stop: Callable[[], None] | None = None,
    on_draining: Callable[[], None] | None = None,
    max_workers: int = 16,
    grace: float = 10.0,
) -> None:
    """Run the api process until SIGTERM or SIGINT.

    Configures logging, starts the metrics server on settings.metrics_port
    (with /readyz following the gRPC health), serves gRPC on
    `[::]:settings.grpc_port` (TLS when configured) and health alone on
    settings.grpc_health_port when set; on a signal reports NOT_SERVING,
    calls `on_draining()` (long-lived streams end themselves then, instead
    of being cancelled when the grace runs out), lets calls in flight finish
    for up to `grace` seconds, then calls `on_stop()`.
    """
    configure_logging(settings)
    server, health = build_server(
        settings,
        register=register,
        service_names=service_names,
        readiness=readiness,
        max_workers=max_workers,
    )
    metrics.start_metrics_server(
        settings.metrics_port, health=lambda: True, ready=lambda: health.serving
    )
    port = add_port(server, f"[::]:{settings.grpc_port}", settings.grpc_tls)
    server.start()
    health_server = None
    if settings.grpc_health_port:
        health_server, _ = serve_health(health, f"[::]:{settings.grpc_health_port}")
    _log.info(
        "grpc server listening",
        extra={
            "port": port,
            "tls": settings.grpc_tls.serves_tls,
            "health_port": settings.grpc_health_port or None,
            "metrics_port": settings.metrics_port,
            "services": list(service_names),
        },
    )

    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        # A timed wait keeps the main thread responsive to signals.
        while not stop_requested.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    _log.info("grpc server stopping", extra={"grace_seconds": grace})
    # NOT_SERVING first, so health-checking balancers stop sending new calls.
    health.stop()
    if on_draining is not None:
        on_draining()
    server.stop(grace).wait()
    if health_server is not None:
        health_server.stop(0).wait()
    if on_stop is not None:
        on_stop()
    _log.info("grpc server stopped")
