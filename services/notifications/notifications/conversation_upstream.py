"""What conversations ask of other services.

- The registry (the source of truth of stations and deputies), through its
  public reads: a station (`GetStation`: its street, name, the communities
  it serves, whether it is active), the active stations (`ListStations`:
  the demo conversations choose theirs), a station's serving deputies
  (`ListDeputies` by station), a deputy (`GetDeputyProfile`: with their
  station and street) and a street (`GetStreet`). No private contact is
  asked for. Answers are kept a few minutes.
- The reception service, with the caller's own token (their
  `authorization` value forwarded): `RecordOpinion` (an online opinion)
  and `ListOpinions` of a station (to find an opinion recorded before a
  crash by the thread's reference in its text).

A service that cannot be reached is UNAVAILABLE with "nothing was changed"
(reception: "try again"; a retry finds what was recorded).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import grpc
from grpc_status import rpc_status

from kit.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
    violations_from_status,
)
from liaison.common.v1 import envelope_pb2
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.registry.v1 import registry_pb2 as rpb

CACHE_SECONDS = 300.0
PAGE_SIZE = 500
OPINION_PAGE = 200

T = TypeVar("T")


@dataclass(frozen=True)
class StationFacts:
    id: int
    name: str
    street_id: int
    active: bool
    community_ids: tuple[int, ...]


@dataclass(frozen=True)
class DeputyFacts:
    id: int
    name: str
    active: bool
    station_id: int = 0  # 0: none assigned
    street_id: int = 0


@dataclass(frozen=True)
class RecordedOpinion:
    id: int
    tracking_code: str


class Directory(Protocol):
    def station(self, station_id: int) -> StationFacts:
        """The station; NotFound naming it when the registry has none."""
        ...

    def stations(self) -> list[StationFacts]:
        """The active stations, by id."""
        ...

    def station_deputies(self, station_id: int) -> list[DeputyFacts]:
        """The station's serving deputies, by id."""
        ...

    def deputy(self, deputy_id: int) -> DeputyFacts:
        """The deputy; NotFound naming it when the registry has none."""
        ...

    def street_exists(self, street_id: int) -> bool: ...


class OpinionRecorder(Protocol):
    def record(self, request: opb.RecordOpinionRequest, bearer: str) -> RecordedOpinion:
        """Records the opinion as the caller (`bearer`); reception's refusal
        as the matching error."""
        ...

    def find(self, station_id: int, year: int, marker: str, bearer: str) -> RecordedOpinion | None:
        """An online opinion of the station recorded in `year` whose text
        holds `marker`, as the caller may list it; None when there is none."""
        ...


class _Cache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._hits: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            hit = self._hits.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            value: T = hit[1]
            return value
        value = load()
        with self._lock:
            self._hits[key] = (now, value)
        return value


def _registry_refused(error: grpc.RpcError, what: str) -> Exception:
    if error.code() is grpc.StatusCode.NOT_FOUND:
        return NotFound(f"the registry has no {what}")
    return Unavailable(
        f"the registry cannot be reached to read {what}; nothing was changed: try again"
    )


