"""The registry's gRPC API against a real server and PostgreSQL, with the demo
district loaded: the real figures, every write with its outbox events, the
errors and their details, paging, filters, positions, budgets and the
station lookup.

The figures are checked first, before later tests add records of their own;
every other test makes the records it changes (in a street of its own), so it
does not depend on the others.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import select

from kit import audit
from kit.auth import Principal, Role
from kit.tables import outbox_events
from liaison.common.v1.envelope_pb2 import PageRequest
from liaison.registry.v1 import registry_pb2 as pb
from registry import domain, models
from registry.api import RegistryServicer
from registry.bootstrap import RegistryBootstrap
from registry.records import DEPUTY as DEPUTY_KIND
from registry.records import STREET as STREET_KIND
from registry.service import Registry
from registry.terms import TERM_ENDED_REASON, end_finished_terms
from registry.testing import LEVEL, Town, unique

pytestmark = pytest.mark.postgres

Stub = Any  # pb_grpc.RegistryServiceStub
Fails = Callable[..., Any]

LEVEL_NAME = {number: name for name, number in LEVEL.items()}
MISSING_ID = 987_654_321
ADMIN = Principal(sub="test:admin", role=Role.ADMIN)
SERVICE = pb.DESCRIPTOR.services_by_name["RegistryService"].full_name


def mask(*paths: str) -> FieldMask:
    return FieldMask(paths=list(paths))


def types(events: list[tuple[str, dict[str, Any], str]]) -> list[str]:
    return [t for t, _, _ in events]


def payload_of(events: list[tuple[str, dict[str, Any], str]], type_: str) -> dict[str, Any]:
    found = [p for t, p, _ in events if t == type_]
    assert len(found) == 1, f"expected one {type_} among {types(events)}"
    return found[0]


# ---------------------------------------------------------------- lookups of demo records


def by_code(stub: Stub, kind: str, code: str) -> Any:
    """A demo record by its code, through the List call with a query or a scan."""
    if kind == "street":
        found = stub.ListStreets(pb.ListStreetsRequest(query=code, page=PageRequest(page_size=500)))
        items = found.streets
    elif kind == "deputy":
        found = stub.ListDeputies(
            pb.ListDeputiesRequest(query=code, page=PageRequest(page_size=500))
        )
        items = found.deputies
    elif kind == "community":
        found = stub.ListCommunities(
            pb.ListCommunitiesRequest(query=code, page=PageRequest(page_size=500))
        )
        items = found.communities
    elif kind == "station":
        items = stub.ListStations(pb.ListStationsRequest(page=PageRequest(page_size=500))).stations
    elif kind == "unit":
        items = stub.ListUnits(pb.ListUnitsRequest(page=PageRequest(page_size=500))).units
    elif kind == "venue":
        items = stub.ListVenues(pb.ListVenuesRequest(page=PageRequest(page_size=500))).venues
    else:
        raise AssertionError(kind)
    matches = [item for item in items if item.code == code]
    assert len(matches) == 1, f"no single {kind} {code}"
    return matches[0]


def all_pages(list_call: Callable[..., Any], request: Any, items: str, size: int) -> list[Any]:
    found: list[Any] = []
    request.page.page_size = size
    request.page.page_token = ""
    while True:
        response = list_call(request)
        found.extend(getattr(response, items))
        if not response.page.next_page_token:
            return found
        request.page.page_token = response.page.next_page_token


# ================================================================= the figures (first)


def test_the_demo_district_has_the_real_figures(api: Any) -> None:
    stub = api.stub
    assert stub.ListStreets(pb.ListStreetsRequest()).page.total_size == 21
    assert stub.ListStations(pb.ListStationsRequest()).page.total_size == 40
    assert stub.ListDeputies(pb.ListDeputiesRequest()).page.total_size == 350
    by_level = {
        name: stub.ListDeputies(pb.ListDeputiesRequest(level=number)).page.total_size
        for name, number in LEVEL.items()
    }
    assert by_level == {"district": 279, "city": 55, "provincial": 13, "national": 3}
    committees = stub.ListUnits(pb.ListUnitsRequest(kind=pb.UNIT_KIND_STREET_COMMITTEE))
    assert committees.page.total_size == 21
    departments = stub.ListUnits(pb.ListUnitsRequest(kind=pb.UNIT_KIND_DEPARTMENT))
    assert departments.page.total_size >= 10
    members = stub.ListPositions(
        pb.ListPositionsRequest(
            role=pb.POSITION_ROLE_STREET_COMMITTEE_MEMBER, page=PageRequest(page_size=500)
        )
    )
    assert members.page.total_size == 83
    heads = stub.ListPositions(pb.ListPositionsRequest(role=pb.POSITION_ROLE_STATION_HEAD))
    assert heads.page.total_size == 40


def test_the_server_reports_serving_once_the_database_is_current(api: Any) -> None:
    health = health_pb2_grpc.HealthStub(api.channel)
    deadline = time.monotonic() + 10
    while True:
        status = health.Check(health_pb2.HealthCheckRequest(service=SERVICE), timeout=5).status
        if status == health_pb2.HealthCheckResponse.SERVING or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == health_pb2.HealthCheckResponse.SERVING


def test_the_first_station_is_linhe_street_station_one(api: Any) -> None:
    first = api.stub.ListStations(pb.ListStationsRequest(page=PageRequest(page_size=1))).stations[0]
    linhe = by_code(api.stub, "street", "linhe")
    assert (first.code, first.name, first.street_id) == ("linhe-1", "林和街第一联络站", linhe.id)
    assert first.opened_on == "2013-08-01"


# ================================================================= create, get, update, deactivate


def _street_parts(town: Town) -> dict[str, tuple[str, Any, str, Any]]:
    """kind -> (Name, a new valid record, the field an update changes, its new value)."""
    return {
        "street": ("Street", pb.Street(code=unique("s"), name="试验街道"), "name", "试验新街道"),
        "area": (
            "Area",
            pb.Area(code=unique("a"), name="试验片区", street_id=town.street.id),
            "name",
            "试验新片区",
        ),
        "community": (
            "Community",
            pb.Community(
                code=unique("c"),
                name="试验丙社区",
                street_id=town.street.id,
                address_keywords=["试验丙路"],
            ),
            "address_keywords",
            ["试验丙路", "试验丙花园"],
        ),
        "venue": (
            "Venue",
            pb.Venue(code=unique("v"), name="试验场地", street_id=town.street.id, capacity=20),
            "capacity",
            45,
        ),
        "station": (
            "Station",
            pb.Station(code=unique("st"), name="试验联络站", area_id=town.area.id),
            "opened_on",
            "2014-01-15",
        ),
        "unit": (
            "Unit",
            pb.Unit(
                code=unique("u"),
                name="试验局",
                kind=pb.UNIT_KIND_DEPARTMENT,
                responsibilities="试验",
            ),
            "responsibilities",
            "道路维修；试验",
        ),
    }


PLURALS = {
    "street": "streets",
    "area": "areas",
    "community": "communities",
    "venue": "venues",
    "station": "stations",
    "unit": "units",
}


@pytest.mark.parametrize("kind", list(PLURALS))
def test_create_get_update_deactivate(api: Any, kind: str) -> None:
    stub = api.stub
    town = Town(stub)
    name, record, field, new_value = _street_parts(town)[kind]
    plural = PLURALS[kind]
    event = f"{kind}_changed"
    field_key = kind

    mark = api.outbox_mark()
    created = getattr(stub, f"Create{name}")(
        getattr(pb, f"Create{name}Request")(**{field_key: record})
    )
    assert created.id > 0 and created.active and created.code == record.code
    assert created.created_at.seconds > 0
    events = api.events_since(mark)
    assert types(events) == [event]
    assert events[0][1]["change"] == "created"
    assert events[0][1][kind]["code"] == record.code

    got = getattr(stub, f"Get{name}")(pb.GetRequest(id=created.id))
    assert got == created

    mark = api.outbox_mark()
    change = getattr(pb, name)(id=created.id)
    if isinstance(new_value, list):
        getattr(change, field).extend(new_value)
    else:
        setattr(change, field, new_value)
    updated = getattr(stub, f"Update{name}")(
        getattr(pb, f"Update{name}Request")(**{field_key: change, "update_mask": mask(field)})
    )
    value = getattr(updated, field)
    assert (list(value) if isinstance(new_value, list) else value) == new_value
    if field != "name":
        assert updated.name == created.name, "fields outside the mask are kept"
    assert updated.code == created.code
    events = api.events_since(mark)
    assert types(events) == [event]
    assert events[0][1]["change"] == "updated"
    assert events[0][1]["changed_fields"] == [field]

    # The same update again changes nothing: no event.
    mark = api.outbox_mark()
    getattr(stub, f"Update{name}")(
        getattr(pb, f"Update{name}Request")(**{field_key: change, "update_mask": mask(field)})
    )
    assert api.events_since(mark) == []

    mark = api.outbox_mark()
    gone = getattr(stub, f"Deactivate{name}")(pb.DeactivateRequest(id=created.id, reason="合并"))
    assert not gone.active
    assert gone.deactivation.reason == "合并"
    assert gone.deactivation.deactivated_at.seconds > 0
    events = api.events_since(mark)
    assert types(events) == [event]
    assert events[0][1]["change"] == "deactivated"

    # Kept, not deleted: Get still finds it, List shows it only on request.
    assert getattr(stub, f"Get{name}")(pb.GetRequest(id=created.id)).deactivation.reason == "合并"
    list_call = getattr(stub, f"List{plural.title()}")
    list_request = getattr(pb, f"List{plural.title()}Request")
    shown = [r.id for r in all_pages(list_call, list_request(), plural, 500)]
    assert created.id not in shown
    shown = [r.id for r in all_pages(list_call, list_request(include_inactive=True), plural, 500)]
    assert created.id in shown


def test_a_deactivated_record_cannot_be_deactivated_again_or_changed(
    api: Any, rpc_fails: Fails
) -> None:
    stub = api.stub
    street = stub.CreateStreet(
        pb.CreateStreetRequest(street=pb.Street(code=unique("s"), name="旧街道"))
    )
    stub.DeactivateStreet(pb.DeactivateRequest(id=street.id, reason="撤销"))
    again = rpc_fails(stub.DeactivateStreet, pb.DeactivateRequest(id=street.id, reason="再次"))
    assert again.code == grpc.StatusCode.FAILED_PRECONDITION
    change = rpc_fails(
        stub.UpdateStreet,
        pb.UpdateStreetRequest(street=pb.Street(id=street.id, name="新"), update_mask=mask("name")),
    )
    assert change.code == grpc.StatusCode.FAILED_PRECONDITION
    assert stub.GetStreet(pb.GetRequest(id=street.id)).deactivation.reason == "撤销"


def test_deactivate_needs_a_reason(api: Any, rpc_fails: Fails) -> None:
    street = api.stub.CreateStreet(
        pb.CreateStreetRequest(street=pb.Street(code=unique("s"), name="街"))
    )
    failure = rpc_fails(api.stub.DeactivateStreet, pb.DeactivateRequest(id=street.id, reason="  "))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == {"reason"}
    assert api.stub.GetStreet(pb.GetRequest(id=street.id)).active


def test_nothing_is_ever_hard_deleted() -> None:
    """The contract has no Delete call, and the servicer none either."""
    methods = pb.DESCRIPTOR.services_by_name["RegistryService"].methods_by_name
    assert not [m for m in methods if m.startswith(("Delete", "Remove", "Purge"))]
    assert not [m for m in dir(RegistryServicer) if m.startswith(("Delete", "Remove", "Purge"))]


def test_budget_line_lifecycle(api: Any) -> None:
    stub = api.stub
    town = Town(stub)
    mark = api.outbox_mark()
    line = stub.CreateBudgetLine(
        pb.CreateBudgetLineRequest(
            budget_line=pb.BudgetLine(
                unit_id=town.committee.id,
                year=2031,
                kind=pb.BUDGET_LINE_KIND_OPERATIONS,
                amount_yuan=300_000,
            )
        )
    )
    assert line.active and line.amount_yuan == 300_000
    changed = stub.UpdateBudgetLine(
        pb.UpdateBudgetLineRequest(
            budget_line=pb.BudgetLine(id=line.id, amount_yuan=310_000),
            update_mask=mask("amount_yuan"),
        )
    )
    assert changed.amount_yuan == 310_000 and changed.kind == pb.BUDGET_LINE_KIND_OPERATIONS
    stub.DeactivateBudgetLine(pb.DeactivateRequest(id=line.id, reason="预算调整"))
    events = api.events_since(mark)
    assert types(events) == ["budget_line_changed"] * 3
    assert [p["change"] for _, p, _ in events] == ["created", "updated", "deactivated"]
    # A deactivated line is history: a new line of the same key may follow it.
    again = stub.CreateBudgetLine(
        pb.CreateBudgetLineRequest(
            budget_line=pb.BudgetLine(
                unit_id=town.committee.id,
                year=2031,
                kind=pb.BUDGET_LINE_KIND_OPERATIONS,
                amount_yuan=320_000,
            )
        )
    )
    listed = stub.ListBudgetLines(pb.ListBudgetLinesRequest(unit_id=town.committee.id, year=2031))
    assert [b.id for b in listed.budget_lines] == [again.id]
    listed = stub.ListBudgetLines(
        pb.ListBudgetLinesRequest(unit_id=town.committee.id, year=2031, include_inactive=True)
    )
    assert [b.id for b in listed.budget_lines] == [line.id, again.id]


# ================================================================= deputies and their events


def test_a_deputy_is_registered_updated_and_deactivated_with_public_events(api: Any) -> None:
    stub = api.stub
    town = Town(stub)
    contact = pb.DeputyContact(
        phone="13912345678",
        email="secret.person@example.com",
        workplace="保密单位甲",
        workplace_address="广州市天河区保密路9号",
    )
    mark = api.outbox_mark()
    deputy = town.add_deputy(contact=contact, expertise=[" 法律", "教育", "法律"])
    assert deputy.contact == contact, "the full record carries the private contact"
    assert list(deputy.expertise) == ["法律", "教育"]
    assert deputy.street_id == town.street.id and deputy.station_id == town.station.id

    profile = stub.GetDeputyProfile(pb.GetRequest(id=deputy.id))
    assert profile.street_name == town.street.name
    assert profile.station_name == town.station.name
    assert "contact" not in {f.name for f, _ in profile.ListFields()}

    new_phone = "020-38881234"
    stub.UpdateDeputy(
        pb.UpdateDeputyRequest(
            deputy=pb.Deputy(
                id=deputy.id, biography="新简介", contact=pb.DeputyContact(phone=new_phone)
            ),
            update_mask=mask("biography", "contact.phone"),
        )
    )
    got = stub.GetDeputy(pb.GetRequest(id=deputy.id))
    assert got.contact.phone == new_phone
    assert got.contact.email == contact.email, "contact fields outside the mask are kept"
    assert got.biography == "新简介"

    stub.DeactivateDeputy(pb.DeactivateRequest(id=deputy.id, reason="辞去代表职务"))
    events = api.events_since(mark)
    assert types(events) == ["deputy_registered", "deputy_updated", "deputy_deactivated"]
    registered = payload_of(events, "deputy_registered")["deputy"]
    assert registered["code"] == deputy.code and registered["station_name"] == town.station.name
    updated = payload_of(events, "deputy_updated")
    assert "biography" in updated["changed_fields"]
    assert "contact.phone" in updated["changed_fields"]
    assert "reason" not in payload_of(events, "deputy_deactivated"), "the reason is staff-only"
    for _, payload, body in events:
        assert "contact" not in payload["deputy"]
        for secret in (
            *[getattr(contact, f) for f in ("phone", "email", "workplace", "workplace_address")],
            new_phone,
        ):
            assert secret not in body, f"private contact {secret!r} leaked into an event"


def test_a_reassigned_deputy_emits_updated_and_reassigned(api: Any) -> None:
    stub = api.stub
    town, other = Town(stub), Town(stub)
    second = town.add_station(2)
    deputy = town.add_deputy()

    mark = api.outbox_mark()
    moved = stub.UpdateDeputy(
        pb.UpdateDeputyRequest(
            deputy=pb.Deputy(id=deputy.id, station_id=second.id), update_mask=mask("station_id")
        )
    )
    assert moved.station_id == second.id and moved.street_id == town.street.id
    events = api.events_since(mark)
    assert types(events) == ["deputy_updated", "deputy_reassigned"]
    assert payload_of(events, "deputy_updated")["changed_fields"] == ["station_id"]
    reassigned = payload_of(events, "deputy_reassigned")
    assert int(reassigned["from_station_id"]) == town.station.id
    assert int(reassigned["to_station_id"]) == second.id
    assert int(reassigned["from_street_id"]) == int(reassigned["to_street_id"]) == town.street.id

    # To a station of another street: the deputy group follows the station.
    mark = api.outbox_mark()
    moved = stub.UpdateDeputy(
        pb.UpdateDeputyRequest(
            deputy=pb.Deputy(id=deputy.id, station_id=other.station.id),
            update_mask=mask("station_id"),
        )
    )
    assert moved.street_id == other.street.id
    events = api.events_since(mark)
    assert types(events) == ["deputy_updated", "deputy_reassigned"]
    assert payload_of(events, "deputy_updated")["changed_fields"] == ["station_id", "street_id"]
    reassigned = payload_of(events, "deputy_reassigned")
    assert (int(reassigned["from_station_id"]), int(reassigned["to_station_id"])) == (
        second.id,
        other.station.id,
    )
    assert (int(reassigned["from_street_id"]), int(reassigned["to_street_id"])) == (
        town.street.id,
        other.street.id,
    )
    assert reassigned["deputy"]["station_name"] == other.station.name

    # Any other change: updated only.
    mark = api.outbox_mark()
    stub.UpdateDeputy(
        pb.UpdateDeputyRequest(
            deputy=pb.Deputy(id=deputy.id, profession="法官"), update_mask=mask("profession")
        )
    )
    assert types(api.events_since(mark)) == ["deputy_updated"]


def test_a_deputy_may_be_created_with_only_a_station(api: Any) -> None:
    """The street (deputy group) is the station's when only the station is given."""
    town = Town(api.stub)
    deputy = api.stub.CreateDeputy(
        pb.CreateDeputyRequest(
            deputy=pb.Deputy(
                code=unique("TD"),
                name="只给联络站",
                level=pb.DEPUTY_LEVEL_CITY,
                station_id=town.station.id,
            )
        )
    )
    assert deputy.street_id == town.street.id


