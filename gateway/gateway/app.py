"""The gateway's FastAPI application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway.auth import TokenVerifier
from gateway.bodylimit import BodyLimitMiddleware, BodyLimits
from gateway.config import GatewaySettings
from gateway.devoidc import DevOidcProvider
from gateway.directory.feed import DirectoryFeed
from gateway.observability import GatewayMetrics, RequestContextMiddleware
from gateway.problems import (
    PROBLEM_MEDIA_TYPE,
    RATE_LIMITED,
    FieldError,
    Problem,
    RowError,
    install,
)
from gateway.ratelimit import RateLimits, rate_limit
from gateway.routes import (
    AllowedMethods,
    activities,
    audit,
    ballots,
    bookings,
    console,
    conversations,
    dev,
    duty_record,
    letters,
    lookups,
    notification_deliveries,
    notification_inbox,
    notification_rules,
    open311,
    opinions,
    ops,
    portal,
    reception,
    resources,
    rosters,
    rota,
    scorecard,
    suggestions,
)
from gateway.upstream import Upstreams
from kit.auth import DevIssuer

DESCRIPTION = """\
JSON API of the Deputy Liaison Platform.

Errors are RFC 9457 problem details (`application/problem+json`). Send
`Authorization: Bearer <JWT>`; public reads need no token. Every response
carries `X-Request-ID`.

Open311 GeoReport v2 is served under `/open311/v2` (tag `open311`), in
JSON or XML by the path's suffix, with the specification's own errors.

Each client (a token's subject, else its address) may make a limited number
of reads and of writes a minute; past that the answer is 429 with
`Retry-After`. A request body larger than the gateway accepts is refused with
413 before it is read.
"""


def _body_errors(limit: int) -> dict[str, Any]:
    """Responses every operation that takes a body may give, as OpenAPI
    objects (their content is filled in as problem+json below)."""
    return {
        "400": {"description": "The body is not well-formed JSON or multipart data."},
        "413": {"description": f"The request body is larger than {limit} bytes."},
    }


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
    body_limits: BodyLimits = app.state.body_limits
    for path, path_item in schema.get("paths", {}).items():
        if path.startswith(open311.PREFIX + "/"):
            # Open311's errors are the specification's, documented by its
            # routes (a parameter FastAPI would refuse with 422 is its 400).
            for operation in path_item.values():
                operation.get("responses", {}).pop("422", None)
            continue
        for operation in path_item.values():
            if "requestBody" in operation:
                for code, response in _body_errors(body_limits.for_template(path)).items():
                    operation["responses"].setdefault(code, response)
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
    rate_limits = RateLimits(settings, metrics)
    feed = (
        DirectoryFeed(upstreams["registry"], settings.amqp_uri, metrics.registry)
        if settings.directory
        else None
    )
    if feed is not None:
        metrics.refresh(feed.refresh_age)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if feed is not None:
            feed.start()
        refreshing = asyncio.create_task(metrics.keep_refreshed())
        yield
        refreshing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refreshing
        if feed is not None:
            await feed.stop()
        await upstreams.close()
        await rate_limits.close()

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
    app.state.rate_limits = rate_limits
    app.state.directory = feed

    install(app)
    # The versioned API and the development issuer's endpoints are
    # rate-limited; health, metrics and the portal's and console's files are not.
    limited: dict[str, Any] = {"dependencies": [Depends(rate_limit)], "responses": RATE_LIMITED}
    # Specific paths before the generic `/{resource}/{id}` routes.
    api = [
        lookups.router,
        reception.router,
        rota.router,
        bookings.router,
        opinions.router,
        letters.router,
        suggestions.router,
        scorecard.router,
        duty_record.router,
        activities.router,
        ballots.router,
        rosters.router,
        audit.router,
        notification_deliveries.router,
        notification_rules.router,
        notification_inbox.router,
        conversations.router,
    ]
    if settings.auth.dev_issuer:
        # Signs with the verifier's secret: the one the local run hands every process.
        app.state.dev_issuer = DevIssuer(verifier.settings)
        app.state.dev_oidc = DevOidcProvider(app.state.dev_issuer)
        api.append(dev.router)
    api.append(resources.build_router())
    # Open311 GeoReport v2: its own paths, its own error shape.
    api.append(open311.router)
    app.state.error_renderers = {open311.PREFIX + "/": open311.render_errors}
    app.include_router(ops.router)
    for router in api:
        app.include_router(router, **limited)
    app.include_router(portal.router)
    app.include_router(console.router)
    pages = [portal.router, console.router]
    if settings.auth.dev_issuer:
        app.include_router(dev.oidc_router, dependencies=limited["dependencies"])
        pages.append(dev.oidc_router)
    app.state.allowed_methods = AllowedMethods([ops.router, *api, *pages])
    app.mount(portal.STATIC_PREFIX, portal.static_files(), name="portal")
    app.mount(console.STATIC_PREFIX, console.static_files(), name="console")
    app.mount(portal.SHARED_PREFIX, portal.shared_files(), name="shared")

    app.state.body_limits = BodyLimits(
        default=settings.max_body_bytes,
        by_route={
            rosters.router.prefix + rosters.IMPORT_PATH: settings.max_upload_bytes,
            letters.router.prefix + letters.ATTACHMENTS_PATH: settings.max_upload_bytes,
            activities.router.prefix + activities.REPORT_PATH: max(
                settings.max_body_bytes, activities.REPORT_BODY_BYTES
            ),
        },
    )
    # Outermost last: the request id and access log wrap everything, then the
    # client address is settled, then the body is limited.
    app.add_middleware(BodyLimitMiddleware, limits=app.state.body_limits)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    app.openapi = lambda: _problem_openapi(app)  # type: ignore[method-assign]
    return app


def __getattr__(name: str) -> Any:
    """`gateway.app:app`, an app from the environment, built when first asked
    for: importing this module (a worker does, for gateway.cli's factory)
    builds nothing."""
    if name == "app":
        built = globals()["app"] = create_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
