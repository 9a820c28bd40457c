"""The registry's gRPC client: one grpc.aio channel per event loop, a deadline
on every call, correlation and actor metadata, and client metrics."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from fastapi import Request
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.auth import Principal
from gateway.observability import GatewayMetrics
from kit.grpc_client import CHANNEL_OPTIONS
from liaison.registry.v1 import registry_pb2_grpc

SERVICE = "registry"


@dataclass(frozen=True)
class CallContext:
    """What travels with each call: the request id and the caller."""

    request_id: str
    principal: Principal | None = None
    extra: list[tuple[str, str]] = field(default_factory=list)

    def metadata(self) -> list[tuple[str, str]]:
        metadata = [("x-correlation-id", self.request_id)]
        if self.principal is not None:
            metadata.extend(self.principal.grpc_metadata())
        return metadata + self.extra


class RegistryClient:
    def __init__(self, target: str, deadline_seconds: float, metrics: GatewayMetrics) -> None:
        self.target = target
        self.deadline_seconds = deadline_seconds
        self.metrics = metrics
        self._channel: grpc.aio.Channel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stub: registry_pb2_grpc.RegistryServiceStub | None = None
        self._health: health_pb2_grpc.HealthStub | None = None

    def _ensure(self) -> None:
        # An aio channel belongs to the loop that made it; a new loop (a second
        # server start, a test client) needs its own channel.
        loop = asyncio.get_running_loop()
        if self._channel is None or self._loop is not loop:
            # The platform's channel options: keep-alive, and messages large
            # enough for roster spreadsheets.
            self._channel = grpc.aio.insecure_channel(self.target, options=CHANNEL_OPTIONS)
            self._loop = loop
            self._stub = registry_pb2_grpc.RegistryServiceStub(self._channel)
            self._health = health_pb2_grpc.HealthStub(self._channel)

    async def close(self) -> None:
        if self._channel is not None and self._loop is asyncio.get_running_loop():
            await self._channel.close()
        self._channel = None
        self._stub = None
        self._health = None
        self._loop = None

    async def call(self, method: str, request: Any, ctx: CallContext) -> Any:
        """Call `RegistryService/<method>`; raises grpc.aio.AioRpcError on failure."""
        self._ensure()
        stub_method = getattr(self._stub, method)
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            return await stub_method(
                request, timeout=self.deadline_seconds, metadata=ctx.metadata()
            )
        except grpc.RpcError as exc:
            code = exc.code()  # type: ignore[attr-defined]
            raise
        finally:
            self.metrics.grpc_calls.labels(SERVICE, method, code.name).inc()
            self.metrics.grpc_latency.labels(SERVICE, method).observe(time.perf_counter() - started)

    async def serving(self) -> bool:
        """Whether the registry's grpc.health.v1 reports SERVING."""
        self._ensure()
        assert self._health is not None
        try:
            reply = await self._health.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=self.deadline_seconds
            )
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def call_context(request: Request, principal: Principal | None) -> CallContext:
    return CallContext(request_id=request.state.request_id, principal=principal)


def registry(request: Request) -> RegistryClient:
    client: RegistryClient = request.app.state.registry
    return client
