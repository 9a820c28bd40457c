"""HTTP routes, one module per concern.

A path parameter written `{name:segment}` matches one path segment up to a
colon: a colon starts a custom method (`/streets/{id}:deactivate`), so
`/streets/1:deactivate` is never read as the record `1:deactivate` of
`/streets/{id}`, and a wrong method on it is 405, not a validation error.
"""

from collections.abc import Iterable

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.convertors import Convertor, register_url_convertor


class SegmentConvertor(Convertor[str]):
    regex = "[^/:]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("segment", SegmentConvertor())


class AllowedMethods:
    """The methods each path of some routers answers, for a 405's `Allow`.

    Starlette's own `Allow` names only the first route whose path matched,
    and a path may have a route per method.
    """

    def __init__(self, routers: Iterable[APIRouter]) -> None:
        self._routes = [
            (route.path_regex, frozenset(route.methods or ()))
            for router in routers
            for route in router.routes
            if isinstance(route, APIRoute)
        ]

    def of(self, path: str) -> list[str]:
        return sorted(
            {m for pattern, methods in self._routes if pattern.match(path) for m in methods}
        )
