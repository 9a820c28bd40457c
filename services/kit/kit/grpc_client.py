"""gRPC channels to the platform's services, sync and asyncio.

Every call made through them:
- carries the current correlation id as `x-correlation-id` metadata;
- has a deadline: the caller's, else settings.grpc_deadline_seconds, and
  never later than the deadline of the gRPC call being handled, if any, so
  an upstream caller's deadline propagates down the chain;
- is counted in grpc_client_started_total / grpc_client_handled_total /
  grpc_client_handling_seconds.

    with kit.grpc_client.channel(kit.settings.grpc_target("registry"), settings) as ch:
        street = RegistryServiceStub(ch).GetStreet(GetRequest(id=1))

Channels are meant to be long-lived: make one per target and share it.
They are plaintext unless LIAISON_GRPC_TLS_CA_FILE names a CA: then they
speak TLS and verify the server's certificate against that CA (its names must
include the host of the target, e.g. liaison-registry-api).
"""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc
import grpc.aio

from kit import metrics
from kit.grpc_server import CORRELATION_ID_KEY, remaining_deadline
from kit.logging import get_correlation_id
from kit.settings import GrpcTls, Settings, grpc_deadline_seconds, read_pem

__all__ = ["CHANNEL_OPTIONS", "aio_channel", "bearer_metadata", "channel", "with_bearer"]

CHANNEL_OPTIONS: list[tuple[str, Any]] = [
    # Keep-alive pings find a dead peer (a pod gone without a FIN) in about
    # 40 s instead of the kernel's hours; the servers accept pings every 10 s.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.enable_retries", 1),
    ("grpc.max_receive_message_length", 32 * 1024 * 1024),
    ("grpc.max_send_message_length", 32 * 1024 * 1024),
    # Spread calls over every address a name resolves to (headless Services);
    # with one address this is the same as pick_first.
    ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),
]


def _default_deadline(settings: Settings | None) -> float:
    if settings is not None:
        return settings.grpc_deadline_seconds
    return grpc_deadline_seconds()


def _credentials(settings: Settings | None) -> grpc.ChannelCredentials | None:
    """TLS credentials verifying servers by the configured CA, or None for plaintext."""
    tls = settings.grpc_tls if settings is not None else GrpcTls.load()
    if not tls.verifies_servers:
        return None
    return grpc.ssl_channel_credentials(
        root_certificates=read_pem("LIAISON_GRPC_TLS_CA_FILE", tls.ca_file)
    )


def _timeout(requested: float | None, default: float) -> float:
    timeout = default if requested is None else requested
    inbound = remaining_deadline()
    if inbound is not None:
        timeout = min(timeout, inbound)
    return timeout


def _with_correlation_id(metadata: Sequence[tuple[str, Any]] | None) -> list[tuple[str, Any]]:
    items = list(metadata or ())
    cid = get_correlation_id()
    if cid is not None and not any(key == CORRELATION_ID_KEY for key, _ in items):
        items.append((CORRELATION_ID_KEY, cid))
    return items


def _labels(method: str | bytes, grpc_type: str) -> dict[str, str]:
    if isinstance(method, bytes):
        method = method.decode()
    parts = method.strip("/").split("/", 1)
    service, name = (parts[0], parts[1]) if len(parts) == 2 else ("unknown", method)
    return {"grpc_type": grpc_type, "grpc_service": service, "grpc_method": name}


def _record(labels: dict[str, str], started: float, code: grpc.StatusCode | None) -> None:
    metrics.grpc_client_handled_total.labels(
        **labels, grpc_code=metrics.grpc_code_label(code)
    ).inc()
    metrics.grpc_client_handling_seconds.labels(**labels).observe(time.perf_counter() - started)


# ---------------------------------------------------------------- sync


class _ClientCallDetails(
    collections.namedtuple(
        "_ClientCallDetails",
        ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression"),
    ),
    grpc.ClientCallDetails,
):
    pass


class _ClientInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    def __init__(self, default_deadline: float) -> None:
        self._default_deadline = default_deadline

    def _call(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        details: grpc.ClientCallDetails,
        request: Any,
        grpc_type: str,
    ) -> Any:
        new_details = _ClientCallDetails(
            details.method,
            _timeout(details.timeout, self._default_deadline),
            _with_correlation_id(details.metadata),
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )
        labels = _labels(details.method, grpc_type)
        metrics.grpc_client_started_total.labels(**labels).inc()
        started = time.perf_counter()
        outcome = continuation(new_details, request)
        # A callback rather than waiting here, so future-style calls stay async.
        outcome.add_done_callback(lambda done: _record(labels, started, done.code()))
        return outcome

    def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request: Any,
    ) -> Any:
        return self._call(continuation, client_call_details, request, "unary")

    def intercept_unary_stream(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request: Any,
    ) -> Any:
        return self._call(continuation, client_call_details, request, "server_stream")

    def intercept_stream_unary(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request_iterator: Iterator[Any],
    ) -> Any:
        return self._call(continuation, client_call_details, request_iterator, "client_stream")

    def intercept_stream_stream(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request_iterator: Iterator[Any],
    ) -> Any:
        return self._call(continuation, client_call_details, request_iterator, "bidi_stream")


