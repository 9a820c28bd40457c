"""Liveness, readiness and Prometheus metrics (not part of the versioned API)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway import schemas as s
from gateway.observability import GatewayMetrics
from gateway.upstream import RegistryClient

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=s.Health, summary="The process is alive")
async def healthz() -> Any:
    return s.Health(status="ok")


@router.get(
    "/readyz",
    response_model=s.Health,
    responses={503: {"model": s.Health, "description": "The registry is not serving."}},
    summary="The registry's gRPC health reports SERVING",
)
async def readyz(request: Request) -> Any:
    client: RegistryClient = request.app.state.registry
    if await client.serving():
        return s.Health(status="ok", registry="serving")
    body = s.Health(status="unavailable", registry="not serving")
    return JSONResponse(body.model_dump(), status_code=503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    registry: GatewayMetrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
