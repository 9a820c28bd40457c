"""RFC 9457 problem details: the one shape of every error the gateway returns.

gRPC status codes are mapped with the table in docs/CONVENTIONS.md; field
violations (`google.rpc.BadRequest`) and roster row errors
(`liaison.registry.v1.RosterImportErrors`) become `errors` entries so a client
can point at the offending field or spreadsheet cell.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from google.rpc import status_pb2
from grpc_status import rpc_status
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.upstream import UpstreamError
from kit.errors import DomainError, violations_from_status
from liaison.registry.v1 import registry_pb2

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("gateway.problems")


class FieldError(BaseModel):
    """What is wrong with one field of the request."""

    field: str = Field(description="Dotted path of the field, e.g. `body.name` or `page_size`.")
    message: str


class RowError(BaseModel):
    """What is wrong with one cell of an uploaded roster."""

    row: int = Field(description="1-based spreadsheet row; the header is row 1.")
    column: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object (`application/problem+json`)."""

    type: str = Field(description="URI reference identifying the problem type.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path.")
    request_id: str | None = Field(default=None, description="Also sent as `X-Request-ID`.")
    errors: list[FieldError | RowError] | None = Field(
        default=None,
        description="Field violations (`field`, `message`) or roster rows (`row`, `column`, `message`).",
    )


# How errors are answered under a path prefix of their own shape:
# (request, status, detail, field errors, headers) -> the response.
ErrorRenderer = Callable[
    [Request, int, str, list[FieldError | RowError], dict[str, str] | None], Response
]

# slug and title for each status the gateway returns.
_KINDS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Payload too large"),
    422: ("invalid-request", "Invalid request"),
    429: ("too-many-requests", "Too many requests"),
    500: ("internal-error", "Internal error"),
    502: ("bad-gateway", "Upstream error"),
    503: ("unavailable", "Service unavailable"),
    504: ("upstream-timeout", "Upstream timeout"),
}

GRPC_TO_HTTP: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 422,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNAVAILABLE: 503,
}


# Failures the client channel itself reports, in words of its own.
_TRANSPORT_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


def problem_type(status: int) -> str:
    slug = _KINDS.get(status, ("error", "Error"))[0]
    return f"/problems/{slug}"


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: list[FieldError | RowError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title or str(status))
        self.status = status
        self.detail = detail
        self.title = title or _KINDS.get(status, ("error", "Error"))[1]
        self.errors = errors
        self.headers = headers or {}


def invalid_field(field: str, message: str) -> ProblemError:
    return ProblemError(
        422, f"{field}: {message}", errors=[FieldError(field=field, message=message)]
    )


