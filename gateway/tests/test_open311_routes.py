"""Open311 GeoReport v2 at /open311/v2, over the real reception service (its
gRPC API on a migrated PostgreSQL holding a small district) and the fake
registry of conftest.py (addresses, streets, street committees): every
endpoint in JSON and in XML (parsed, its element names the specification's),
the specification's errors for bad input (never a 5xx), and the constituent's
personal data never answered back nor logged."""

from __future__ import annotations

import dataclasses
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gateway.app import create_app
from gateway.config import GatewaySettings
from kit.db import Database
from reception import models

from .conftest import (
    TEST_AUTH,
    FakeRegistry,
    RegistryServer,
    every_service,
    reception_api,
    reception_database,
)

pytestmark = pytest.mark.postgres

V2 = "/open311/v2"
KEY = "test-open311-key"
FIRST, LAST, PHONE, EMAIL = "美玲", "陈", "13900139001", "chen.meiling@example.org"
ADDRESS = "林和西路3号"
REQUEST_FIELDS = [
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
]  # fmt: skip
CODE = re.compile(r"TH-\d{4}-\d{6,}")


@pytest.fixture(scope="module")
def reception_db(postgres_admin_url: str) -> Iterator[Database]:
    with reception_database(postgres_admin_url, "gateway_open311") as db:
        yield db


@pytest.fixture(scope="module")
def reception_target(reception_db: Database) -> Iterator[str]:
    with reception_api(reception_db) as target:
        yield target


def _settings(registry_server: RegistryServer, reception: str, **changes: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "targets": every_service(registry_server.target) | {"reception": reception},
        "grpc_deadline_seconds": 5.0,
        "read_rate_per_minute": 1_000_000,
        "write_rate_per_minute": 1_000_000,
        "auth": TEST_AUTH,
        "directory": False,
        "open311_api_keys": (KEY,),
    }
    return GatewaySettings(**(values | changes))


@pytest.fixture(scope="module")
def http(registry_server: RegistryServer, reception_target: str) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(registry_server, reception_target))) as client:
        yield client


@pytest.fixture
def district(fake: FakeRegistry) -> FakeRegistry:
    """The fake registry knows community 501 of the reception's small district."""
    fake.add("community", id=501, code="c501", name="社区501", street_id=1, area_id=1,
             address_keywords=["林和西路"])  # fmt: skip
    fake.records["station"][1].community_ids.append(501)
    return fake


def raise_one(http: TestClient, fmt: str = "json", **changes: Any) -> Any:
    form = {
        "api_key": KEY,
        "service_code": "property",
        "address_string": ADDRESS,
        "description": "小区电梯经常停运，物业不理会",
        "first_name": FIRST,
        "last_name": LAST,
        "phone": PHONE,
        "email": EMAIL,
    }
    form.update(changes)
    return http.post(f"{V2}/requests.{fmt}", data={k: v for k, v in form.items() if v is not None})


def raised_code(http: TestClient) -> str:
    reply = raise_one(http)
    assert reply.status_code == 201, reply.text
    code: str = reply.json()[0]["service_request_id"]
    return code


def xml_of(reply: Any, root: str) -> ET.Element:
    assert reply.headers["content-type"].startswith("text/xml"), reply.headers
    element = ET.fromstring(reply.content)
    assert element.tag == root
    return element


def assert_errors(reply: Any, status: int, fmt: str = "json") -> list[dict[str, Any]]:
    """The specification's errors: a list of {code, description}, code the status."""
    assert reply.status_code == status, reply.text
    if fmt == "xml":
        errors = [{child.tag: child.text for child in error} for error in xml_of(reply, "errors")]
        assert all(e.keys() == {"code", "description"} for e in errors)
        errors = [{"code": int(e["code"] or 0), "description": e["description"]} for e in errors]
    else:
        assert reply.headers["content-type"].startswith("application/json")
        errors = reply.json()
        assert isinstance(errors, list)
        assert all(e.keys() == {"code", "description"} for e in errors)
    assert errors and all(e["code"] == status and e["description"] for e in errors)
    return errors


def no_personal_data(text: str) -> None:
    for value in (FIRST, LAST, PHONE, EMAIL, "电梯"):
        assert value not in text


# ---------------------------------------------------------------- discovery and services