class RegistryDirectory:
    """`Directory` over the registry's gRPC stub (public reads, no token)."""

    def __init__(self, registry: Any, *, cache_seconds: float = CACHE_SECONDS) -> None:
        self.registry = registry
        self.cache = _Cache(cache_seconds)

    def station(self, station_id: int) -> StationFacts:
        def load() -> StationFacts:
            try:
                s = self.registry.GetStation(rpb.GetRequest(id=station_id), timeout=5)
            except grpc.RpcError as error:
                raise _registry_refused(error, f"station {station_id}") from None
            return StationFacts(s.id, s.name, s.street_id, s.active, tuple(s.community_ids))

        return self.cache.get(("station", station_id), load)

    def stations(self) -> list[StationFacts]:
        def load() -> list[StationFacts]:
            found: list[StationFacts] = []
            token = ""
            while True:
                request = rpb.ListStationsRequest(
                    page=envelope_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token)
                )
                try:
                    answer = self.registry.ListStations(request, timeout=10)
                except grpc.RpcError as error:
                    raise _registry_refused(error, "the stations") from None
                found.extend(
                    StationFacts(s.id, s.name, s.street_id, s.active, tuple(s.community_ids))
                    for s in answer.stations
                    if s.active
                )
                token = answer.page.next_page_token
                if not token:
                    return sorted(found, key=lambda s: s.id)

        return self.cache.get(("stations",), load)

    def station_deputies(self, station_id: int) -> list[DeputyFacts]:
        def load() -> list[DeputyFacts]:
            found: list[DeputyFacts] = []
            token = ""
            while True:
                request = rpb.ListDeputiesRequest(
                    station_id=station_id,
                    page=envelope_pb2.PageRequest(page_size=PAGE_SIZE, page_token=token),
                )
                try:
                    answer = self.registry.ListDeputies(request, timeout=10)
                except grpc.RpcError as error:
                    raise _registry_refused(
                        error, f"the deputies of station {station_id}"
                    ) from None
                found.extend(
                    DeputyFacts(d.id, d.name, d.active, d.station_id, d.street_id)
                    for d in answer.deputies
                    if d.active and d.station_id == station_id
                )
                token = answer.page.next_page_token
                if not token:
                    return sorted(found, key=lambda d: d.id)

        return self.cache.get(("station-deputies", station_id), load)

    def deputy(self, deputy_id: int) -> DeputyFacts:
        def load() -> DeputyFacts:
            try:
                d = self.registry.GetDeputyProfile(rpb.GetRequest(id=deputy_id), timeout=5)
            except grpc.RpcError as error:
                raise _registry_refused(error, f"deputy {deputy_id}") from None
            return DeputyFacts(d.id, d.name, d.active, d.station_id, d.street_id)

        return self.cache.get(("deputy", deputy_id), load)

    def street_exists(self, street_id: int) -> bool:
        def load() -> bool:
            try:
                street = self.registry.GetStreet(rpb.GetRequest(id=street_id), timeout=5)
            except grpc.RpcError as error:
                if error.code() is grpc.StatusCode.NOT_FOUND:
                    return False
                raise _registry_refused(error, f"street {street_id}") from None
            return bool(street.active)

        return self.cache.get(("street", street_id), load)


def _reception_refused(error: grpc.RpcError, doing: str) -> Exception:
    code = error.code()
    details = error.details() or ""
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        status = rpc_status.from_call(error)  # type: ignore[arg-type]
        found = violations_from_status(status) if status is not None else []
        return InvalidArgument(f"reception refused to {doing}: {details}", found)
    if code is grpc.StatusCode.FAILED_PRECONDITION:
        return FailedPrecondition(f"reception refused to {doing}: {details}")
    if code is grpc.StatusCode.NOT_FOUND:
        return NotFound(f"reception refused to {doing}: {details}")
    if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        return PermissionDenied(f"reception refused to {doing}: {details}")
    return Unavailable(
        f"the reception service cannot be reached to {doing}: try again (a retry finds an "
        "opinion already recorded)"
    )


class ReceptionOpinions:
    """`OpinionRecorder` over reception's gRPC stub, as the caller."""

    def __init__(self, reception: Any) -> None:
        self.reception = reception

    def record(self, request: opb.RecordOpinionRequest, bearer: str) -> RecordedOpinion:
        try:
            opinion = self.reception.RecordOpinion(
                request, timeout=10, metadata=[("authorization", bearer)]
            )
        except grpc.RpcError as error:
            raise _reception_refused(error, "record the opinion") from None
        return RecordedOpinion(opinion.id, opinion.tracking_code)

    def find(self, station_id: int, year: int, marker: str, bearer: str) -> RecordedOpinion | None:
        token = ""
        while True:
            request = opb.ListOpinionsRequest(
                station_id=station_id,
                statuses=[s for s in opb.OpinionStatus.values() if s],
                source=opb.OPINION_SOURCE_ONLINE,
                year=year,
                page_size=OPINION_PAGE,
                page_token=token,
            )
            try:
                answer = self.reception.ListOpinions(
                    request, timeout=10, metadata=[("authorization", bearer)]
                )
            except grpc.RpcError as error:
                raise _reception_refused(error, "look for the opinion already recorded") from None
            for opinion in answer.opinions:
                if marker in opinion.content:
                    return RecordedOpinion(opinion.id, opinion.tracking_code)
            token = answer.next_page_token
            if not token:
                return None
