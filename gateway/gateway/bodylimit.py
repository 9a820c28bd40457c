"""Request body limits, enforced before anything parses the body.

A pure ASGI middleware: a declared Content-Length over the limit is refused at
once, without reading the body; a body without one (chunked) is counted as it
streams in, and the chunk that would cross the limit is never handed on, so
neither the JSON parser nor the multipart parser (which spools uploads to
disk) sees more than the limit. Both answer 413 problem+json and close the
connection, since the rest of the body is left unread.

Each route may have its own limit (the roster import takes spreadsheets);
every other request gets the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from re import Pattern

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.problems import problem_response

# The rest of an over-limit body is never read, so the connection cannot
# carry another request.
_CLOSE = {"Connection": "close"}


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body crosses its limit.

    An HTTPException, so FastAPI's body parsing passes it on unchanged and the
    app's handler answers it as a problem like any other.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes", headers=_CLOSE)


@dataclass(frozen=True)
class BodyLimits:
    """The default limit and the route templates that have their own."""

    default: int
    by_route: Mapping[str, int] = field(default_factory=dict)
    _patterns: tuple[tuple[Pattern[str], int], ...] = field(init=False, repr=False)
    _by_format: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        compiled = [(compile_path(t), n) for t, n in self.by_route.items()]
        object.__setattr__(self, "_patterns", tuple((c[0], n) for c, n in compiled))
        # OpenAPI names paths without convertors: `{kind}`, not `{kind:segment}`.
        object.__setattr__(self, "_by_format", {c[1]: n for c, n in compiled})

    def for_path(self, path: str) -> int:
        for pattern, limit in self._patterns:
            if pattern.match(path):
                return limit
        return self.default

    def for_template(self, template: str) -> int:
        """The limit of a route, by its path as OpenAPI writes it."""
        return self._by_format.get(template, self.default)


def _content_length(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return str(value.decode("latin-1"))
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = _content_length(scope)
        if declared is not None:
            declared = declared.strip()
            if not (declared.isascii() and declared.isdigit()):
                await _refuse(scope, receive, send, 400, "Content-Length is not a number of bytes")
                return
            if int(declared) > limit:
                await _refuse(scope, receive, send, 413, BodyTooLarge(limit).detail)
                return

        received = 0
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal response_started
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except BodyTooLarge as exc:
            # Reached only when the body was read outside FastAPI's request
            # handling (whose exception handlers answer it otherwise).
            if response_started:
                raise
            await _refuse(scope, receive, send, 413, exc.detail)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    response = problem_response(Request(scope), status, detail=detail, headers=_CLOSE)
    await response(scope, receive, send)
