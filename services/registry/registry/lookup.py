"""The public's questions, answered from the public directory: which
community a FindStation request names (by id, by code, or by an address
naming it), the station that serves it with its deputies, a deputy's public
profile. One set of rules, used where the registry answers and where the
gateway's copy of the directory answers in its place, so both answer alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from kit.errors import FailedPrecondition, NotFound, invalid
from kit.events import Envelope, UnprocessableEvent
from liaison.registry.v1 import events_pb2 as ev
from liaison.registry.v1 import registry_pb2 as pb
from registry import domain
from registry.convert import LEVEL, ROLE


class CommunityIndex:
    """The active communities, as a request can name them."""

    def __init__(self, communities: Iterable[tuple[int, str, str, Iterable[str]]]) -> None:
        """`communities`: (id, code, name, address keywords) of each active one."""
        self.names: dict[int, str] = {}
        self.by_code: dict[str, int] = {}
        terms: list[domain.CommunityTerms] = []
        for cid, code, name, keywords in communities:
            self.names[cid] = name
            self.by_code[code] = cid
            terms.append(domain.CommunityTerms(cid, name, tuple(keywords)))
        self.terms = domain.TermIndex(terms)

    def community_for(self, request: pb.FindStationRequest) -> int:
        by = request.WhichOneof("by")
        if by == "community_id":
            if request.community_id not in self.names:
                raise NotFound(f"no active community has id {request.community_id}")
            return request.community_id
        if by == "community_code":
            found = self.by_code.get(request.community_code)
            if found is None:
                raise NotFound(f"no active community has code {request.community_code!r}")
            return found
        if by == "address":
            address = request.address.strip()
            if len(address) < 2:
                raise invalid("address", "give at least a road, estate or community name")
            matches = self.terms.match(address)
            if not matches:
                raise NotFound("no community of the district is named in the address")
            if len(matches) > 1:
                names = "、".join(self.names[c] for c in matches)
                raise FailedPrecondition(
                    f"the address could be in {names}: add the community or estate name"
                )
            return matches[0]
        raise invalid("by", "give community_id, community_code or address")


def _deputy_order(profile: pb.DeputyProfile) -> tuple[int, str]:
    return domain.level_rank(LEVEL.to_name.get(profile.level, "")), profile.code


class CannotApply(ValueError):
    """An event the public directory cannot apply: its holder loads a snapshot."""


# Events that change nothing the public directory holds.
_NOT_PUBLIC = frozenset({"area_changed", "unit_changed", "budget_line_changed"})
_DEPUTY_EVENTS = frozenset(
    {"deputy_registered", "deputy_updated", "deputy_reassigned", "deputy_deactivated"}
)
_POSITION_EVENTS = frozenset({"position_filled", "position_vacated"})
_STATION_HEAD = ROLE.number("station_head")
# Answers and response bodies kept per version, at most (a district asks a
# few hundred questions; a province's every question would be ~18,000).
MAX_BODIES = 5_000


@dataclass
class PublicDirectory:
    """One version of the public directory, indexed for the public's questions.

    Built from one snapshot (`Registry.directory`, streamed as
    StreamDirectory), or from an older version and the events that came
    after it (`applied`). A version is never changed: a newer one is a new
    object, swapped in whole, so no answer sees half of a change. The
    registry answers FindStation with it, and so does each gateway process
    from its own copy: the same rules, the same answers."""

    version: int
    streets: dict[int, pb.Street]
    communities: dict[int, pb.Community]
    venues: dict[int, pb.Venue]
    stations: dict[int, pb.Station]
    deputies: dict[int, pb.DeputyProfile]
    # position id -> (station_id, deputy_id) of each station head in office
    head_positions: dict[int, tuple[int, int]]
    # Indexes derived from the records above; an applied version passes on
    # those its events left alone.
    index: CommunityIndex | None = None
    serving: dict[int, int] | None = None  # community -> station
    _by_station: dict[int, list[pb.DeputyProfile]] | None = None
    _by_contact: dict[int, list[pb.DeputyProfile]] | None = None
    heads: set[tuple[int, int]] = field(init=False)  # (station_id, deputy_id)
    _answers: dict[int, pb.FindStationResponse] = field(init=False, default_factory=dict)
    _bodies: dict[Hashable, bytes] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.index is None:
            self.index = CommunityIndex(
                (c.id, c.code, c.name, c.address_keywords) for c in self.communities.values()
            )
        if self.serving is None:
            self.serving = {
                community_id: station.id
                for station in sorted(self.stations.values(), key=lambda s: s.id)
                for community_id in station.community_ids
            }
        if self._by_station is None or self._by_contact is None:
            by_station: dict[int, list[pb.DeputyProfile]] = {}
            by_contact: dict[int, list[pb.DeputyProfile]] = {}
            for deputy in self.deputies.values():
                if deputy.station_id:
                    by_station.setdefault(deputy.station_id, []).append(deputy)
                for community_id in deputy.contact_community_ids:
                    by_contact.setdefault(community_id, []).append(deputy)
            for deputies in by_station.values():
                deputies.sort(key=_deputy_order)
            for deputies in by_contact.values():
                deputies.sort(key=lambda d: d.code)
            self._by_station, self._by_contact = by_station, by_contact
        self.heads = set(self.head_positions.values())

    @classmethod
    def from_chunks(cls, chunks: Iterable[pb.DirectoryChunk]) -> PublicDirectory:
        version = -1
        streets: dict[int, pb.Street] = {}
        communities: dict[int, pb.Community] = {}
        venues: dict[int, pb.Venue] = {}
        stations: dict[int, pb.Station] = {}
        deputies: dict[int, pb.DeputyProfile] = {}
        heads: dict[int, tuple[int, int]] = {}
        complete = False
        for chunk in chunks:
            if version not in (-1, chunk.version):
                raise ValueError("a snapshot's chunks disagree on its version")
            version = chunk.version
            streets.update((s.id, s) for s in chunk.streets)
            communities.update((c.id, c) for c in chunk.communities)
            venues.update((v.id, v) for v in chunk.venues)
            stations.update((s.id, s) for s in chunk.stations)
            deputies.update((d.id, d) for d in chunk.deputies)
            heads.update((h.position_id, (h.station_id, h.deputy_id)) for h in chunk.station_heads)
            complete = chunk.last
        if not complete:
            raise ValueError("the snapshot ended before its last chunk")
        return cls(version, streets, communities, venues, stations, deputies, heads)

    def same_records(self, other: PublicDirectory) -> bool:
        """Whether both hold the same records (whatever their versions)."""
        return (
            self.streets == other.streets
            and self.communities == other.communities
            and self.venues == other.venues
            and self.stations == other.stations
            and self.deputies == other.deputies
            and self.head_positions == other.head_positions
        )

    # -- a newer version from events

    def applied(self, events: Iterable[Envelope], version: int) -> PublicDirectory:
        """The directory after `events` (registry.events, in their order), as
        version `version`. Each event carries its record whole, so applying
        it is a replace (or a removal, for what is no longer active). Raises
        CannotApply for an event it does not know: load a snapshot then."""
        patch = _Patch(self)
        for event in events:
            patch.apply(event)
        return patch.result(version)

    # -- the public's questions, as the registry answers them

    def find_station(self, request: pb.FindStationRequest) -> pb.FindStationResponse:
        assert self.index is not None
        return self.station_answer(self.index.community_for(request))

    def prepared(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """A response body rendered once per version: this directory never changes."""
        body = self.body(key)
        if body is None:
            body = render()
            self.keep(key, body)
        return body

    def body(self, key: Hashable) -> bytes | None:
        """A response body kept for this version (`keep`), if any."""
        with self._lock:
            return self._bodies.get(key)

    def keep(self, key: Hashable, body: bytes) -> None:
        """Keep a body for as long as this version is served; beyond
        MAX_BODIES kinds of question (a crawler's every query) nothing more."""
        with self._lock:
            if len(self._bodies) < MAX_BODIES:
                self._bodies[key] = body

    def station_answer(self, community_id: int, keep: bool = True) -> pb.FindStationResponse:
        """The answer for a community; kept for this version unless `keep` is
        False (the gateway keeps the rendered body instead)."""
        with self._lock:
            cached = self._answers.get(community_id)
        if cached is not None:
            return cached
        answer = self._station_answer(community_id)
        if keep:
            with self._lock:
                if len(self._answers) < MAX_BODIES:
                    self._answers[community_id] = answer
        return answer

    def _station_answer(self, community_id: int) -> pb.FindStationResponse:
        assert self.serving is not None
        community = self.communities[community_id]
        station_id = self.serving.get(community_id)
        if station_id is None:
            raise NotFound(f"no active liaison station serves {community.name} yet")
        station = self.stations[station_id]
        assert self._by_station is not None and self._by_contact is not None
        at_station = self._by_station.get(station.id, [])
        contacts = self._by_contact.get(community_id, [])
        return pb.FindStationResponse(
            community=community,
            station=station,
            venue=self.venues.get(station.venue_id) if station.venue_id else None,
            street=self.streets.get(station.street_id),
            deputies=[
                pb.StationDeputy(deputy=d, is_station_head=(station.id, d.id) in self.heads)
                for d in at_station
            ],
            contact_deputies=contacts,
        )

    def deputy_profile(self, deputy_id: int) -> pb.DeputyProfile | None:
        """The profile of an active deputy; None when this directory has none
        (the registry also knows deactivated deputies: ask it)."""
        return self.deputies.get(deputy_id)


class _Patch:
    """The records of a directory being brought up to date by events: each
    kind of record is copied on its first change, and the indexes over a
    kind are made again only when it changed."""

    def __init__(self, base: PublicDirectory) -> None:
        self.base = base
        self.streets = base.streets
        self.communities = base.communities
        self.venues = base.venues
        self.stations = base.stations
        self.deputies = base.deputies
        self.head_positions = base.head_positions
        self.touched: set[str] = set()

    def _own(self, kind: str) -> Any:
        """This patch's own copy of a kind of record, made on first change."""
        records = getattr(self, kind)
        if kind not in self.touched:
            records = dict(records)
            setattr(self, kind, records)
            self.touched.add(kind)
        return records

    def _put(self, kind: str, record: Any) -> None:
        records = self._own(kind)
        if record.active:
            records[record.id] = record
        else:
            records.pop(record.id, None)

    def _rename(self, attr_id: str, attr_name: str, record_id: int, name: str) -> None:
        """Profiles name their street and station: a renamed one renames them."""
        stale = [
            d
            for d in self.deputies.values()
            if getattr(d, attr_id) == record_id and getattr(d, attr_name) != name
        ]
        if stale:
            deputies = self._own("deputies")
            for deputy in stale:
                renamed = pb.DeputyProfile()
                renamed.CopyFrom(deputy)
                setattr(renamed, attr_name, name)
                deputies[deputy.id] = renamed

    def apply(self, event: Envelope) -> None:
        kind = event.type
        try:
            if kind in _NOT_PUBLIC:
                return
            if kind in _DEPUTY_EVENTS:
                deputy = event.payload_as(_PAYLOADS[kind]).deputy  # type: ignore[attr-defined]
                self._put("deputies", deputy)
            elif kind in _POSITION_EVENTS:
                position = event.payload_as(_PAYLOADS[kind]).position  # type: ignore[attr-defined]
                heads = self._own("head_positions")
                if (
                    position.role == _STATION_HEAD
                    and position.deputy_id
                    and position.station_id
                    and not position.ended_on
                ):
                    heads[position.id] = (position.station_id, position.deputy_id)
                else:
                    heads.pop(position.id, None)
            elif kind == "street_changed":
                street = event.payload_as(ev.StreetChanged).street
                self._put("streets", street)
                self._rename("street_id", "street_name", street.id, street.name)
            elif kind == "station_changed":
                station = event.payload_as(ev.StationChanged).station
                self._put("stations", station)
                self._rename("station_id", "station_name", station.id, station.name)
            elif kind == "community_changed":
                self._put("communities", event.payload_as(ev.CommunityChanged).community)
            elif kind == "venue_changed":
                self._put("venues", event.payload_as(ev.VenueChanged).venue)
            else:
                raise CannotApply(f"the public directory does not know {kind!r} events")
        except UnprocessableEvent as exc:
            raise CannotApply(str(exc)) from None

    def result(self, version: int) -> PublicDirectory:
        base, touched = self.base, self.touched
        return PublicDirectory(
            version,
            self.streets,
            self.communities,
            self.venues,
            self.stations,
            self.deputies,
            self.head_positions,
            index=None if "communities" in touched else base.index,
            serving=None if "stations" in touched else base.serving,
            _by_station=None if "deputies" in touched else base._by_station,
            _by_contact=None if "deputies" in touched else base._by_contact,
        )


_PAYLOADS: dict[str, type[Message]] = {
    "deputy_registered": ev.DeputyRegistered,
    "deputy_updated": ev.DeputyUpdated,
    "deputy_reassigned": ev.DeputyReassigned,
    "deputy_deactivated": ev.DeputyDeactivated,
    "position_filled": ev.PositionFilled,
    "position_vacated": ev.PositionVacated,
}