def problem_response(
    request: Request,
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    errors: list[FieldError | RowError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The problem as problem+json; under a prefix with an error shape of
    its own (`app.state.error_renderers`: Open311's list of errors) in that
    shape."""
    app = request.scope.get("app")
    renderers: dict[str, ErrorRenderer] = getattr(
        getattr(app, "state", None), "error_renderers", {}
    )
    for prefix, render in renderers.items():
        if request.url.path.startswith(prefix):
            return render(
                request,
                status,
                detail or title or _KINDS.get(status, ("error", "Error"))[1],
                errors or [],
                headers,
            )
    problem = Problem(
        type=problem_type(status),
        title=title or _KINDS.get(status, ("error", "Error"))[1],
        status=status,
        detail=detail,
        instance=request.url.path,
        request_id=getattr(request.state, "request_id", None),
        errors=errors,
    )
    return JSONResponse(
        jsonable_encoder(problem, exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _rpc_status(error: grpc.RpcError) -> status_pb2.Status | None:
    try:
        return rpc_status.from_call(error)  # type: ignore[arg-type]
    except (ValueError, AttributeError):
        # Inconsistent trailers are the upstream's fault; fall back to code + details.
        return None


def problem_from_rpc_error(error: grpc.RpcError, service: str = "upstream service") -> ProblemError:
    """The problem that stands for a failed gRPC call to `service`."""
    code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
    details: str = error.details() or ""  # type: ignore[attr-defined]
    status = GRPC_TO_HTTP.get(code, 502)
    errors: list[FieldError | RowError] = []
    rich = _rpc_status(error)
    if rich is not None:
        for any_detail in rich.details:
            if any_detail.Is(registry_pb2.RosterImportErrors.DESCRIPTOR):
                rows = registry_pb2.RosterImportErrors()
                any_detail.Unpack(rows)
                errors.extend(
                    RowError(row=e.row, column=e.column, message=e.reason) for e in rows.errors
                )
        if not errors:
            # A failed import also states its rows as field violations; the
            # rows (with row and column apart) are the more useful of the two.
            errors.extend(
                FieldError(field=v.field, message=v.description)
                for v in violations_from_status(rich)
            )
    if status in (502, 503, 504):
        # Upstream internals are not the client's business; the log keeps them.
        # A server's own message may quote the request (a name, an address),
        # so only the channel's own words are logged; the service logs the
        # rest under the same correlation id.
        said = details if code in _TRANSPORT_CODES else f"(see the {service} service's log)"
        log.warning("%s call failed: %s %s", service, code.name, said)
        detail: str | None = {
            503: f"the {service} service is unavailable",
            504: f"the {service} service did not answer in time",
        }.get(status, f"the {service} service failed")
    else:
        detail = details or None
    return ProblemError(status, detail, errors=errors or None)


def problem_from_domain_error(error: DomainError) -> ProblemError:
    """The problem that stands for a service's rule, answered at the edge
    (the public directory) as the service would have answered it."""
    errors: list[FieldError | RowError] = [
        FieldError(field=v.field, message=v.description) for v in error.violations
    ]
    return ProblemError(GRPC_TO_HTTP.get(error.code, 502), error.message, errors=errors or None)


def _validation_errors(exc: RequestValidationError) -> list[FieldError | RowError]:
    found: list[FieldError | RowError] = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        # Validator markers such as "function-after[...]" mean nothing to a client.
        loc = [part for part in loc if not part.startswith("function-")]
        found.append(FieldError(field=".".join(loc), message=str(error.get("msg", "invalid"))))
    return found


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return problem_response(
            request,
            exc.status,
            title=exc.title,
            detail=exc.detail,
            errors=exc.errors,
            headers=exc.headers,
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = _validation_errors(exc)
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors if isinstance(e, FieldError))
        return problem_response(request, 422, detail=detail, errors=errors)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        allowed = getattr(request.app.state, "allowed_methods", None)
        if exc.status_code == 405 and allowed is not None:
            headers["Allow"] = ", ".join(allowed.of(request.url.path))
        return problem_response(request, exc.status_code, detail=detail, headers=headers)

    async def on_rpc(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, grpc.RpcError)
        return await on_problem(request, problem_from_rpc_error(exc))

    async def on_upstream(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UpstreamError)
        return await on_problem(request, problem_from_rpc_error(exc.error, exc.service))

    app.add_exception_handler(UpstreamError, on_upstream)
    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(grpc.RpcError, on_rpc)


def problem_doc(description: str) -> dict[str, Any]:
    # FastAPI documents `model` as application/json; openapi.py moves every
    # error response to application/problem+json, which is what is sent.
    return {"model": Problem, "description": description}


# Error responses shared by routes, for OpenAPI.
UPSTREAM_ERRORS: dict[int | str, dict[str, Any]] = {
    502: problem_doc("A service behind the gateway failed; `detail` names it."),
    503: problem_doc("A service behind the gateway is unavailable; `detail` names it."),
    504: problem_doc("A service behind the gateway did not answer in time; `detail` names it."),
}
VALIDATION = {422: problem_doc("The request is invalid; `errors` names each field.")}
NOT_FOUND = {404: problem_doc("No such record.")}
CONFLICT = {409: problem_doc("The change conflicts with the current state.")}
AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem_doc("No valid bearer token."),
    403: problem_doc("The token's role or street may not do this."),
}
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: problem_doc("Too many requests from this client; retry after `Retry-After` seconds.")
}


def responses(*groups: dict[Any, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    merged: dict[int | str, dict[str, Any]] = {}
    for group in groups:
        merged.update(group)
    return merged
