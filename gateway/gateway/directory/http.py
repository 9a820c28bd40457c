"""Answers from the public directory, as HTTP: one body per question and
data version, with the headers of public data that changes a few times a
day.

- find-station and public profiles are computed from the directory itself
  (`routes/lookups.py`);
- the public lists and records (`GET /api/v1/stations?street_id=1`,
  `GET /api/v1/communities/7`, ...), asked without a token, are the
  registry's own answer, asked once per data version and then served from
  memory (`public_answer`). Every registry change moves the version (each
  writes a numbered event), so an answer kept for a version is that
  version's answer. A caller with a token is answered by the registry: what
  it may see depends on who it is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.directory.feed import DirectoryFeed
from registry.lookup import PublicDirectory

# Public data that changes a few times a day: caches may keep it a minute,
# and check it again by its ETag (the directory's data version).
CACHE_CONTROL = "public, max-age=60"


def render(model: BaseModel) -> bytes:
    """The body FastAPI would send for `model`, made once per directory version."""
    return bytes(JSONResponse(jsonable_encoder(model)).body)


def directory_of(request: Request) -> PublicDirectory | None:
    """The directory this process serves, once loaded (None when turned off)."""
    feed: DirectoryFeed | None = request.app.state.directory
    return feed.current if feed is not None else None


def edge_headers(request: Request, response: Response, directory: PublicDirectory) -> bool:
    """Set the headers of an answer from the public directory; True when the
    client's copy (If-None-Match) is of this version already."""
    etag = f'"directory-{directory.version}"'
    feed: DirectoryFeed = request.app.state.directory
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers["X-Directory-Version"] = str(directory.version)
    # How far behind the registry this answer may be (0 while following its events).
    response.headers["Age"] = str(int(feed.age_seconds()))
    asked = request.headers.get("if-none-match", "")
    return etag in {tag.strip() for tag in asked.split(",")} or asked.strip() == "*"


def not_modified(response: Response) -> Response:
    return Response(status_code=304, headers=dict(response.headers))


def body_response(body: bytes, response: Response) -> Response:
    return Response(body, media_type="application/json", headers=dict(response.headers))


async def public_answer(
    request: Request, key: Hashable, fetch: Callable[[], Awaitable[BaseModel]]
) -> Response | None:
    """The registry's answer to an anonymous public read, asked once per
    data version; None when the directory cannot answer (a token was sent,
    or no directory is loaded): ask the registry then."""
    directory = directory_of(request)
    if directory is None or "authorization" in request.headers:
        return None
    response = Response()
    del response.headers["content-length"]  # as FastAPI's own response parameter
    if edge_headers(request, response, directory):
        return not_modified(response)
    body = directory.body(key)
    if body is None:
        body = render(await fetch())
        directory.keep(key, body)  # into the version asked of, even if a newer one came
    return body_response(body, response)
