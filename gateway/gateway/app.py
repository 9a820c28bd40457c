"""The gateway's FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.auth import TokenVerifier
from gateway.config import GatewaySettings
from gateway.observability import GatewayMetrics, RequestContextMiddleware
from gateway.problems import PROBLEM_MEDIA_TYPE, FieldError, Problem, RowError, install
from gateway.ratelimit import TokenBucketLimiter
from gateway.routes import audit, dev, lookups, ops, portal, resources, rosters
from gateway.upstream import Upstreams
from kit.auth import DevIssuer

DESCRIPTION = """\
JSON API of the Deputy Liaison Platform.

Errors are RFC 9457 problem details (`application/problem+json`). Send
`Authorization: Bearer <JWT>`; public reads need no token. Every response
carries `X-Request-ID`.
"""


def _problem_openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI where every error response is documented as problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in (Problem, FieldError, RowError):
        if model.__name__ not in schemas:
            schemas[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
    # FastAPI's own validation schemas are never sent: 422s are problems.
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            for code, response in operation.get("responses", {}).items():
                if not code.isdigit() or int(code) < 400:
                    continue
                content = response.get("content") or {}
                json_body = content.pop("application/json", None)
                if json_body is not None or not content:
                    content[PROBLEM_MEDIA_TYPE] = json_body or {
                        "schema": {"$ref": "#/components/schemas/Problem"}
                    }
                    if int(code) == 503 and "Health" in str(json_body):
                        content["application/json"] = content.pop(PROBLEM_MEDIA_TYPE)
                response["content"] = content
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    schema["security"] = [{}, {"bearer": []}]
    app.openapi_schema = schema
    return schema


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings.load()
    settings.validate()
    metrics = GatewayMetrics()
    upstreams = Upstreams(settings.targets, settings.grpc_deadline_seconds)
    verifier = TokenVerifier(settings.auth)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await upstreams.close()

    app = FastAPI(
        title="Deputy Liaison Platform API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.upstreams = upstreams
    app.state.verifier = verifier
    app.state.write_limiter = TokenBucketLimiter(settings.write_rate_per_minute)

    install(app)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.include_router(ops.router)
    # Specific paths before the generic `/{resource}/{id}` routes.
    app.include_router(lookups.router)
    app.include_router(rosters.router)
    app.include_router(audit.router)
    if settings.auth.dev_issuer:
        # Signs with the verifier's secret: the one the local run hands every process.
        app.state.dev_issuer = DevIssuer(verifier.settings)
        app.include_router(dev.router)
    app.include_router(resources.build_router())
    app.include_router(portal.router)
    app.mount(portal.STATIC_PREFIX, portal.static_files(), name="portal")
    app.openapi = lambda: _problem_openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
