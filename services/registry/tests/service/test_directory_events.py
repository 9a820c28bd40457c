"""The public directory brought up to date by events equals a fresh snapshot.

The edge keeps its copy of the directory by applying `registry.events` to
the snapshot it loaded (`PublicDirectory.applied`). Here a seeded random
sequence of writes through the gRPC API (creates, updates, renames,
deactivations, stations handed communities, deputies moved, heads changed)
runs against the demo district; after each write the events it wrote are
applied to the directory, which must then hold exactly the records of a
snapshot taken afresh, and answer every question alike.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from kit.events import Envelope
from liaison.registry.v1 import registry_pb2 as pb
from registry.lookup import CannotApply, PublicDirectory
from registry.testing import Town, unique

pytestmark = pytest.mark.postgres

SEED = 20261126
STEPS = 60
# What a random write may be refused for; anything else fails the test.
REFUSALS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.NOT_FOUND,
}


def fresh(api: Any) -> PublicDirectory:
    return PublicDirectory.from_chunks(api.registry.directory())


def mask(*paths: str) -> FieldMask:
    return FieldMask(paths=list(paths))


class Writer:
    """Random writes of the kinds that change what the public sees."""

    def __init__(self, api: Any, rng: random.Random) -> None:
        self.api, self.stub, self.rng = api, api.stub, rng
        self.towns = [Town(api.stub), Town(api.stub)]

    def _pick(self, items: Any) -> Any:
        items = list(items)
        return self.rng.choice(items) if items else None

    def _community(self, directory: PublicDirectory) -> pb.Community | None:
        return self._pick(directory.communities.values())

    def _station(self, directory: PublicDirectory) -> pb.Station | None:
        return self._pick(directory.stations.values())

    def _deputy(self, directory: PublicDirectory) -> pb.DeputyProfile | None:
        return self._pick(directory.deputies.values())

    def actions(self) -> list[Callable[[PublicDirectory], str]]:
        return [
            self.new_community,
            self.rekey_community,
            self._retire("communities", "DeactivateCommunity", "撤并"),
            self.new_station,
            self.rename_station,
            self.hand_over_community,
            self._retire("stations", "DeactivateStation", "合并"),
            self.new_deputy,
            self.edit_deputy,
            self.move_deputy,
            self._retire("deputies", "DeactivateDeputy", "调离"),
            self.new_head,
            self.vacate_head,
            self.reassign_head,
            self.rename_street,
            self.edit_venue,
            self.edit_area,
        ]

    def _update(self, kind: str, **fields: Any) -> None:
        """`Update<Kind>` of the fields given (and `id`), masked to them."""
        name = kind.capitalize()
        request = getattr(pb, f"Update{name}Request")(
            **{kind: getattr(pb, name)(**fields)},
            update_mask=mask(*(f for f in fields if f != "id")),
        )
        getattr(self.stub, f"Update{name}")(request)

    def _retire(self, kind: str, rpc: str, reason: str) -> Callable[[PublicDirectory], str]:
        """Deactivate a record of `kind` at random."""

        def retire(d: PublicDirectory) -> str:
            record = self._pick(getattr(d, kind).values())
            if record is None:
                return f"no {kind}"
            getattr(self.stub, rpc)(pb.DeactivateRequest(id=record.id, reason=reason))
            return f"{rpc} {record.id}"

        retire.__name__ = rpc
        return retire

    def new_community(self, _d: PublicDirectory) -> str:
        town = self.rng.choice(self.towns)
        road = f"随机路{uuid.uuid4().hex[:5]}"
        town.add_community(f"随机{uuid.uuid4().hex[:4]}社区", [road])
        return "create a community"

    def rekey_community(self, d: PublicDirectory) -> str:
        community = self._community(d)
        if community is None:
            return "no community"
        self._update(
            "community",
            id=community.id,
            name=f"改名{uuid.uuid4().hex[:4]}社区",
            address_keywords=[*community.address_keywords, f"新路{uuid.uuid4().hex[:4]}"],
        )
        return f"rename and rekey community {community.id}"

    def new_station(self, d: PublicDirectory) -> str:
        town = self.rng.choice(self.towns)
        served = set(d.serving or {})
        free = [c.id for c in d.communities.values() if c.id not in served]
        town.add_station(self.rng.randint(2, 10_000), free[:1])
        return "create a station"

    def rename_station(self, d: PublicDirectory) -> str:
        station = self._station(d)
        if station is None:
            return "no station"
        self._update("station", id=station.id, name=f"{station.name[:20]}{self.rng.randint(1, 99)}")
        return f"rename station {station.id}"

    def hand_over_community(self, d: PublicDirectory) -> str:
        giver = self._pick(s for s in d.stations.values() if s.community_ids)
        taker = self._station(d)
        if giver is None or taker is None or giver.id == taker.id:
            return "no hand-over"
        moved = self.rng.choice(list(giver.community_ids))
        kept = [c for c in giver.community_ids if c != moved]
        self._update("station", id=giver.id, community_ids=kept)
        self._update("station", id=taker.id, community_ids=[*taker.community_ids, moved])
        return f"community {moved} from station {giver.id} to {taker.id}"

    def new_deputy(self, d: PublicDirectory) -> str:
        town = self.rng.choice(self.towns)
        station = self._pick(s for s in d.stations.values() if s.street_id == town.street.id)
        contacts = [c.id for c in d.communities.values() if c.street_id == town.street.id][:2]
        level = self.rng.choice(["national", "provincial", "city", "district"])
        town.add_deputy(level, station=station or town.station, contact_community_ids=contacts)
        return "register a deputy"

    def edit_deputy(self, d: PublicDirectory) -> str:
        deputy = self._deputy(d)
        if deputy is None:
            return "no deputy"
        self._update(
            "deputy",
            id=deputy.id,
            name=f"代表{uuid.uuid4().hex[:4]}",
            expertise=["教育", unique("e")[:12]],
            biography="履职简介",
        )
        return f"edit deputy {deputy.id}"

    def move_deputy(self, d: PublicDirectory) -> str:
        deputy = self._deputy(d)
        station = self._station(d)
        if deputy is None or station is None:
            return "no move"
        self._update("deputy", id=deputy.id, station_id=station.id, street_id=station.street_id)
        return f"move deputy {deputy.id} to station {station.id}"

    def new_head(self, d: PublicDirectory) -> str:
        deputy = self._pick(v for v in d.deputies.values() if v.station_id in d.stations)
        if deputy is None:
            return "no deputy at a station"
        self.stub.FillPosition(
            pb.FillPositionRequest(
                position=pb.Position(
                    role=pb.POSITION_ROLE_STATION_HEAD,
                    station_id=deputy.station_id,
                    deputy_id=deputy.id,
                    started_on="2026-01-05",
                )
            )
        )
        return f"deputy {deputy.id} heads station {deputy.station_id}"

    def vacate_head(self, d: PublicDirectory) -> str:
        position_id = self._pick(d.head_positions)
        if position_id is None:
            return "no head"
        self.stub.VacatePosition(pb.VacatePositionRequest(id=position_id, reason="换届"))
        return f"vacate head position {position_id}"

    def reassign_head(self, d: PublicDirectory) -> str:
        position_id = self._pick(d.head_positions)
        if position_id is None:
            return "no head"
        station_id, _ = d.head_positions[position_id]
        deputy = self._pick(v for v in d.deputies.values() if v.station_id == station_id)
        if deputy is None:
            return "no other deputy"
        self._update("position", id=position_id, deputy_id=deputy.id)
        return f"head position {position_id} to deputy {deputy.id}"

    def rename_street(self, _d: PublicDirectory) -> str:
        town = self.rng.choice(self.towns)
        self._update("street", id=town.street.id, name=f"{town.tag}{self.rng.randint(1, 99)}街道")
        return f"rename street {town.street.id}"

    def edit_venue(self, d: PublicDirectory) -> str:
        venue = self._pick(d.venues.values())
        if venue is None:
            return "no venue"
        self._update("venue", id=venue.id, name=f"活动室{self.rng.randint(1, 99)}", capacity=40)
        return f"edit venue {venue.id}"

    def edit_area(self, _d: PublicDirectory) -> str:
        town = self.rng.choice(self.towns)
        self._update("area", id=town.area.id, name=f"片区{self.rng.randint(1, 99)}")
        return f"rename area {town.area.id}"


def events_after(api: Any, version: int) -> list[Envelope]:
    return [
        Envelope.from_body(json.loads(body)) for _type, _payload, body in api.events_since(version)
    ]


def difference(kept: PublicDirectory, expected: PublicDirectory) -> list[str]:
    """What differs between two directories' records, for a failure's message."""
    found = []
    for kind in ("streets", "communities", "venues", "stations", "deputies", "head_positions"):
        ours, theirs = getattr(kept, kind), getattr(expected, kind)
        for key in sorted(set(ours) | set(theirs)):
            a, b = ours.get(key), theirs.get(key)
            if a != b and (a is None or b is None or isinstance(a, tuple)):
                found.append(f"{kind}[{key}]: kept {a} != fresh {b}")
            elif a != b:
                fields = {f.name for f, _ in [*a.ListFields(), *b.ListFields()]}
                for name in sorted(fields):
                    if getattr(a, name) != getattr(b, name):
                        found.append(
                            f"{kind}[{key}].{name}: kept {getattr(a, name)} != fresh {getattr(b, name)}"
                        )
    return found


def answers(directory: PublicDirectory) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for community_id in directory.communities:
        try:
            found[community_id] = directory.station_answer(community_id)
        except Exception as error:  # the same refusal is expected of both
            found[community_id] = (type(error).__name__, str(error))
    return found


def test_events_applied_to_a_snapshot_equal_a_fresh_snapshot(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(SEED)
    writer = Writer(api, rng)
    kept = fresh(api)
    own = api.registry._public_directory()  # the registry's own, for FindStation
    done: list[str] = []
    for _ in range(STEPS):
        action = rng.choice(writer.actions())
        try:
            done.append(action(kept))
        except grpc.RpcError as refused:
            assert refused.code() in REFUSALS, refused  # type: ignore[attr-defined]
            done.append(f"{action.__name__} refused")
        expected = fresh(api)
        kept = kept.applied(events_after(api, kept.version), expected.version)
        assert kept.same_records(expected), (done[-1], difference(kept, expected))
    assert answers(kept) == answers(fresh(api))
    # The registry brings its own up to date from its outbox, not a snapshot.
    snapshots: list[int] = []
    take = api.registry.directory
    monkeypatch.setattr(api.registry, "directory", lambda: snapshots.append(1) or take())
    assert own.version < kept.version
    assert api.registry._public_directory().same_records(kept)
    assert snapshots == []
    assert len([d for d in done if "refused" not in d and not d.startswith("no ")]) > STEPS // 2


def test_an_event_it_does_not_know_asks_for_a_snapshot(api: Any) -> None:
    directory = fresh(api)
    unknown = Envelope.from_body(
        {
            "event_id": str(uuid.uuid4()),
            "type": "station_teleported",
            "occurred_at": "2026-11-26T00:00:00+00:00",
            "source": "registry",
            "payload": {},
        }
    )
    with pytest.raises(CannotApply):
        directory.applied([unknown], directory.version + 1)
    garbled = Envelope.from_body(
        {**unknown.to_body(), "type": "station_changed", "payload": {"station": 7}}
    )
    with pytest.raises(CannotApply):
        directory.applied([garbled], directory.version + 1)