def test_discovery_in_json_and_xml(http: TestClient) -> None:
    body = http.get(f"{V2}/discovery.json").json()
    assert body.keys() == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] == "test"
    assert endpoint["formats"] == ["application/json", "text/xml"]
    root = xml_of(http.get(f"{V2}/discovery.xml"), "discovery")
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    (xml_endpoint,) = root.find("endpoints") or []
    assert xml_endpoint.tag == "endpoint"
    assert xml_endpoint.findtext("specification") == endpoint["specification"]
    assert xml_endpoint.findtext("url") == endpoint["url"]
    assert [f.text for f in xml_endpoint.iter("format")] == endpoint["formats"]


def test_the_services_are_the_opinion_categories(http: TestClient) -> None:
    services = http.get(f"{V2}/services.json").json()
    assert len(services) == 14
    property_ = next(s for s in services if s["service_code"] == "property")
    assert property_ == {
        "service_code": "property",
        "service_name": "物业管理与住房",
        "description": property_["description"],
        "metadata": False,
        "type": "realtime",
        "keywords": "物业管理, 住房保障, 法律",
        "group": "社情民意",
    }
    root = xml_of(http.get(f"{V2}/services.xml"), "services")
    assert [s.tag for s in root] == ["service"] * 14
    first = root[0]
    assert [c.tag for c in first] == [
        "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
    ]  # fmt: skip
    assert first.findtext("metadata") == "false" and first.findtext("type") == "realtime"
    assert [s.findtext("service_code") for s in root] == [s["service_code"] for s in services]


def test_a_service_definition_and_an_unknown_service(http: TestClient) -> None:
    assert http.get(f"{V2}/services/property.json").json() == {
        "service_code": "property",
        "attributes": [],
    }
    root = xml_of(http.get(f"{V2}/services/property.xml"), "service_definition")
    assert root.findtext("service_code") == "property" and root.find("attributes") is not None
    for fmt in ("json", "xml"):
        (error,) = assert_errors(http.get(f"{V2}/services/potholes.{fmt}"), 404, fmt)
        assert "service_code" in error["description"]


def test_an_unknown_format_or_path_is_an_error_of_the_specification(http: TestClient) -> None:
    assert_errors(http.get(f"{V2}/services.html"), 400)
    assert_errors(http.get(f"{V2}/nothing.xml"), 404, "xml")
    reply = http.delete(f"{V2}/services.json")
    assert_errors(reply, 405)
    assert "GET" in reply.headers["allow"]


# ---------------------------------------------------------------- raising an opinion


@pytest.mark.usefixtures("district")
def test_post_raises_an_online_opinion_and_echoes_nothing_personal(
    http: TestClient, reception_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reply = raise_one(http, lat="23.14", long="113.33")
    assert reply.status_code == 201, reply.text
    (created,) = reply.json()
    assert created.keys() == {"service_request_id", "service_notice", "account_id"}
    code = created["service_request_id"]
    assert CODE.fullmatch(code) and created["account_id"] is None
    assert "林和街第一联络站" in created["service_notice"]
    assert reply.headers["location"] == f"{V2}/requests/{code}.json"
    no_personal_data(reply.text)
    no_personal_data(caplog.text)
    assert KEY not in caplog.text
    with reception_db.read() as session:
        row = session.scalars(
            select(models.Opinion).where(models.Opinion.tracking_code == code)
        ).one()
        kept = (row.raiser_name, row.raiser_phone, row.raiser_contact)
        placed = (row.source, row.category, row.community_id)
    assert kept == (LAST + FIRST, PHONE, EMAIL)
    assert placed == ("online", "property", 501)
    xml_reply = raise_one(http, "xml")
    assert xml_reply.status_code == 201
    (request,) = xml_of(xml_reply, "service_requests")
    assert request.tag == "request" and CODE.fullmatch(request.findtext("service_request_id") or "")
    assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
    no_personal_data(xml_reply.text)


@pytest.mark.usefixtures("district")
@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("changes", "status", "names"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "not-a-key"}, 403, "api_key"),
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "potholes"}, 400, "service_code"),
        ({"lat": "north", "long": "113.3"}, 400, "lat"),
        ({"lat": "91", "long": "113.3"}, 400, "lat"),
        ({"lat": "23.1", "long": "181"}, 400, "long"),
        ({"lat": "23.1"}, 400, "lat"),
        ({"address_string": None, "lat": "23.1", "long": "113.3"}, 400, "address_string"),
        ({"address_string": None}, 400, "address_string"),
        ({"address_string": "火星大道"}, 400, "address_string"),
        ({"description": None}, 400, "description"),
        ({"first_name": None, "last_name": None}, 400, "first_name/last_name"),
        ({"phone": "call me"}, 400, "phone"),
    ],
)
def test_a_bad_post_is_refused_in_the_specifications_errors(
    http: TestClient, fmt: str, changes: dict[str, Any], status: int, names: str
) -> None:
    reply = raise_one(http, fmt, **changes)
    errors = assert_errors(reply, status, fmt)
    assert any(e["description"].startswith(f"{names}:") for e in errors), errors
    no_personal_data(reply.text)