def test_a_deputys_station_must_be_in_the_given_street(api: Any, rpc_fails: Fails) -> None:
    town, other = Town(api.stub), Town(api.stub)
    failure = rpc_fails(
        api.stub.CreateDeputy,
        pb.CreateDeputyRequest(
            deputy=pb.Deputy(
                code=unique("TD"),
                name="错街道",
                level=pb.DEPUTY_LEVEL_DISTRICT,
                street_id=other.street.id,
                station_id=town.station.id,
            )
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == {"station_id"}


# ================================================================= errors


def test_a_second_create_with_the_same_code_already_exists(api: Any, rpc_fails: Fails) -> None:
    stub = api.stub
    code = unique("s")
    stub.CreateStreet(pb.CreateStreetRequest(street=pb.Street(code=code, name="甲")))
    mark = api.outbox_mark()
    failure = rpc_fails(
        stub.CreateStreet, pb.CreateStreetRequest(street=pb.Street(code=code, name="乙"))
    )
    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert code in failure.message
    assert api.events_since(mark) == []
    # The demo's own codes too, for deputies.
    failure = rpc_fails(
        stub.CreateDeputy,
        pb.CreateDeputyRequest(
            deputy=pb.Deputy(
                code="D001",
                name="重号",
                level=pb.DEPUTY_LEVEL_DISTRICT,
                street_id=by_code(stub, "street", "linhe").id,
            )
        ),
    )
    assert failure.code == grpc.StatusCode.ALREADY_EXISTS


def test_a_deactivated_records_code_stays_taken(api: Any, rpc_fails: Fails) -> None:
    code = unique("s")
    street = api.stub.CreateStreet(pb.CreateStreetRequest(street=pb.Street(code=code, name="甲")))
    api.stub.DeactivateStreet(pb.DeactivateRequest(id=street.id, reason="撤销"))
    failure = rpc_fails(
        api.stub.CreateStreet, pb.CreateStreetRequest(street=pb.Street(code=code, name="乙"))
    )
    assert failure.code == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize(
    "method",
    [
        "GetStreet",
        "GetArea",
        "GetCommunity",
        "GetVenue",
        "GetStation",
        "GetUnit",
        "GetDeputy",
        "GetDeputyProfile",
        "GetPosition",
        "GetBudgetLine",
    ],
)
def test_an_unknown_id_is_not_found(api: Any, rpc_fails: Fails, method: str) -> None:
    failure = rpc_fails(getattr(api.stub, method), pb.GetRequest(id=MISSING_ID))
    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert str(MISSING_ID) in failure.message


def test_unknown_ids_on_writes_are_not_found(api: Any, rpc_fails: Fails) -> None:
    stub = api.stub
    cases = [
        (stub.DeactivateDeputy, pb.DeactivateRequest(id=MISSING_ID, reason="x")),
        (
            stub.UpdateStreet,
            pb.UpdateStreetRequest(
                street=pb.Street(id=MISSING_ID, name="x"), update_mask=mask("name")
            ),
        ),
        (stub.VacatePosition, pb.VacatePositionRequest(id=MISSING_ID, reason="x")),
        (stub.FindStation, pb.FindStationRequest(community_id=MISSING_ID)),
    ]
    for call, request in cases:
        assert rpc_fails(call, request).code == grpc.StatusCode.NOT_FOUND, request


def test_a_deputy_without_its_fields_names_each_of_them(api: Any, rpc_fails: Fails) -> None:
    mark = api.outbox_mark()
    failure = rpc_fails(api.stub.CreateDeputy, pb.CreateDeputyRequest(deputy=pb.Deputy()))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {"code", "name", "level", "street_id"} <= failure.fields
    assert api.events_since(mark) == []


def test_every_invalid_field_of_a_deputy_is_named(api: Any, rpc_fails: Fails) -> None:
    town = Town(api.stub)
    before = api.count(models.Deputy)
    failure = rpc_fails(
        api.stub.CreateDeputy,
        pb.CreateDeputyRequest(
            deputy=pb.Deputy(
                code="bad code!",
                name="坏数据",
                gender="X",
                level=LEVEL["district"],
                term_start="2026-01-01",
                term_end="2020-01-01",
                street_id=town.street.id,
                station_id=MISSING_ID,
                contact=pb.DeputyContact(phone="12345", email="not-an-email"),
            )
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == {
        "code",
        "gender",
        "term_end",
        "station_id",
        "contact.phone",
        "contact.email",
    }
    assert all(v.description for v in failure.violations)
    assert api.count(models.Deputy) == before


def test_a_create_without_its_record_is_invalid(api: Any, rpc_fails: Fails) -> None:
    failure = rpc_fails(api.stub.CreateStreet, pb.CreateStreetRequest())
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == {"street"}
    failure = rpc_fails(api.stub.UpdateStreet, pb.UpdateStreetRequest(street=pb.Street(name="x")))
    assert failure.fields == {"street.id"}


def test_references_to_missing_or_deactivated_records_are_named(api: Any, rpc_fails: Fails) -> None:
    town = Town(api.stub)
    failure = rpc_fails(
        api.stub.CreateArea,
        pb.CreateAreaRequest(area=pb.Area(code=unique("a"), name="片区", street_id=MISSING_ID)),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == {"street_id"}
    api.stub.DeactivateVenue(pb.DeactivateRequest(id=town.venue.id, reason="装修"))
    failure = rpc_fails(
        api.stub.CreateStation,
        pb.CreateStationRequest(
            station=pb.Station(
                code=unique("st"), name="站", area_id=town.area.id, venue_id=town.venue.id
            )
        ),
    )
    assert failure.fields == {"venue_id"}
    assert "deactivated" in failure.violations[0].description


def test_an_update_mask_must_name_known_fields(api: Any, rpc_fails: Fails) -> None:
    town = Town(api.stub)
    deputy = town.add_deputy()
    failure = rpc_fails(
        api.stub.UpdateDeputy,
        pb.UpdateDeputyRequest(
            deputy=pb.Deputy(id=deputy.id, name="新名"), update_mask=mask("name", "salary", "id")
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == {"update_mask"}
    described = " ".join(v.description for v in failure.violations)
    assert "salary" in described and "id" in described
    empty = rpc_fails(
        api.stub.UpdateDeputy, pb.UpdateDeputyRequest(deputy=pb.Deputy(id=deputy.id, name="新名"))
    )
    assert empty.code == grpc.StatusCode.INVALID_ARGUMENT and empty.fields == {"update_mask"}
    assert api.stub.GetDeputy(pb.GetRequest(id=deputy.id)).name == deputy.name


# ================================================================= a failed write leaves nothing


def test_a_failed_update_leaves_nothing_behind(api: Any, rpc_fails: Fails) -> None:
    """The station change is applied in the session before the bad phone is
    found; the rollback must take it back, with its events."""
    town = Town(api.stub)
    second = town.add_station(2)
    deputy = town.add_deputy(contact=pb.DeputyContact(phone="13912345678"))
    mark = api.outbox_mark()
    failure = rpc_fails(
        api.stub.UpdateDeputy,
        pb.UpdateDeputyRequest(
            deputy=pb.Deputy(
                id=deputy.id, station_id=second.id, contact=pb.DeputyContact(phone="999")
            ),
            update_mask=mask("station_id", "contact.phone"),
        ),
    )
    assert failure.fields == {"contact.phone"}
    assert api.stub.GetDeputy(pb.GetRequest(id=deputy.id)) == deputy
    assert api.events_since(mark) == []


def test_a_code_clash_on_update_leaves_the_record_as_it_was(api: Any, rpc_fails: Fails) -> None:
    first = api.stub.CreateStreet(
        pb.CreateStreetRequest(street=pb.Street(code=unique("s"), name="甲"))
    )
    second = api.stub.CreateStreet(
        pb.CreateStreetRequest(street=pb.Street(code=unique("s"), name="乙"))
    )
    mark = api.outbox_mark()
    failure = rpc_fails(
        api.stub.UpdateStreet,
        pb.UpdateStreetRequest(
            street=pb.Street(id=second.id, code=first.code, name="丙"),
            update_mask=mask("code", "name"),
        ),
    )
    assert failure.code == grpc.StatusCode.ALREADY_EXISTS
    assert api.stub.GetStreet(pb.GetRequest(id=second.id)) == second
    assert api.events_since(mark) == []


def test_a_refused_create_stores_no_row_and_no_event(api: Any, rpc_fails: Fails) -> None:
    counts = {m: api.count(m) for m in (models.Community, models.CommunityKeyword)}
    mark = api.outbox_mark()
    failure = rpc_fails(
        api.stub.CreateCommunity,
        pb.CreateCommunityRequest(
            community=pb.Community(
                code=unique("c"), name="", street_id=MISSING_ID, address_keywords=["某路"]
            )
        ),
    )
    assert failure.fields == {"name", "street_id"}
    assert {m: api.count(m) for m in counts} == counts
    assert api.events_since(mark) == []


# ================================================================= paging and filters


def test_pages_cover_every_record_exactly_once(api: Any) -> None:
    first = api.stub.ListDeputies(pb.ListDeputiesRequest(page=PageRequest(page_size=37)))
    total = first.page.total_size
    assert len(first.deputies) == 37 and first.page.next_page_token
    pages: list[list[int]] = []
    request = pb.ListDeputiesRequest(page=PageRequest(page_size=37))
    while True:
        response = api.stub.ListDeputies(request)
        assert response.page.total_size == total
        pages.append([d.id for d in response.deputies])
        if not response.page.next_page_token:
            break
        request.page.page_token = response.page.next_page_token
    ids = [i for page in pages for i in page]
    assert len(ids) == total == len(set(ids))
    assert ids == sorted(ids)
    assert all(len(page) == 37 for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= 37
    assert len(pages) == -(-total // 37)
    # The default page is 50.
    assert len(api.stub.ListDeputies(pb.ListDeputiesRequest()).deputies) == 50


def test_a_page_exactly_at_the_end_has_no_next_token(api: Any) -> None:
    stations = api.stub.ListStations(pb.ListStationsRequest(page=PageRequest(page_size=500)))
    total = stations.page.total_size
    exact = api.stub.ListStations(pb.ListStationsRequest(page=PageRequest(page_size=total)))
    assert len(exact.stations) == total and exact.page.next_page_token == ""


@pytest.mark.parametrize("token", ["garbage", "YWZ0ZXI6eA==", "YmVmb3JlOjU="])  # after:x, before:5
def test_a_bad_page_token_is_invalid(api: Any, rpc_fails: Fails, token: str) -> None:
    failure = rpc_fails(
        api.stub.ListDeputies,
        pb.ListDeputiesRequest(page=PageRequest(page_size=10, page_token=token)),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == {"page.page_token"}


@pytest.mark.parametrize("size", [-1, 501])
def test_a_page_size_out_of_range_is_invalid(api: Any, rpc_fails: Fails, size: int) -> None:
    failure = rpc_fails(
        api.stub.ListStreets, pb.ListStreetsRequest(page=PageRequest(page_size=size))
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.fields == {"page.page_size"}


def demo_deputies(api: Any, **where: str) -> set[str]:
    return {
        d["code"]
        for d in api.district.deputies
        if all(d[k] == v if k != "expertise" else v in d[k] for k, v in where.items())
    }


def test_list_deputies_by_street(api: Any) -> None:
    street = by_code(api.stub, "street", "tianhenan")
    found = all_pages(
        api.stub.ListDeputies, pb.ListDeputiesRequest(street_id=street.id), "deputies", 100
    )
    assert {d.code for d in found} == demo_deputies(api, street="tianhenan")
    assert {d.street_id for d in found} == {street.id}


def test_list_deputies_by_station(api: Any) -> None:
    station = by_code(api.stub, "station", "linhe-1")
    response = api.stub.ListDeputies(pb.ListDeputiesRequest(station_id=station.id))
    assert {d.code for d in response.deputies} == demo_deputies(api, station="linhe-1")
    assert response.page.total_size == len(demo_deputies(api, station="linhe-1"))


def test_list_deputies_by_level(api: Any) -> None:
    found = api.stub.ListDeputies(
        pb.ListDeputiesRequest(level=pb.DEPUTY_LEVEL_PROVINCIAL, page=PageRequest(page_size=100))
    )
    assert {d.code for d in found.deputies} == demo_deputies(api, level="provincial")
    assert {d.level for d in found.deputies} == {pb.DEPUTY_LEVEL_PROVINCIAL}


def test_list_deputies_by_expertise(api: Any) -> None:
    found = all_pages(
        api.stub.ListDeputies, pb.ListDeputiesRequest(expertise="水务"), "deputies", 200
    )
    assert {d.code for d in found} == demo_deputies(api, expertise="水务")
    assert found and all("水务" in d.expertise for d in found)


def test_list_deputies_by_query_and_combined_filters(api: Any) -> None:
    someone = api.district.deputies[100]
    found = api.stub.ListDeputies(pb.ListDeputiesRequest(query=someone["name"]))
    assert someone["code"] in {d.code for d in found.deputies}
    assert all(someone["name"] in d.name for d in found.deputies)
    by_code_query = api.stub.ListDeputies(pb.ListDeputiesRequest(query=someone["code"].lower()))
    assert [d.code for d in by_code_query.deputies] == [someone["code"]]
    street = by_code(api.stub, "street", someone["street"])
    combined = all_pages(
        api.stub.ListDeputies,
        pb.ListDeputiesRequest(street_id=street.id, level=LEVEL["district"]),
        "deputies",
        100,
    )
    assert {d.code for d in combined} == demo_deputies(
        api, street=someone["street"], level="district"
    )
    nobody = api.stub.ListDeputies(pb.ListDeputiesRequest(query="没有这个人"))
    assert nobody.page.total_size == 0 and not nobody.deputies


def test_list_other_kinds_by_their_filters(api: Any) -> None:
    stub = api.stub
    linhe = by_code(stub, "street", "linhe")
    areas = stub.ListAreas(pb.ListAreasRequest(street_id=linhe.id)).areas
    assert {a.code for a in areas} == {
        a["code"] for a in api.district.areas if a["street"] == "linhe"
    }
    communities = all_pages(
        stub.ListCommunities, pb.ListCommunitiesRequest(street_id=linhe.id), "communities", 100
    )
    assert {c.code for c in communities} == {
        c["code"] for c in api.district.communities if c["street"] == "linhe"
    }
    stations = stub.ListStations(pb.ListStationsRequest(area_id=areas[0].id)).stations
    assert {s.code for s in stations} == {
        s["code"] for s in api.district.stations if s["area"] == areas[0].code
    }
    offices = stub.ListUnits(
        pb.ListUnitsRequest(kind=pb.UNIT_KIND_STREET_OFFICE, street_id=linhe.id)
    )
    assert [u.code for u in offices.units] == ["linhe-office"]
    positions = all_pages(
        stub.ListPositions, pb.ListPositionsRequest(street_id=linhe.id), "positions", 100
    )
    assert len(positions) == sum(1 for p in api.district.positions if p["street"] == "linhe")


# ================================================================= positions


def test_one_street_director_at_a_time(api: Any, rpc_fails: Fails) -> None:
    stub = api.stub
    town = Town(stub)
    mark = api.outbox_mark()
    first = town.fill(
        pb.POSITION_ROLE_STREET_DIRECTOR,
        unit_id=town.committee.id,
        holder_name="王书记",
        holder_title="街道党工委书记",
    )
    assert first.ended_on == "" and first.holder_name == "王书记"
    assert types(api.events_since(mark)) == ["position_filled"]

    before = api.count(models.Position)
    mark = api.outbox_mark()
    failure = rpc_fails(
        stub.FillPosition,
        pb.FillPositionRequest(
            position=pb.Position(
                role=pb.POSITION_ROLE_STREET_DIRECTOR,
                unit_id=town.committee.id,
                holder_name="李书记",
                started_on="2024-06-01",
            )
        ),
    )
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "王书记" in failure.message
    assert api.count(models.Position) == before
    assert api.events_since(mark) == []

    # A director of another street is no clash.
    other = Town(stub)
    other.fill(pb.POSITION_ROLE_STREET_DIRECTOR, unit_id=other.committee.id, holder_name="李书记")

    mark = api.outbox_mark()
    vacated = stub.VacatePosition(
        pb.VacatePositionRequest(id=first.id, ended_on="2024-05-31", reason="调任")
    )
    assert (vacated.ended_on, vacated.end_reason) == ("2024-05-31", "调任")
    assert types(api.events_since(mark)) == ["position_vacated"]
    second = town.fill(
        pb.POSITION_ROLE_STREET_DIRECTOR, unit_id=town.committee.id, holder_name="李书记"
    )

    held = stub.ListPositions(pb.ListPositionsRequest(unit_id=town.committee.id))
    assert [p.id for p in held.positions] == [second.id]
    history = stub.ListPositions(
        pb.ListPositionsRequest(unit_id=town.committee.id, include_ended=True)
    )
    assert [p.id for p in history.positions] == [first.id, second.id]
    assert stub.GetPosition(pb.GetRequest(id=first.id)).end_reason == "调任"

    again = rpc_fails(stub.VacatePosition, pb.VacatePositionRequest(id=first.id, reason="再次"))
    assert again.code == grpc.StatusCode.FAILED_PRECONDITION
    no_reason = rpc_fails(stub.VacatePosition, pb.VacatePositionRequest(id=second.id, reason=""))
    assert no_reason.code == grpc.StatusCode.INVALID_ARGUMENT and no_reason.fields == {"reason"}
    too_early = rpc_fails(
        stub.VacatePosition,
        pb.VacatePositionRequest(id=second.id, ended_on="2020-01-01", reason="x"),
    )
    assert too_early.code == grpc.StatusCode.INVALID_ARGUMENT and too_early.fields == {"ended_on"}


def test_street_roles_belong_to_a_street_committee(api: Any, rpc_fails: Fails) -> None:
    town = Town(api.stub)
    office = api.stub.CreateUnit(
        pb.CreateUnitRequest(
            unit=pb.Unit(
                code=unique("u"),
                name="测试街道办事处",
                kind=pb.UNIT_KIND_STREET_OFFICE,
                street_id=town.street.id,
            )
        )
    )
    failure = rpc_fails(
        api.stub.FillPosition,
        pb.FillPositionRequest(
            position=pb.Position(
                role=pb.POSITION_ROLE_STREET_PAID_STAFF, unit_id=office.id, holder_name="某人"
            )
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == {"unit_id"}
    failure = rpc_fails(api.stub.FillPosition, pb.FillPositionRequest(position=pb.Position()))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and "role" in failure.fields


def test_a_station_head_is_a_deputy_of_that_station(api: Any, rpc_fails: Fails) -> None:
    stub = api.stub
    town = Town(stub)
    second = town.add_station(2)
    elsewhere = town.add_deputy(station=second)
    local = town.add_deputy()

    not_a_deputy = rpc_fails(
        stub.FillPosition,
        pb.FillPositionRequest(
            position=pb.Position(
                role=pb.POSITION_ROLE_STATION_HEAD,
                station_id=town.station.id,
                holder_name="居委会主任",
            )
        ),
    )
    assert not_a_deputy.code == grpc.StatusCode.INVALID_ARGUMENT
    assert not_a_deputy.fields == {"deputy_id"}
    wrong_station = rpc_fails(
        stub.FillPosition,
        pb.FillPositionRequest(
            position=pb.Position(
                role=pb.POSITION_ROLE_STATION_HEAD,
                station_id=town.station.id,
                deputy_id=elsewhere.id,
            )
        ),
    )
    assert wrong_station.code == grpc.StatusCode.INVALID_ARGUMENT
    assert wrong_station.fields == {"deputy_id"}

    head = town.fill(pb.POSITION_ROLE_STATION_HEAD, station_id=town.station.id, deputy_id=local.id)
    assert head.holder_name == local.name, "the holder's name is the deputy's"
    second_head = rpc_fails(
        stub.FillPosition,
        pb.FillPositionRequest(
            position=pb.Position(
                role=pb.POSITION_ROLE_STATION_HEAD, station_id=town.station.id, deputy_id=local.id
            )
        ),
    )
    assert second_head.code == grpc.StatusCode.FAILED_PRECONDITION


def test_a_third_station_deputy_head_is_refused(api: Any, rpc_fails: Fails) -> None:
    town = Town(api.stub)
    for name in ("副站长甲", "副站长乙"):
        town.fill(
            pb.POSITION_ROLE_STATION_DEPUTY_HEAD,
            station_id=town.station.id,
            holder_name=name,
            holder_title="居委会副主任",
        )
    failure = rpc_fails(
        api.stub.FillPosition,
        pb.FillPositionRequest(
            position=pb.Position(
                role=pb.POSITION_ROLE_STATION_DEPUTY_HEAD,
                station_id=town.station.id,
                holder_name="副站长丙",
            )
        ),
    )
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    held = api.stub.ListPositions(pb.ListPositionsRequest(station_id=town.station.id))
    assert sorted(p.holder_name for p in held.positions) == ["副站长乙", "副站长甲"]


def test_deactivating_a_deputy_vacates_their_positions(api: Any) -> None:
    stub = api.stub
    town = Town(stub)
    deputy = town.add_deputy()
    head = town.fill(pb.POSITION_ROLE_STATION_HEAD, station_id=town.station.id, deputy_id=deputy.id)
    member = town.fill(
        pb.POSITION_ROLE_STREET_COMMITTEE_MEMBER, unit_id=town.committee.id, deputy_id=deputy.id
    )
    mark = api.outbox_mark()
    stub.DeactivateDeputy(pb.DeactivateRequest(id=deputy.id, reason="迁出本区"))
    events = api.events_since(mark)
    assert sorted(types(events)) == ["deputy_deactivated", "position_vacated", "position_vacated"]
    for position in (head, member):
        ended = stub.GetPosition(pb.GetRequest(id=position.id))
        assert ended.ended_on == domain.today().isoformat()
        assert "迁出本区" in ended.end_reason
    assert stub.ListPositions(pb.ListPositionsRequest(deputy_id=deputy.id)).page.total_size == 0
    assert (
        stub.ListPositions(
            pb.ListPositionsRequest(deputy_id=deputy.id, include_ended=True)
        ).page.total_size
        == 2
    )
    # The station may have a new head now.
    successor = town.add_deputy()
    town.fill(pb.POSITION_ROLE_STATION_HEAD, station_id=town.station.id, deputy_id=successor.id)


# ================================================================= budgets


def demo_committee_totals(api: Any, year: int) -> dict[str, int]:
    names = {u["code"]: u["name"] for u in api.district.units if u["kind"] == "street_committee"}
    totals = dict.fromkeys(names.values(), 0)
    for line in api.district.budget_lines:
        if line["year"] == year:
            totals[names[line["unit"]]] += line["amount_yuan"]
    return totals


def test_check_budgets_names_exactly_the_streets_short(api: Any) -> None:
    year = api.district.budget_lines[0]["year"]
    response = api.stub.CheckBudgets(pb.CheckBudgetsRequest(year=year))
    totals = demo_committee_totals(api, year)
    checks = {c.unit_name: c for c in response.checks if c.unit_name in totals}
    assert len(checks) == 21
    for name, check in checks.items():
        assert check.total_yuan == totals[name] == check.personnel_yuan + check.operations_yuan
        assert check.personnel_yuan == 70_000
        assert check.minimum_yuan == api.registry.budget_minimum_yuan == 370_000
        assert check.year == year
    short = {name: c.shortfall_yuan for name, c in checks.items() if not c.meets_minimum}
    expected = {name: 370_000 - total for name, total in totals.items() if total < 370_000}
    assert short == expected
    assert len(short) >= 1
    assert all(c.shortfall_yuan == 0 for c in checks.values() if c.meets_minimum)


def test_check_budgets_for_one_committee_and_a_year_without_lines(
    api: Any, rpc_fails: Fails
) -> None:
    committee = by_code(api.stub, "unit", "linhe-committee")
    year = api.district.budget_lines[0]["year"]
    one = api.stub.CheckBudgets(pb.CheckBudgetsRequest(year=year, unit_id=committee.id))
    assert [c.unit_id for c in one.checks] == [committee.id]
    empty = api.stub.CheckBudgets(pb.CheckBudgetsRequest(year=1999 + 1, unit_id=committee.id))
    assert (empty.checks[0].total_yuan, empty.checks[0].shortfall_yuan) == (0, 370_000)
    department = by_code(api.stub, "unit", "gov-office")
    failure = rpc_fails(
        api.stub.CheckBudgets, pb.CheckBudgetsRequest(year=year, unit_id=department.id)
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == {"unit_id"}


def test_the_minimum_is_configured(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    year = api.district.budget_lines[0]["year"]
    higher = Registry(api.db, budget_minimum_yuan=400_000)
    checks = {c.unit_name: c for c in higher.check_budgets(year, 0, ADMIN)}
    totals = demo_committee_totals(api, year)
    assert {n for n in totals if not checks[n].meets_minimum} == {
        n for n, total in totals.items() if total < 400_000
    }
    assert {checks[n].minimum_yuan for n in totals} == {400_000}

    monkeypatch.setenv("LIAISON_REGISTRY_BUDGET_MINIMUM_YUAN", "450000")
    monkeypatch.setenv("LIAISON_REGISTRY_DATABASE_URL", api.db.url)
    boot = RegistryBootstrap.for_process("api")
    try:
        configured = {c.unit_name: c for c in boot.registry.check_budgets(year, 0, ADMIN)}
        assert {configured[n].minimum_yuan for n in totals} == {450_000}
        assert {n for n in totals if not configured[n].meets_minimum} == {
            n for n, total in totals.items() if total < 450_000
        }
    finally:
        boot.close()


# ================================================================= finding a station


def demo_station_of(api: Any, community_code: str) -> dict[str, Any]:
    (station,) = [s for s in api.district.stations if community_code in s["communities"]]
    return station


def check_found(api: Any, found: pb.FindStationResponse, community: dict[str, Any]) -> None:
    station = demo_station_of(api, community["code"])
    assert found.community.code == community["code"]
    assert found.station.code == station["code"]
    assert found.venue.code == station["venue"]
    assert found.street.code == station["street"]
    codes = [d.deputy.code for d in found.deputies]
    assert set(codes) == demo_deputies(api, station=station["code"])
    ranks = [domain.level_rank(LEVEL_NAME[d.deputy.level]) for d in found.deputies]
    assert ranks == sorted(ranks), "national first, district last"
    (head,) = [
        p["deputy"]
        for p in api.district.positions
        if p["role"] == "station_head" and p["station"] == station["code"]
    ]
    assert [d.deputy.code for d in found.deputies if d.is_station_head] == [head]
    contacts = {
        d["code"] for d in api.district.deputies if community["code"] in d["contact_communities"]
    }
    assert {d.code for d in found.contact_deputies} == contacts


def a_station_with_every_level(api: Any) -> dict[str, Any]:
    """A demo station with deputies of more than one level (to see the order)."""
    for station in api.district.stations:
        levels = {d["level"] for d in api.district.deputies if d["station"] == station["code"]}
        if len(levels) >= 3:
            return station
    raise AssertionError("no demo station has deputies of three levels")


def test_find_station_by_community_id_and_code(api: Any) -> None:
    station = a_station_with_every_level(api)
    community = next(c for c in api.district.communities if c["code"] == station["communities"][0])
    listed = by_code(api.stub, "community", community["code"])
    by_id = api.stub.FindStation(pb.FindStationRequest(community_id=listed.id))
    check_found(api, by_id, community)
    by_its_code = api.stub.FindStation(pb.FindStationRequest(community_code=community["code"]))
    assert by_its_code == by_id
    levels = [d.deputy.level for d in by_id.deputies]
    assert levels[0] != pb.DEPUTY_LEVEL_DISTRICT and levels[-1] == pb.DEPUTY_LEVEL_DISTRICT


def test_find_station_by_an_address_naming_a_road(api: Any) -> None:
    community = api.district.communities[40]
    road = community["address_keywords"][0]
    found = api.stub.FindStation(pb.FindStationRequest(address=f"广州市天河区{road}88号3栋"))
    check_found(api, found, community)


def test_find_station_by_an_address_naming_the_community(api: Any) -> None:
    community = api.district.communities[77]
    found = api.stub.FindStation(pb.FindStationRequest(address=f"天河区{community['name']}居民"))
    check_found(api, found, community)
    # Also without the 社区 suffix.
    short = community["name"].removesuffix("社区")
    found = api.stub.FindStation(pb.FindStationRequest(address=f"天河区{short}小学旁"))
    assert found.community.code == community["code"]


def test_find_station_not_found(api: Any, rpc_fails: Fails) -> None:
    for request in (
        pb.FindStationRequest(address="越秀区北京路1号"),
        pb.FindStationRequest(community_code="no-such-community"),
        pb.FindStationRequest(community_id=MISSING_ID),
    ):
        assert rpc_fails(api.stub.FindStation, request).code == grpc.StatusCode.NOT_FOUND, request


def test_find_station_needs_something_to_look_for(api: Any, rpc_fails: Fails) -> None:
    failure = rpc_fails(api.stub.FindStation, pb.FindStationRequest())
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == {"by"}
    failure = rpc_fails(api.stub.FindStation, pb.FindStationRequest(address="路"))
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == {"address"}


def test_an_ambiguous_address_is_a_failed_precondition(api: Any, rpc_fails: Fails) -> None:
    town = Town(api.stub)
    jia = town.add_community("试验甲社区", ["共用路", "试验甲花园"])
    yi = town.add_community("试验乙社区", ["共用路"])
    api.stub.UpdateStation(
        pb.UpdateStationRequest(
            station=pb.Station(id=town.station.id, community_ids=[jia.id, yi.id]),
            update_mask=mask("community_ids"),
        )
    )
    failure = rpc_fails(api.stub.FindStation, pb.FindStationRequest(address="天河区共用路8号"))
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "试验甲社区" in failure.message and "试验乙社区" in failure.message
    # The community's full name settles it.
    found = api.stub.FindStation(pb.FindStationRequest(address="天河区共用路8号试验乙社区"))
    assert (found.community.id, found.station.id) == (yi.id, town.station.id)
    assert found.venue.id == town.venue.id
    # A deactivated community no longer competes.
    api.stub.DeactivateCommunity(pb.DeactivateRequest(id=jia.id, reason="合并入乙"))
    found = api.stub.FindStation(pb.FindStationRequest(address="天河区共用路8号"))
    assert found.community.id == yi.id


def test_a_community_no_station_serves_is_not_found(api: Any, rpc_fails: Fails) -> None:
    town = Town(api.stub)
    lone = town.add_community("试验丁社区", ["试验丁路"])
    failure = rpc_fails(api.stub.FindStation, pb.FindStationRequest(community_id=lone.id))
    assert failure.code == grpc.StatusCode.NOT_FOUND
    assert "试验丁社区" in failure.message


def test_a_community_is_served_by_one_station_only(api: Any, rpc_fails: Fails) -> None:
    town = Town(api.stub)
    served = by_code(api.stub, "community", api.district.stations[0]["communities"][0])
    failure = rpc_fails(
        api.stub.UpdateStation,
        pb.UpdateStationRequest(
            station=pb.Station(id=town.station.id, community_ids=[served.id]),
            update_mask=mask("community_ids"),
        ),
    )
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.fields == {"community_ids"}


# ================================================================= the term sweep


def test_importing_the_term_sweep_does_not_patch_the_process() -> None:
    import socket
    import threading

    assert "eventlet" not in socket.socket.__module__
    assert "eventlet" not in threading.Lock.__module__


def test_the_term_sweep_ends_only_finished_terms(migrated_registry: Registry) -> None:
    registry = migrated_registry
    today = domain.today()
    street = registry.create(STREET_KIND, pb.Street(code="linhe", name="林和街道"), ADMIN)

    def deputy(code: str, term_end: str) -> int:
        record = registry.create(
            DEPUTY_KIND,
            pb.Deputy(
                code=code,
                name=f"代表{code}",
                level=pb.DEPUTY_LEVEL_DISTRICT,
                term_start="2016-01-01",
                term_end=term_end,
                street_id=street.id,
            ),
            ADMIN,
        )
        return record.id  # type: ignore[attr-defined]

    ended = deputy("ENDED", (today - timedelta(days=1)).isoformat())
    long_ago = deputy("LONGAGO", "2019-12-31")
    ends_today = deputy("TODAY", today.isoformat())
    running = deputy("RUNNING", (today + timedelta(days=400)).isoformat())
    open_ended = deputy("OPEN", "")
    already_gone = deputy("GONE", "2018-01-01")
    registry.deactivate(DEPUTY_KIND, already_gone, "辞职", ADMIN)

    assert end_finished_terms(registry) == 2
    states = {
        i: registry.get(DEPUTY_KIND, i, ADMIN)
        for i in (ended, long_ago, ends_today, running, open_ended, already_gone)
    }
    assert {i for i, d in states.items() if d.active} == {ends_today, running, open_ended}  # type: ignore[attr-defined]
    for i in (ended, long_ago):
        assert states[i].deactivation.reason == TERM_ENDED_REASON  # type: ignore[attr-defined]
    assert states[already_gone].deactivation.reason == "辞职"  # type: ignore[attr-defined]
    with registry.db.read() as session:
        bodies = session.scalars(
            select(outbox_events.c.body).where(outbox_events.c.type == "deputy_deactivated")
        ).all()
    deactivated = sorted(json.loads(b)["payload"]["deputy"]["code"] for b in bodies)
    assert deactivated == ["ENDED", "GONE", "LONGAGO"]
    assert not any("辞职" in b or TERM_ENDED_REASON in b for b in bodies), "reasons are staff-only"
    with registry.db.read() as session:
        sweeps = session.execute(
            select(audit.audit_entries.c.actor_subject, audit.audit_entries.c.record_id).where(
                audit.audit_entries.c.action == "deactivated"
            )
        ).all()
    assert sorted(sweeps) == sorted(
        [("system:registry-worker", ended), ("system:registry-worker", long_ago)]
        + [("test:admin", already_gone)]
    ), "the audit names who deactivated each deputy"
    assert end_finished_terms(registry) == 0, "a second sweep finds nothing more"


def test_an_update_cannot_make_a_second_holder_of_a_single_holder_role(
    api: Any, rpc_fails: Fails
) -> None:
    from google.protobuf import field_mask_pb2

    stub = api.stub
    town = Town(stub)
    director = town.fill(
        pb.POSITION_ROLE_STREET_DIRECTOR, unit_id=town.committee.id, holder_name="陈书记"
    )
    member = town.fill(
        pb.POSITION_ROLE_STREET_COMMITTEE_MEMBER, unit_id=town.committee.id, holder_name="周委员"
    )
    mark = api.outbox_mark()
    failure = rpc_fails(
        stub.UpdatePosition,
        pb.UpdatePositionRequest(
            position=pb.Position(id=member.id, role=pb.POSITION_ROLE_STREET_DIRECTOR),
            update_mask=field_mask_pb2.FieldMask(paths=["role"]),
        ),
    )
    assert failure.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "陈书记" in failure.message
    assert stub.GetPosition(pb.GetRequest(id=member.id)).role == (
        pb.POSITION_ROLE_STREET_COMMITTEE_MEMBER
    )
    assert api.events_since(mark) == []

    # Changing the one director's own record is no clash with itself.
    renamed = stub.UpdatePosition(
        pb.UpdatePositionRequest(
            position=pb.Position(
                id=director.id, role=pb.POSITION_ROLE_STREET_DIRECTOR, holder_title="党工委书记"
            ),
            update_mask=field_mask_pb2.FieldMask(paths=["role", "holder_title"]),
        )
    )
    assert renamed.holder_title == "党工委书记"
