"""Liveness, readiness and Prometheus metrics (not part of the versioned API)."""

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from gateway import schemas as s
from gateway.observability import GatewayMetrics
from gateway.upstream import Upstreams

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=s.Health, summary="The process is alive")
async def healthz() -> Any:
    return s.Health(status="ok")


@router.get(
    "/readyz",
    response_model=s.Health,
    responses={503: {"model": s.Health, "description": "A service is not serving."}},
    summary="Every service's gRPC health reports SERVING and the public directory is loaded",
)
async def readyz(request: Request) -> Any:
    upstreams: Upstreams = request.app.state.upstreams
    serving = await upstreams.readiness()
    services: dict[str, Literal["serving", "not serving"]] = {
        name: "serving" if up else "not serving" for name, up in serving.items()
    }
    feed = request.app.state.directory
    directory: Literal["loaded", "loading"] | None = (
        None if feed is None else "loaded" if feed.ready else "loading"
    )
    if all(serving.values()) and directory != "loading":
        return s.Health(status="ok", services=services, directory=directory)
    body = s.Health(status="unavailable", services=services, directory=directory)
    return JSONResponse(body.model_dump(), status_code=503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    # The app's HTTP metrics and kit's gRPC client metrics of the calls to the
    # services; with workers, all of theirs (GatewayMetrics.exposition).
    app_metrics: GatewayMetrics = request.app.state.metrics
    return Response(app_metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