def channel(target: str, settings: Settings | None = None) -> grpc.Channel:
    """A sync channel to `target` ("host:port") with the platform's interceptors.

    The default deadline is settings.grpc_deadline_seconds, or
    LIAISON_GRPC_DEADLINE_SECONDS (5 s) when no settings are given; TLS
    likewise follows settings.grpc_tls, or the LIAISON_GRPC_TLS_* variables.
    """
    credentials = _credentials(settings)
    raw = (
        grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
        if credentials is None
        else grpc.secure_channel(target, credentials, options=CHANNEL_OPTIONS)
    )
    return grpc.intercept_channel(raw, _ClientInterceptor(_default_deadline(settings)))


# ---------------------------------------------------------------- asyncio


class _AioInterceptorBase:
    def __init__(self, default_deadline: float) -> None:
        self._default_deadline = default_deadline
        # Strong references to the metric recorders until they finish.
        self._pending: set[asyncio.Task[None]] = set()

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*_with_correlation_id(tuple(details.metadata or ())))
        return details._replace(
            timeout=_timeout(details.timeout, self._default_deadline), metadata=metadata
        )

    def _observe(self, call: Any, details: grpc.aio.ClientCallDetails, grpc_type: str) -> None:
        labels = _labels(details.method, grpc_type)
        metrics.grpc_client_started_total.labels(**labels).inc()
        started = time.perf_counter()

        async def record() -> None:
            try:
                code = await call.code()
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
            _record(labels, started, code)

        task = asyncio.get_running_loop().create_task(record())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)


class _AioUnaryUnary(_AioInterceptorBase, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        call = await continuation(self._details(client_call_details), request)
        self._observe(call, client_call_details, "unary")
        return call


class _AioUnaryStream(_AioInterceptorBase, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self, continuation: Any, client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        call = await continuation(self._details(client_call_details), request)
        self._observe(call, client_call_details, "server_stream")
        return call


class _AioStreamUnary(_AioInterceptorBase, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self,
        continuation: Any,
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: Any,
    ) -> Any:
        call = await continuation(self._details(client_call_details), request_iterator)
        self._observe(call, client_call_details, "client_stream")
        return call


class _AioStreamStream(_AioInterceptorBase, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self,
        continuation: Any,
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: Any,
    ) -> Any:
        call = await continuation(self._details(client_call_details), request_iterator)
        self._observe(call, client_call_details, "bidi_stream")
        return call


def aio_channel(
    target: str, settings: Settings | None = None, *, deadline: float | None = None
) -> grpc.aio.Channel:
    """An asyncio channel to `target` with the same behaviour as `channel`;
    `deadline` overrides the default deadline of its calls.

    Create it inside the event loop that will use it (grpc.aio binds to it).
    """
    deadline = deadline if deadline is not None else _default_deadline(settings)
    interceptors: list[grpc.aio.ClientInterceptor] = [
        _AioUnaryUnary(deadline),
        _AioUnaryStream(deadline),
        _AioStreamUnary(deadline),
        _AioStreamStream(deadline),
    ]
    credentials = _credentials(settings)
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS, interceptors=interceptors)
    return grpc.aio.secure_channel(
        target, credentials, options=CHANNEL_OPTIONS, interceptors=interceptors
    )


# ---------------------------------------------------------------- tokens


def bearer_metadata(token: str) -> tuple[str, str]:
    """The `authorization` metadata entry that carries `token`."""
    return ("authorization", f"Bearer {token}")


class _Bearer(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token

    def _with_token(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = [m for m in details.metadata or () if m[0] != "authorization"]
        metadata.append(bearer_metadata(self._token()))
        return _ClientCallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._with_token(details), requests)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._with_token(details), requests)


def with_bearer(ch: grpc.Channel, token: str | Callable[[], str]) -> grpc.Channel:
    """`ch` sending a bearer token with every call: a fixed token, or a
    function that returns the current one (a department system refreshes its
    client-credentials token)."""
    provider = token if callable(token) else (lambda: token)
    return grpc.intercept_channel(ch, _Bearer(provider))
