"""Who may do what, called on the registry's gRPC API directly, as a
department's own system or anything else that reaches port 50051 would.

The matrix is one table: each operation, and for each caller whether it is
allowed or which status refuses it. A refused call changes nothing: no
record, no event, no audit entry. Then the references a street committee's
command names, private fields per role, bad tokens, and the audit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import func, select

from kit import audit
from kit.tables import outbox_events
from liaison.common.v1 import auth_pb2
from liaison.common.v1.envelope_pb2 import PageRequest
from liaison.registry.v1 import registry_pb2 as pb
from registry.testing import Town, unique

pytestmark = pytest.mark.postgres

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
NO_TOKEN = grpc.StatusCode.UNAUTHENTICATED

# Callers: a demo account by name, a street-scoped token for town A or B, or
# no token at all.
CALLERS = (
    "anonymous",
    "constituent",
    "deputy",
    "station-staff-a",
    "street-committee-a",
    "street-committee-b",
    "standing-committee-office",
    "working-body",
    "government-office",
    "department",
    "department-system",
    "admin",
)
DISTRICT = {"standing-committee-office", "admin"}
STAFF = set(CALLERS) - {"anonymous", "constituent"}


def allowed(*callers: str) -> dict[str, grpc.StatusCode]:
    """OK for `callers`; UNAUTHENTICATED without a token; PERMISSION_DENIED for the rest."""
    return {c: OK if c in callers else NO_TOKEN if c == "anonymous" else DENIED for c in CALLERS}


PUBLIC = {c: OK for c in CALLERS}
STAFF_ONLY = allowed(*STAFF)
WRITERS_IN_A = allowed(*DISTRICT, "street-committee-a")
DISTRICT_ONLY = allowed(*DISTRICT)
ADMIN_ONLY = allowed("admin")


@dataclass
class World:
    api: Any
    a: Town
    b: Town

    def stub(self, caller: str) -> Any:
        if caller == "anonymous":
            return self.api.anonymous
        if caller.endswith(("-a", "-b")):
            town = self.a if caller.endswith("-a") else self.b
            role = caller[:-2].replace("-", "_")
            return self.api.as_(
                {"sub": f"test:{caller}", "role": role, "street_id": town.street.id}
            )
        return self.api.as_(caller)

    def traces(self) -> tuple[int, int]:
        """Outbox rows and audit entries: a refused call adds neither."""
        with self.api.db.read() as session:
            events = session.scalar(select(func.count()).select_from(outbox_events))
            entries = session.scalar(select(func.count()).select_from(audit.audit_entries))
        return int(events or 0), int(entries or 0)


@pytest.fixture(scope="module")
def world(api: Any) -> World:
    return World(api, Town(api.stub), Town(api.stub))


# -- the operations, each a call on a stub in the world


def _list_streets(s: Any, w: World) -> Any:
    return s.ListStreets(pb.ListStreetsRequest())


def _find_station(s: Any, w: World) -> Any:
    return s.FindStation(pb.FindStationRequest(community_code="linhe-c01"))


def _get_deputy(s: Any, w: World) -> Any:
    return s.GetDeputy(pb.GetRequest(id=1))


def _list_positions(s: Any, w: World) -> Any:
    return s.ListPositions(pb.ListPositionsRequest())


def _check_budgets(s: Any, w: World) -> Any:
    return s.CheckBudgets(pb.CheckBudgetsRequest(year=2025))


def _create_area(s: Any, w: World) -> Any:
    area = pb.Area(code=unique("ta"), name="新片区", street_id=w.a.street.id)
    return s.CreateArea(pb.CreateAreaRequest(area=area))


def _update_station(s: Any, w: World) -> Any:
    station = pb.Station(id=w.a.station.id, name=f"第一联络站{uuid.uuid4().hex[:4]}")
    return s.UpdateStation(
        pb.UpdateStationRequest(station=station, update_mask=FieldMask(paths=["name"]))
    )


def _deactivate_venue(w: World) -> Callable[[Any], Any]:
    venue = w.api.stub.CreateVenue(
        pb.CreateVenueRequest(
            venue=pb.Venue(code=unique("tv"), name="活动室", street_id=w.a.street.id)
        )
    )
    return lambda s: s.DeactivateVenue(pb.DeactivateRequest(id=venue.id, reason="场地收回"))


Prepare = Callable[[World], Callable[[Any], Any]]


def call(operation: Callable[[Any, World], Any]) -> Prepare:
    """An operation that needs nothing made before it."""
    return lambda w: lambda s: operation(s, w)


def _fill_position(s: Any, w: World) -> Any:
    position = pb.Position(
        role=pb.POSITION_ROLE_STREET_PAID_STAFF,
        unit_id=w.a.committee.id,
        holder_name="工作人员",
        started_on="2025-01-02",
    )
    return s.FillPosition(pb.FillPositionRequest(position=position))


def _create_street(s: Any, w: World) -> Any:
    code = unique("ts")
    return s.CreateStreet(pb.CreateStreetRequest(street=pb.Street(code=code, name="新街道")))


def _export_roster(s: Any, w: World) -> Any:
    return s.ExportRoster(
        pb.ExportRosterRequest(
            kind=pb.ROSTER_KIND_DEPUTIES, format=pb.ROSTER_FORMAT_CSV, street_id=w.a.street.id
        )
    )


def _import_roster(s: Any, w: World) -> Any:
    content = (
        "代表编号,姓名,性别,代表层级,届次,街道,联络站\n"
        f"{unique('TI')},导入代表,女,区,第十届,{w.a.street.code},{w.a.station.code}\n"
    ).encode()
    return s.ImportRoster(
        pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_DEPUTIES, format=pb.ROSTER_FORMAT_CSV, content=content
        )
    )


def _list_audit(s: Any, w: World) -> Any:
    return s.ListAuditEntries(auth_pb2.ListAuditEntriesRequest())


MATRIX: list[tuple[str, Prepare, dict[str, grpc.StatusCode]]] = [
    ("ListStreets", call(_list_streets), PUBLIC),
    ("FindStation", call(_find_station), PUBLIC),
    ("GetDeputy", call(_get_deputy), PUBLIC),
    ("ListPositions", call(_list_positions), STAFF_ONLY),
    ("CheckBudgets", call(_check_budgets), STAFF_ONLY),
    ("CreateArea in street A", call(_create_area), WRITERS_IN_A),
    ("UpdateStation in street A", call(_update_station), WRITERS_IN_A),
    ("DeactivateVenue in street A", _deactivate_venue, WRITERS_IN_A),
    ("FillPosition in street A", call(_fill_position), WRITERS_IN_A),
    ("ImportRoster of street A", call(_import_roster), WRITERS_IN_A),
    ("ExportRoster of street A", call(_export_roster), WRITERS_IN_A),
    ("CreateStreet", call(_create_street), DISTRICT_ONLY),
    ("ListAuditEntries", call(_list_audit), ADMIN_ONLY),
]
CASES = [
    pytest.param(op, caller, expected[caller], id=f"{name}-{caller}")
    for name, op, expected in MATRIX
    for caller in CALLERS
]


def test_the_matrix_names_every_caller_of_every_operation() -> None:
    assert all(set(expected) == set(CALLERS) for _, _, expected in MATRIX)
    assert len(CASES) == len(MATRIX) * len(CALLERS)


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_authorisation_matrix(world: World, operation: Prepare, caller: str, expected: Any) -> None:
    stub = world.stub(caller)
    make_call = operation(world)
    before = world.traces()
    try:
        make_call(stub)
        code = OK
    except grpc.RpcError as error:
        code = error.code()  # type: ignore[attr-defined]
    assert code == expected
    if expected is not OK:
        assert world.traces() == before, "a refused call leaves no event and no audit entry"


# ---------------------------------------------------------------- references


def _station_with(w: World, **fields: Any) -> Any:
    station = pb.Station(code=unique("tst"), name="新站", area_id=w.a.area.id, **fields)
    return lambda s: s.CreateStation(pb.CreateStationRequest(station=station))


def _deputy_at(w: World, station_id: int) -> Callable[[Any], Any]:
    deputy = pb.Deputy(id=w.a.add_deputy().id, station_id=station_id)
    request = pb.UpdateDeputyRequest(deputy=deputy, update_mask=FieldMask(paths=["station_id"]))
    return lambda s: s.UpdateDeputy(request)


def _deputy_in_contact_with(w: World, community_id: int) -> Callable[[Any], Any]:
    deputy = pb.Deputy(id=w.a.add_deputy().id, contact_community_ids=[community_id])
    paths = ["contact_community_ids"]
    request = pb.UpdateDeputyRequest(deputy=deputy, update_mask=FieldMask(paths=paths))
    return lambda s: s.UpdateDeputy(request)


def _position_of(w: World, deputy_id: int) -> Callable[[Any], Any]:
    position = pb.Position(
        role=pb.POSITION_ROLE_STREET_COMMITTEE_MEMBER, unit_id=w.a.committee.id, deputy_id=deputy_id
    )
    return lambda s: s.FillPosition(pb.FillPositionRequest(position=position))


def _area_moved(w: World, area_id: int, street_id: int) -> Callable[[Any], Any]:
    area = pb.Area(id=area_id, street_id=street_id)
    request = pb.UpdateAreaRequest(area=area, update_mask=FieldMask(paths=["street_id"]))
    return lambda s: s.UpdateArea(request)


REFERENCES: list[tuple[str, Callable[[World], Callable[[Any], Any]]]] = [
    (
        "a station serving another street's community",
        lambda w: _station_with(
            w, community_ids=[w.b.add_community("别街社区", [unique("路")]).id]
        ),
    ),
    ("a station at another street's venue", lambda w: _station_with(w, venue_id=w.b.venue.id)),
    ("a deputy at another street's station", lambda w: _deputy_at(w, w.b.station.id)),
    (
        "a deputy in contact with another street's community",
        lambda w: _deputy_in_contact_with(w, w.b.add_community("别街社区", [unique("路")]).id),
    ),
    (
        "a unit under another street's unit",
        lambda w: (
            lambda s: s.CreateUnit(
                pb.CreateUnitRequest(
                    unit=pb.Unit(
                        code=unique("tu"),
                        name="办事处",
                        kind=pb.UNIT_KIND_STREET_OFFICE,
                        street_id=w.a.street.id,
                        parent_id=w.b.committee.id,
                    )
                )
            )
        ),
    ),
    ("a position held by another street's deputy", lambda w: _position_of(w, w.b.add_deputy().id)),
    (
        "an explicit null street making a unit district-level",
        lambda w: (
            lambda s: s.UpdateUnit(
                pb.UpdateUnitRequest(
                    unit=pb.Unit(id=w.a.committee.id, street_id=0, kind=pb.UNIT_KIND_WORKING_BODY),
                    update_mask=FieldMask(paths=["street_id", "kind"]),
                )
            )
        ),
    ),
    (
        "moving an area to another street",
        lambda w: (
            lambda s: s.UpdateArea(
                pb.UpdateAreaRequest(
                    area=pb.Area(id=w.a.area.id, street_id=w.b.street.id),
                    update_mask=FieldMask(paths=["street_id"]),
                )
            )
        ),
    ),
]


@pytest.mark.parametrize(("what", "command"), REFERENCES, ids=[r[0] for r in REFERENCES])
def test_a_street_committee_may_not_name_another_streets_records(
    world: World, what: str, command: Callable[[World], Callable[[Any], Any]]
) -> None:
    call = command(world)  # made by the admin: what the command names exists
    before = world.traces()
    with pytest.raises(grpc.RpcError) as refused:
        call(world.stub("street-committee-a"))
    assert refused.value.code() == DENIED, refused.value.details()  # type: ignore[attr-defined]
    assert "outside" in refused.value.details()  # type: ignore[attr-defined]
    assert world.traces() == before
    call(world.stub("admin"))  # the district may


def test_a_street_committee_may_not_touch_another_streets_record(world: World) -> None:
    area = _create_area(world.api.stub, world)
    with pytest.raises(grpc.RpcError) as refused:
        world.stub("street-committee-b").UpdateArea(
            pb.UpdateAreaRequest(
                area=pb.Area(id=area.id, name="别人的片区"), update_mask=FieldMask(paths=["name"])
            )
        )
    assert refused.value.code() == DENIED  # type: ignore[attr-defined]


# ---------------------------------------------------------------- private fields


def test_private_contact_only_for_roles_that_need_it(world: World) -> None:
    deputy = world.a.add_deputy(
        contact=pb.DeputyContact(phone="13800138000", email="d@example.org")
    )
    seen = {
        caller: world.stub(caller).GetDeputy(pb.GetRequest(id=deputy.id)).HasField("contact")
        for caller in CALLERS
    }
    assert {c for c, has in seen.items() if has} == DISTRICT | {"street-committee-a"}
    listed = world.stub("anonymous").ListDeputies(
        pb.ListDeputiesRequest(street_id=world.a.street.id)
    )
    assert not any(d.HasField("contact") for d in listed.deputies)


def test_why_a_record_was_deactivated_is_for_staff(world: World) -> None:
    venue = world.api.stub.CreateVenue(
        pb.CreateVenueRequest(
            venue=pb.Venue(code=unique("tv"), name="旧址", street_id=world.a.street.id)
        )
    )
    world.api.stub.DeactivateVenue(pb.DeactivateRequest(id=venue.id, reason="房东收回场地"))
    public = world.stub("anonymous").GetVenue(pb.GetRequest(id=venue.id))
    assert public.deactivation.deactivated_at.seconds and public.deactivation.reason == ""
    staff = world.stub("deputy").GetVenue(pb.GetRequest(id=venue.id))
    assert staff.deactivation.reason == "房东收回场地"


# ---------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "x", "role": "admin", "exp": 1},  # long expired
        {"sub": "x", "role": "mayor"},
        {"sub": "x", "role": "system"},
        {"sub": "x", "role": "street_committee"},  # no street
    ],
)
def test_a_bad_token_is_refused_even_on_public_rpcs(world: World, claims: dict[str, Any]) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        world.api.as_(claims).ListStreets(pb.ListStreetsRequest())
    assert refused.value.code() == NO_TOKEN  # type: ignore[attr-defined]


def test_a_token_from_another_issuer_is_refused(world: World) -> None:
    import jwt

    forged = jwt.encode(
        {"sub": "x", "role": "admin", "iss": "liaison-dev", "aud": "liaison", "exp": 2**40},
        "a-secret-that-is-not-the-services-own",
    )
    channel = grpc.intercept_channel(
        world.api.channel, _MetadataAdder([("authorization", f"Bearer {forged}")])
    )
    from liaison.registry.v1 import registry_pb2_grpc as pb_grpc

    with pytest.raises(grpc.RpcError) as refused:
        pb_grpc.RegistryServiceStub(channel).ListStreets(pb.ListStreetsRequest())
    assert refused.value.code() == NO_TOKEN  # type: ignore[attr-defined]


class _MetadataAdder(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, metadata: list[tuple[str, str]]) -> None:
        self.metadata = metadata

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(details._replace(metadata=self.metadata), request)


# ---------------------------------------------------------------- the audit


def test_every_change_records_its_actor(world: World) -> None:
    caller = world.stub("street-committee-a")
    area = _create_area(caller, world)
    caller.UpdateArea(
        pb.UpdateAreaRequest(
            area=pb.Area(id=area.id, name="改名片区"), update_mask=FieldMask(paths=["name"])
        )
    )
    caller.DeactivateArea(pb.DeactivateRequest(id=area.id, reason="合并"))
    entries = (
        world.stub("admin")
        .ListAuditEntries(auth_pb2.ListAuditEntriesRequest(record_kind="area", record_id=area.id))
        .entries
    )
    assert [(e.action, e.actor_subject, e.actor_role) for e in entries] == [
        ("created", "test:street-committee-a", "street_committee"),
        ("updated", "test:street-committee-a", "street_committee"),
        ("deactivated", "test:street-committee-a", "street_committee"),
    ]
    assert entries[1].changed_fields == ["name"]
    assert {e.actor_street_id for e in entries} == {world.a.street.id}
    assert all("改名片区" not in str(e) for e in entries), "values are never audited"


def test_the_audit_is_append_only(world: World) -> None:
    from sqlalchemy import delete, update

    _create_area(world.api.stub, world)
    with world.api.db.engine.connect() as conn:
        for statement in (
            update(audit.audit_entries).values(action="x"),
            delete(audit.audit_entries),
        ):
            with pytest.raises(Exception, match="append-only"):
                conn.execute(statement)
            conn.rollback()


# ---------------------------------------------------------------- what schemathesis found


@pytest.mark.parametrize("kind", ["area", "station"])
def test_a_code_another_record_holds_is_already_exists_on_update(world: World, kind: str) -> None:
    stub = world.api.stub
    if kind == "area":
        other = world.b.area
        call = lambda: stub.UpdateArea(  # noqa: E731
            pb.UpdateAreaRequest(
                area=pb.Area(id=world.a.area.id, code=other.code),
                update_mask=FieldMask(paths=["code"]),
            )
        )
    else:
        other = world.b.station
        call = lambda: stub.UpdateStation(  # noqa: E731
            pb.UpdateStationRequest(
                station=pb.Station(id=world.a.station.id, code=other.code),
                update_mask=FieldMask(paths=["code"]),
            )
        )
    with pytest.raises(grpc.RpcError) as refused:
        call()
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS  # type: ignore[attr-defined]


def test_wildcards_in_a_search_match_themselves(world: World) -> None:
    stub = world.api.stub
    tag = uuid.uuid4().hex[:6]
    for code in (f"w{tag}-100pct", f"w{tag}-under_score", f"w{tag}-plain"):
        stub.CreateStreet(pb.CreateStreetRequest(street=pb.Street(code=code, name=code)))
    found = lambda q: {  # noqa: E731
        s.code
        for s in stub.ListStreets(
            pb.ListStreetsRequest(query=q, page=PageRequest(page_size=500))
        ).streets
    }
    assert found(f"w{tag}-%") == set()
    assert found("_score") == {f"w{tag}-under_score"}
    assert found(f"w{tag}") == {f"w{tag}-100pct", f"w{tag}-under_score", f"w{tag}-plain"}


def test_a_page_token_is_good_only_for_its_query(world: World) -> None:
    stub = world.api.stub
    first = stub.ListDeputies(pb.ListDeputiesRequest(page=PageRequest(page_size=5)))
    token = first.page.next_page_token
    assert token
    with pytest.raises(grpc.RpcError) as refused:
        stub.ListDeputies(
            pb.ListDeputiesRequest(
                level=pb.DEPUTY_LEVEL_CITY, page=PageRequest(page_size=5, page_token=token)
            )
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]


def test_text_longer_than_its_column_is_named_not_a_database_error(world: World) -> None:
    stub = world.api.stub
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateStreet(
            pb.CreateStreetRequest(street=pb.Street(code=unique("ts"), name="街" * 201))
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert "name" in refused.value.details()  # type: ignore[attr-defined]
    community = pb.Community(
        code=unique("tc"),
        name="长社区",
        street_id=world.a.street.id,
        address_keywords=["路" * 101],
    )
    with pytest.raises(grpc.RpcError) as refused:
        stub.CreateCommunity(pb.CreateCommunityRequest(community=community))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert "keywords.keyword" in refused.value.details()  # type: ignore[attr-defined]


def test_control_characters_are_refused_and_never_break_an_export(
    world: World, rpc_fails: Any
) -> None:
    stub = world.api.stub
    street = pb.Street(code=unique("ts"), name="街\x01道")
    failure = rpc_fails(stub.CreateStreet, pb.CreateStreetRequest(street=street))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [(v.field, v.description) for v in failure.violations] == [
        ("name", "holds a control character")
    ]
    exported = stub.ExportRoster(
        pb.ExportRosterRequest(kind=pb.ROSTER_KIND_COMMUNITIES, format=pb.ROSTER_FORMAT_XLSX)
    )
    assert exported.content.startswith(b"PK")