def test_the_writes_are_rate_limited_in_the_specifications_errors(
    fake: FakeRegistry,
    registry_server: RegistryServer,
    reception_target: str,
) -> None:
    settings = _settings(registry_server, reception_target, write_rate_per_minute=1)
    with TestClient(create_app(settings)) as client:
        assert_errors(client.post(f"{V2}/requests.json", data={"api_key": "x"}), 403)
        reply = client.post(f"{V2}/requests.xml", data={"api_key": KEY})
        assert_errors(reply, 429, "xml")
        assert int(reply.headers["retry-after"]) >= 1


# ---------------------------------------------------------------- reading requests


@pytest.mark.usefixtures("district")
def test_one_request_in_json_and_xml(http: TestClient) -> None:
    code = raised_code(http)
    (one,) = http.get(f"{V2}/requests/{code}.json").json()
    assert list(one) == REQUEST_FIELDS
    assert one["service_request_id"] == code and one["status"] == "open"
    assert one["service_code"] == "property" and one["service_name"] == "物业管理与住房"
    assert "已登记" in one["status_notes"]
    assert one["address"] == "林和街道社区501"
    assert one["agency_responsible"] == "林和街道工委"
    assert one["description"] is None and one["lat"] is None
    requested = datetime.fromisoformat(one["requested_datetime"])
    assert requested.utcoffset() == timedelta(hours=8)
    assert abs(datetime.now(UTC) - requested) < timedelta(minutes=5)
    assert datetime.fromisoformat(one["updated_datetime"]) >= requested
    assert one["expected_datetime"] is None  # not handed on: no letter, no deadline
    no_personal_data(str(one))
    (request,) = xml_of(http.get(f"{V2}/requests/{code}.xml"), "service_requests")
    assert request.tag == "request" and [c.tag for c in request] == REQUEST_FIELDS
    assert {c.tag: c.text for c in request} == {
        k: (None if v is None else str(v)) for k, v in one.items()
    }


