"""The public's questions, answered from the public directory: which
community a FindStation request names (by id, by code, or by an address
naming it), the station that serves it with its deputies, a deputy's public
profile. One set of rules, used where the registry answers and where the
gateway's copy of the directory answers in its place, so both answer alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from kit.errors import FailedPrecondition, NotFound, invalid
from liaison.registry.v1 import registry_pb2 as pb
from registry import domain
from registry.convert import LEVEL


class CommunityIndex:
    """The active communities, as a request can name them."""

    def __init__(self, communities: Iterable[tuple[int, str, str, Iterable[str]]]) -> None:
        """`communities`: (id, code, name, address keywords) of each active one."""
        self.names: dict[int, str] = {}
        self.by_code: dict[str, int] = {}
        self.terms: list[domain.CommunityTerms] = []
        for cid, code, name, keywords in communities:
            self.names[cid] = name
            self.by_code[code] = cid
            self.terms.append(domain.CommunityTerms(cid, name, tuple(keywords)))

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
            matches = domain.match_community(address, self.terms)
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


@dataclass
class PublicDirectory:
    """One version of the public directory, indexed for the public's questions.

    Built from one snapshot (`Registry.directory`, streamed as
    StreamDirectory) and never changed: a newer version is a new one,
    swapped in whole, so no answer sees half of a change. The registry
    answers FindStation with it, and so does each gateway process from its
    own copy: the same rules, the same answers."""

    version: int
    streets: dict[int, pb.Street]
    communities: dict[int, pb.Community]
    venues: dict[int, pb.Venue]
    stations: dict[int, pb.Station]
    deputies: dict[int, pb.DeputyProfile]
    heads: set[tuple[int, int]]  # (station_id, deputy_id)
    index: CommunityIndex = field(init=False)
    serving: dict[int, int] = field(init=False)  # community -> station
    _answers: dict[int, pb.FindStationResponse] = field(init=False, default_factory=dict)
    _bodies: dict[Hashable, bytes] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.index = CommunityIndex(
            (c.id, c.code, c.name, c.address_keywords) for c in self.communities.values()
        )
        self.serving = {
            community_id: station.id
            for station in sorted(self.stations.values(), key=lambda s: s.id)
            for community_id in station.community_ids
        }

    @classmethod
    def from_chunks(cls, chunks: Iterable[pb.DirectoryChunk]) -> PublicDirectory:
        version = -1
        streets: dict[int, pb.Street] = {}
        communities: dict[int, pb.Community] = {}
        venues: dict[int, pb.Venue] = {}
        stations: dict[int, pb.Station] = {}
        deputies: dict[int, pb.DeputyProfile] = {}
        heads: set[tuple[int, int]] = set()
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
            heads.update((h.station_id, h.deputy_id) for h in chunk.station_heads)
            complete = chunk.last
        if not complete:
            raise ValueError("the snapshot ended before its last chunk")
        return cls(version, streets, communities, venues, stations, deputies, heads)

    # -- the public's questions, as the registry answers them

    def find_station(self, request: pb.FindStationRequest) -> pb.FindStationResponse:
        return self.station_answer(self.index.community_for(request))

    def prepared(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """A response body rendered once per version: this directory never changes."""
        with self._lock:
            body = self._bodies.get(key)
        if body is None:
            body = render()
            with self._lock:
                self._bodies[key] = body
        return body

    def station_answer(self, community_id: int) -> pb.FindStationResponse:
        with self._lock:
            cached = self._answers.get(community_id)
        if cached is not None:
            return cached
        answer = self._station_answer(community_id)
        with self._lock:
            self._answers[community_id] = answer
        return answer

    def _station_answer(self, community_id: int) -> pb.FindStationResponse:
        community = self.communities[community_id]
        station_id = self.serving.get(community_id)
        if station_id is None:
            raise NotFound(f"no active liaison station serves {community.name} yet")
        station = self.stations[station_id]
        at_station = sorted(
            (d for d in self.deputies.values() if d.station_id == station.id), key=_deputy_order
        )
        contacts = sorted(
            (d for d in self.deputies.values() if community_id in d.contact_community_ids),
            key=lambda d: d.code,
        )
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
