"""The JSON resources over the registry: shapes, pagination, masks, lookups."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway import schemas
from gateway.convert import enum_short_names
from liaison.registry.v1 import registry_pb2 as pb

Headers = Callable[[str], dict[str, str]]


def test_list_pagination_passes_through(client: TestClient, fake: Any) -> None:
    first = client.get("/api/v1/deputies?page_size=1")
    assert first.status_code == 200
    page = first.json()
    assert [d["code"] for d in page["items"]] == ["D001"]
    assert page["total_size"] == 2
    assert page["next_page_token"]
    request = fake.calls_to("ListDeputies")[-1].request
    assert request.page.page_size == 1 and request.page.page_token == ""

    second = client.get(f"/api/v1/deputies?page_size=1&page_token={page['next_page_token']}").json()
    assert fake.calls_to("ListDeputies")[-1].request.page.page_token == page["next_page_token"]
    assert [d["code"] for d in second["items"]] == ["D002"]
    assert second["next_page_token"] is None


def test_list_filters_reach_the_registry(client: TestClient, fake: Any) -> None:
    reply = client.get(
        "/api/v1/deputies?level=city&street_id=2&expertise=x&query=李&include_inactive=true"
    )
    assert reply.status_code == 200
    request = fake.calls_to("ListDeputies")[-1].request
    assert request.level == pb.DEPUTY_LEVEL_CITY
    assert (request.street_id, request.expertise, request.query) == (2, "x", "李")
    assert request.include_inactive is True
    units = client.get("/api/v1/units?kind=street_committee").json()["items"]
    assert fake.calls_to("ListUnits")[-1].request.kind == pb.UNIT_KIND_STREET_COMMITTEE
    assert {u["kind"] for u in units} == {"street_committee"}


def test_record_shapes(client: TestClient) -> None:
    deputy = client.get("/api/v1/deputies/1").json()
    assert deputy["level"] == "district"
    assert deputy["expertise"] == ["城市管理"]
    assert deputy["term_start"] is None  # empty proto string is null, not ""
    station = client.get("/api/v1/stations/1").json()
    assert station["opened_on"] == "2013-05-01"
    assert station["community_ids"] == [1]
    unit = client.get("/api/v1/units/3").json()
    assert unit["kind"] == "standing_committee_office"
    assert unit["street_id"] is None and unit["parent_id"] is None


def test_create_returns_201_and_location(client: TestClient, fake: Any, auth: Headers) -> None:
    body = {"code": "D003", "name": "王五", "gender": "男", "level": "national", "street_id": 1,
            "term_start": "2023-01-01", "expertise": ["教育"], "contact": {"phone": "1"}}  # fmt: skip
    reply = client.post("/api/v1/deputies", json=body, headers=auth("admin"))
    assert reply.status_code == 201, reply.text
    created = reply.json()
    assert reply.headers["location"] == f"/api/v1/deputies/{created['id']}"
    sent = fake.calls_to("CreateDeputy")[-1].request.deputy
    assert sent.level == pb.DEPUTY_LEVEL_NATIONAL and sent.term_start == "2023-01-01"
    assert sent.contact.phone == "1"
    fetched = client.get(reply.headers["location"], headers=auth("admin")).json()
    assert fetched["level"] == "national" and fetched["contact"]["phone"] == "1"


def test_patch_sends_the_given_keys_as_update_mask(
    client: TestClient, fake: Any, auth: Headers
) -> None:
    reply = client.patch(
        "/api/v1/deputies/1", json={"profession": "律师", "expertise": []}, headers=auth("admin")
    )
    assert reply.status_code == 200, reply.text
    request = fake.calls_to("UpdateDeputy")[-1].request
    assert sorted(request.update_mask.paths) == ["expertise", "profession"]
    assert request.deputy.id == 1
    assert reply.json()["profession"] == "律师" and reply.json()["expertise"] == []
    assert reply.json()["name"] == "张三"


def test_deactivate_and_include_inactive(client: TestClient, fake: Any, auth: Headers) -> None:
    reply = client.post(
        "/api/v1/venues/1:deactivate", json={"reason": "搬迁"}, headers=auth("admin")
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["active"] is False
    assert reply.json()["deactivation"]["reason"] == "搬迁"
    assert client.get("/api/v1/venues").json()["items"] == []
    assert len(client.get("/api/v1/venues?include_inactive=true").json()["items"]) == 1


def test_positions_fill_and_vacate(client: TestClient, fake: Any, auth: Headers) -> None:
    headers = auth("admin")
    filled = client.post(
        "/api/v1/positions",
        json={
            "role": "station_deputy_head",
            "station_id": 1,
            "holder_name": "居委会陈",
            "started_on": "2024-01-01",
        },
        headers=headers,
    )
    assert filled.status_code == 201, filled.text
    assert filled.json()["role"] == "station_deputy_head"
    assert (
        fake.calls_to("FillPosition")[-1].request.position.role
        == pb.POSITION_ROLE_STATION_DEPUTY_HEAD
    )
    vacated = client.post(
        f"/api/v1/positions/{filled.json()['id']}:vacate",
        json={"ended_on": "2024-12-31", "reason": "换届"},
        headers=headers,
    )
    assert vacated.status_code == 200, vacated.text
    assert vacated.json()["ended_on"] == "2024-12-31" and vacated.json()["end_reason"] == "换届"
    listed = client.get("/api/v1/positions?role=station_head&include_ended=true", headers=headers)
    assert [p["role"] for p in listed.json()["items"]] == ["station_head"]


def test_find_station(client: TestClient, fake: Any) -> None:
    by_address = client.get("/api/v1/find-station", params={"address": "天河区林和东路12号"})
    assert by_address.status_code == 200, by_address.text
    found = by_address.json()
    assert found["station"]["name"] == "林和街第一联络站"
    assert found["venue"]["id"] == 1 and found["street"]["code"] == "linhe"
    assert [d["deputy"]["name"] for d in found["deputies"]] == ["张三"]
    assert "contact" not in found["deputies"][0]["deputy"]
    assert fake.calls_to("FindStation")[-1].request.WhichOneof("by") == "address"
    by_code = client.get("/api/v1/find-station?community_code=linhe-east").json()
    assert by_code["community"]["id"] == 1
    assert client.get("/api/v1/find-station?community_id=42").status_code == 404


def test_deputy_profile(client: TestClient) -> None:
    profile = client.get("/api/v1/deputies/1/profile").json()
    assert profile["street_name"] == "林和街道" and profile["level"] == "district"


def test_budget_checks(client: TestClient, fake: Any, auth: Headers) -> None:
    reply = client.get(
        "/api/v1/budget-checks?year=2024&unit_id=1", headers=auth("street-committee")
    )
    assert reply.status_code == 200, reply.text
    [check] = reply.json()["checks"]
    assert check["total_yuan"] == 70000 and check["meets_minimum"] is False
    assert check["shortfall_yuan"] == 300000
    request = fake.calls_to("CheckBudgets")[-1].request
    assert (request.year, request.unit_id) == (2024, 1)


def test_roster_import_by_extension_or_content_type(
    client: TestClient, fake: Any, auth: Headers
) -> None:
    headers = auth("standing-committee-office")
    csv = client.post(
        "/api/v1/rosters/stations:import",
        files={"file": ("stations.csv", b"code,name\ns1,a\ns2,b\n", "application/octet-stream")},
        headers=headers,
    )
    assert csv.status_code == 200, csv.text
    assert csv.json() == {"created": 3, "updated": 0}
    request = fake.calls_to("ImportRoster")[-1].request
    assert (request.kind, request.format) == (pb.ROSTER_KIND_STATIONS, pb.ROSTER_FORMAT_CSV)
    assert request.filename == "stations.csv"
    xlsx_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    xlsx = client.post(
        "/api/v1/rosters/positions:import",
        files={"file": ("upload", b"PK\x03\x04", xlsx_type)},
        headers=headers,
    )
    assert xlsx.status_code == 200, xlsx.text
    assert fake.calls_to("ImportRoster")[-1].request.format == pb.ROSTER_FORMAT_XLSX


def test_roster_download(client: TestClient, fake: Any, auth: Headers) -> None:
    csv = client.get("/api/v1/rosters/deputies?format=csv&street_id=2", headers=auth("admin"))
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content == fake.roster
    assert 'filename="deputies.csv"' in csv.headers["content-disposition"]
    assert fake.calls_to("ExportRoster")[-1].request.street_id == 2
    xlsx = client.get("/api/v1/rosters/deputies?format=xlsx", headers=auth("admin"))
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''%E4%BB%A3" in xlsx.headers["content-disposition"]


@pytest.mark.parametrize(
    ("model", "enum"),
    [
        (schemas.DeputyLevel, pb.DeputyLevel),
        (schemas.UnitKind, pb.UnitKind),
        (schemas.PositionRole, pb.PositionRole),
        (schemas.BudgetLineKind, pb.BudgetLineKind),
        (schemas.RosterKind, pb.RosterKind),
        (schemas.RosterFormat, pb.RosterFormat),
    ],
)
def test_api_enums_match_the_contract(model: Any, enum: Any) -> None:
    assert [m.value for m in model] == enum_short_names(enum.DESCRIPTOR)


def test_input_models_only_name_contract_fields() -> None:
    from gateway.routes.resources import SPECS

    for spec in SPECS:
        fields = getattr(pb, spec.singular).DESCRIPTOR.fields_by_name
        for model in (spec.create, spec.update, spec.out):
            unknown = set(model.model_fields) - set(fields)
            assert not unknown, (model.__name__, unknown)


def test_find_station_documents_an_ambiguous_address(client: TestClient) -> None:
    """An address naming two communities is a 409 whose detail lists them
    (registry.lookup); the contract says so."""
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/find-station"]["get"]
    assert "409" in operation["responses"]
    assert "more than one community" in operation["responses"]["409"]["description"]
