"""What the duties service asks the registry about deputies: who a deputy is
(their street, station and level, and whether they still serve) and who the
deputies of a street are, through the registry's public reads
(`GetDeputyProfile`, `ListDeputies`: no private contact is asked for or
kept). A street committee may act only on its street's deputies, so every
use case that names a deputy asks here first.

Answers are kept a few minutes (deputies move rarely, and a page of
activities or visits names the same few); a registry that cannot be reached
is UNAVAILABLE with "nothing was changed", never a guess.

The street committees' budget lines are not read here: the registry serves
them only to staff, so the service keeps what it needs of them from the
registry's events.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc

from kit.convert import EnumNames
from kit.errors import NotFound, Unavailable
from liaison.common.v1 import envelope_pb2
from liaison.registry.v1 import registry_pb2 as rpb

CACHE_SECONDS = 300.0
PAGE_SIZE = 500
LEVEL = EnumNames(rpb.DeputyLevel, "DEPUTY_LEVEL")

T = TypeVar("T")


@dataclass(frozen=True)
class DeputyFacts:
    """What the service needs of a deputy: public facts only."""

    id: int
    name: str
    street_id: int
    station_id: int
    level: str  # district, city, provincial, national
    active: bool


class Deputies(Protocol):
    def deputy(self, deputy_id: int) -> DeputyFacts:
        """The deputy; NotFound naming the id when the registry has none."""
        ...

    def of_street(self, street_id: int) -> list[DeputyFacts]:
        """The street's active deputies (its deputy group), by id."""
        ...

    def all_active(self) -> list[DeputyFacts]:
        """Every active deputy of the district, by id."""
        ...


def _facts(d: Any) -> DeputyFacts:
    return DeputyFacts(
        id=d.id,
        name=d.name,
        street_id=d.street_id,
        station_id=d.station_id,
        level=LEVEL.to_name.get(d.level, ""),
        active=d.active,
    )


class RegistryDeputies:
    """`Deputies` over the registry's gRPC stub, with a short cache."""

    def __init__(self, registry: Any, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self.registry = registry
        self.cache_seconds = cache_seconds
        self._cache: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def _cached(self, key: Any, load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self.cache_seconds:
            value: T = hit[1]
            return value
        value = load()
        with self._lock:
            self._cache[key] = (now, value)
        return value

    def deputy(self, deputy_id: int) -> DeputyFacts:
        def load() -> DeputyFacts:
            try:
                profile = self.registry.GetDeputyProfile(rpb.GetRequest(id=deputy_id), timeout=5)
            except grpc.RpcError as error:
                if error.code() is grpc.StatusCode.NOT_FOUND:
                    raise NotFound(f"the registry has no deputy {deputy_id}") from None
                raise _unavailable() from None
            return _facts(profile)

        return self._cached(("deputy", deputy_id), load)

    def of_street(self, street_id: int) -> list[DeputyFacts]:
        return self._cached(("street", street_id), lambda: self._list(street_id))

    def all_active(self) -> list[DeputyFacts]:
        return self._cached(("district",), lambda: self._list(0))

    def _list(self, street_id: int) -> list[DeputyFacts]:
        found: list[DeputyFacts] = []
        token = ""
        while True:
            request = rpb.ListDeputiesRequest(
                street_id=street_id,
                page=envelope_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token),
            )
            try:
                response = self.registry.ListDeputies(request, timeout=10)
            except grpc.RpcError:
                raise _unavailable() from None
            found.extend(_facts(d) for d in response.deputies if d.active)
            token = response.page.next_page_token
            if not token:
                return sorted(found, key=lambda d: d.id)


def _unavailable() -> Unavailable:
    return Unavailable(
        "the registry cannot be reached to look the deputy up; nothing was changed: try again"
    )