@pytest.mark.usefixtures("district")
def test_an_opinion_declined_is_closed_with_the_reason_as_its_notes(
    http: TestClient, reception_db: Database
) -> None:
    code = raised_code(http)
    with reception_db.read() as session:
        opinion_id = session.scalars(
            select(models.Opinion.id).where(models.Opinion.tracking_code == code)
        ).one()
    token = http.post(
        "/api/v1/dev/tokens",
        json={"account": "station-staff"},
    ).json()["access_token"]
    declined = http.post(
        f"/api/v1/opinions/{opinion_id}:decline",
        json={"reason": "属司法程序，请依法起诉"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert declined.status_code == 200, declined.text
    (one,) = http.get(f"{V2}/requests/{code}.json").json()
    assert one["status"] == "closed" and "属司法程序" in one["status_notes"]
    closed = http.get(f"{V2}/requests.json", params={"status": "closed"}).json()
    assert code in {r["service_request_id"] for r in closed}
    still_open = http.get(f"{V2}/requests.json", params={"status": "open"}).json()
    assert code not in {r["service_request_id"] for r in still_open}


@pytest.mark.usefixtures("district")
def test_the_list_and_its_filters(http: TestClient) -> None:
    first, second = raised_code(http), raised_code(http)
    transport = raise_one(http, service_code="transport").json()[0]["service_request_id"]
    listed = http.get(f"{V2}/requests.json").json()
    codes = [r["service_request_id"] for r in listed]
    assert {first, second, transport} <= set(codes)
    assert codes.index(transport) < codes.index(second) < codes.index(first)  # newest first
    assert all(list(r) == REQUEST_FIELDS for r in listed)
    by_id = http.get(
        f"{V2}/requests.json",
        # service_request_id overrides every other filter.
        params={"service_request_id": f"{first},{transport}", "service_code": "education"},
    ).json()
    assert {r["service_request_id"] for r in by_id} == {first, transport}
    by_code = http.get(f"{V2}/requests.json", params={"service_code": "transport,education"})
    assert {r["service_code"] for r in by_code.json()} == {"transport"}
    now = datetime.now(UTC)
    window = {
        "start_date": (now - timedelta(minutes=10)).isoformat(),
        "end_date": (now + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    recent = http.get(f"{V2}/requests.json", params=window).json()
    assert {first, second, transport} <= {r["service_request_id"] for r in recent}
    past = {"start_date": "2020-01-01", "end_date": "2020-03-01T00:00:00+08:00"}
    assert http.get(f"{V2}/requests.json", params=past).json() == []
    root = xml_of(
        http.get(f"{V2}/requests.xml", params={"service_code": "transport"}), "service_requests"
    )
    assert transport in {r.findtext("service_request_id") for r in root}
    assert all(r.tag == "request" and [c.tag for c in r] == REQUEST_FIELDS for r in root)
    empty = xml_of(http.get(f"{V2}/requests.xml", params=past), "service_requests")
    assert list(empty) == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-13-45"}, "end_date"),
        ({"start_date": "0001-01-01"}, "start_date"),
        ({"end_date": "9999-12-31T23:59:59-05:00"}, "end_date"),
        ({"start_date": "2026-01-01", "end_date": "2026-06-01"}, "end_date"),
        ({"start_date": "2026-06-01", "end_date": "2026-01-01"}, "end_date"),
        ({"status": "pending"}, "status"),
        ({"service_code": "potholes"}, "service_code"),
        ({"service_request_id": "12345"}, "service_request_id"),
        ({"service_request_id": ",".join(["TH-2026-000001"] * 1001)}, "service_request_id"),
    ],
)
def test_a_bad_query_is_refused_in_the_specifications_errors(
    http: TestClient, fmt: str, params: dict[str, str], names: str
) -> None:
    errors = assert_errors(http.get(f"{V2}/requests.{fmt}", params=params), 400, fmt)
    assert any(e["description"].startswith(f"{names}:") for e in errors), errors


def test_an_unknown_or_malformed_request_id(http: TestClient) -> None:
    for fmt in ("json", "xml"):
        (error,) = assert_errors(http.get(f"{V2}/requests/TH-1999-000001.{fmt}"), 404, fmt)
        assert error["description"].startswith("service_request_id:")
        assert_errors(http.get(f"{V2}/requests/not-a-code.{fmt}"), 400, fmt)
        assert_errors(http.get(f"{V2}/tokens/TH-1999-000001.{fmt}"), 404, fmt)


@pytest.mark.usefixtures("district")
def test_a_token_is_the_service_request_id(http: TestClient) -> None:
    code = raised_code(http)
    assert http.get(f"{V2}/tokens/{code}.json").json() == [
        {"service_request_id": code, "token": code}
    ]
    (request,) = xml_of(http.get(f"{V2}/tokens/{code}.xml"), "service_requests")
    assert request.tag == "request"
    assert {c.tag: c.text for c in request} == {"service_request_id": code, "token": code}


def test_the_routes_are_in_the_openapi_under_open311(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()
    paths = {p: ops for p, ops in schema["paths"].items() if p.startswith(V2)}
    assert set(paths) == {
        f"{V2}/discovery.{{format}}",
        f"{V2}/services.{{format}}",
        f"{V2}/services/{{service_code}}.{{format}}",
        f"{V2}/requests.{{format}}",
        f"{V2}/requests/{{service_request_id}}.{{format}}",
        f"{V2}/tokens/{{token}}.{{format}}",
    }
    for operations in paths.values():
        for operation in operations.values():
            assert operation["tags"] == ["open311"]
            error = operation["responses"]["400"]["content"]
            assert set(error) == {"application/json", "text/xml"}  # not problem+json
    post = paths[f"{V2}/requests.{{format}}"]["post"]
    assert "application/x-www-form-urlencoded" in post["requestBody"]["content"]


def test_the_demo_key_is_the_local_runs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.config import OPEN311_DEMO_KEY, ConfigurationError

    monkeypatch.delenv("LIAISON_OPEN311_API_KEYS", raising=False)
    monkeypatch.setenv("LIAISON_ENV", "development")
    assert GatewaySettings.load().open311_api_keys == (OPEN311_DEMO_KEY,)
    monkeypatch.setenv("LIAISON_OPEN311_API_KEYS", "a, b")
    assert GatewaySettings.load().open311_api_keys == ("a", "b")
    with pytest.raises(ConfigurationError, match="demo key"):
        dataclasses.replace(
            GatewaySettings(), env="production", open311_api_keys=(OPEN311_DEMO_KEY,)
        ).validate()
