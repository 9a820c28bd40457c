"""The services behind the gateway: one generic client each, from one list.

Each client is a kit asyncio channel (`kit.grpc_client.aio_channel`: a
deadline on every call, the request's correlation id, the platform's
grpc_client_* metrics) to the service's target, with its stub and its
`grpc.health.v1` stub. Every call carries the caller's bearer token in the
`authorization` metadata, so the service decides what the caller may do.

The services are kit's list (kit/services.toml): adding a service to the
platform adds it here, with its stub found by the protos' convention.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
from fastapi import Request
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kit.grpc_client import aio_channel, bearer_metadata
from kit.services import SERVICES
from kit.settings import grpc_target


@dataclass(frozen=True)
class Upstream:
    """A service the gateway calls: its name (as in kit's list of services)
    and the stub class of its gRPC API."""

    name: str
    stub: type[Any]


def _stub(module: str, name: str) -> type[Any]:
    stub: type[Any] = getattr(importlib.import_module(module), name)
    return stub


UPSTREAMS: tuple[Upstream, ...] = tuple(Upstream(s.name, _stub(*s.grpc_stub)) for s in SERVICES)


class UpstreamError(Exception):
    """A call to `service` failed with a gRPC status; the problem handler
    turns it into problem+json naming the service."""

    def __init__(self, service: str, method: str, error: grpc.aio.AioRpcError) -> None:
        super().__init__(f"{service}.{method}: {error.code().name}")
        self.service = service
        self.method = method
        self.error = error


@dataclass(frozen=True)
class CallContext:
    """What travels with each call besides the correlation id: the caller's token."""

    token: str | None = None

    def metadata(self) -> list[tuple[str, str]]:
        return [bearer_metadata(self.token)] if self.token else []


class ServiceClient:
    """One service's stub over one channel per event loop."""

    def __init__(self, upstream: Upstream, target: str, deadline_seconds: float) -> None:
        self.name = upstream.name
        self.target = target
        self._stub_class = upstream.stub
        self._deadline = deadline_seconds
        self._channel: grpc.aio.Channel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stub: Any = None
        self._health: health_pb2_grpc.HealthStub | None = None

    def _ensure(self) -> None:
        # An aio channel belongs to the loop that made it; a new loop (a second
        # server start, a test client) needs its own channel.
        loop = asyncio.get_running_loop()
        if self._channel is None or self._loop is not loop:
            self._channel = aio_channel(self.target, deadline=self._deadline)
            self._loop = loop
            self._stub = self._stub_class(self._channel)
            self._health = health_pb2_grpc.HealthStub(self._channel)

    async def close(self) -> None:
        if self._channel is not None and self._loop is asyncio.get_running_loop():
            await self._channel.close()
        self._channel = None
        self._stub = None
        self._health = None
        self._loop = None

    async def call(
        self,
        method: str,
        request: Any,
        ctx: CallContext,
        *,
        deadline: float | None = None,
        stub: type[Any] | None = None,
    ) -> Any:
        """Call `<Service>/<method>` (within `deadline` seconds, else the
        channel's default), of another gRPC service the same process serves
        when `stub` is its stub class; raises UpstreamError on a gRPC failure."""
        self._ensure()
        target = self._stub if stub is None else stub(self._channel)
        try:
            return await getattr(target, method)(request, metadata=ctx.metadata(), timeout=deadline)
        except grpc.aio.AioRpcError as error:
            raise UpstreamError(self.name, method, error) from error

    async def stream(
        self, method: str, request: Any, ctx: CallContext, *, deadline: float | None = None
    ) -> AsyncIterator[Any]:
        """The messages of a server-streaming `<Service>/<method>`."""
        self._ensure()
        call = getattr(self._stub, method)(request, metadata=ctx.metadata(), timeout=deadline)
        try:
            async for message in call:
                yield message
        except grpc.aio.AioRpcError as error:
            raise UpstreamError(self.name, method, error) from error

    async def serving(self) -> bool:
        """Whether the service's grpc.health.v1 reports SERVING."""
        self._ensure()
        assert self._health is not None
        try:
            reply = await self._health.Check(health_pb2.HealthCheckRequest(service=""))
        except grpc.RpcError:
            return False
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


class Upstreams:
    """Every configured service's client, by name."""

    def __init__(self, targets: dict[str, str], deadline_seconds: float) -> None:
        """`targets` by service name; a service not named there is reached
        where kit's settings say (LIAISON_<SERVICE>_GRPC_TARGET)."""
        self.clients = {
            u.name: ServiceClient(u, targets.get(u.name) or grpc_target(u.name), deadline_seconds)
            for u in UPSTREAMS
        }

    def __getitem__(self, name: str) -> ServiceClient:
        return self.clients[name]

    async def readiness(self) -> dict[str, bool]:
        names = list(self.clients)
        results = await asyncio.gather(*(self.clients[n].serving() for n in names))
        return dict(zip(names, results, strict=True))

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()


def call_context(request: Request) -> CallContext:
    """The caller's token, as the gateway received it (verified already)."""
    return CallContext(token=getattr(request.state, "token", None))


def service(request: Request, name: str) -> ServiceClient:
    upstreams: Upstreams = request.app.state.upstreams
    return upstreams[name]


def caller(name: str, stub: type[Any] | None = None) -> Any:
    """A route module's call to one gRPC service of `name`'s api (its main
    one, or `stub`'s), with the caller's token: `await call(request, method, message)`."""

    async def call(request: Request, method: str, message: Any) -> Any:
        return await service(request, name).call(method, message, call_context(request), stub=stub)

    return call


def registry(request: Request) -> ServiceClient:
    return service(request, "registry")
