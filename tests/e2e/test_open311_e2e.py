"""Open311 GeoReport v2 against the running platform (every service, the
gateway, the demo district and its year of opinions), read by an Open311
client library nobody here wrote (`georeport` from PyPI) in JSON and in XML,
and fuzzed by schemathesis on its operations alone.

`georeport` reads only (it does not create requests): an opinion is raised
with a form-encoded POST as the specification describes, then the library
finds it by its service_request_id, in the list, by its filters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import xmltodict
from georeport import GeoReport

from gateway import fuzzing
from gateway.config import OPEN311_DEMO_KEY
from kit.testrun import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

ROOT = Path(__file__).resolve().parents[2]
NAME, PHONE, EMAIL = ("周", "建华"), "13700137000", "zhou.jianhua@example.org"


@pytest.fixture(scope="module")
def platform(unlimited_platform: Platform) -> Platform:
    # The fuzzer below is one client making many calls.
    return unlimited_platform


@pytest.fixture(scope="module")
def v2(platform: Platform) -> str:
    return f"{platform.base_url}/open311/v2"


def _raise(v2: str, fmt: str, **fields: str) -> tuple[int, bytes]:
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(f"{v2}/requests.{fmt}", data=body, method="POST")
    request.add_header("content-type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def address(platform: Platform) -> str:
    """A demo address naming exactly one community: the name of the
    community the README's example address finds."""
    query = urllib.parse.urlencode({"address": "林和路"})
    with urllib.request.urlopen(f"{platform.base_url}/api/v1/find-station?{query}") as reply:
        community: str = json.loads(reply.read())["community"]["name"]
    return community


@pytest.fixture(scope="module")
def raised(v2: str, address: str) -> str:
    status, body = _raise(
        v2,
        "json",
        api_key=OPEN311_DEMO_KEY,
        service_code="property",
        address_string=address,
        description="楼道灯坏了三个月没人修",
        last_name=NAME[0],
        first_name=NAME[1],
        phone=PHONE,
        email=EMAIL,
    )
    assert status == 201, body
    for value in (*NAME, PHONE, EMAIL, "楼道灯"):
        assert value not in body.decode()
    code: str = json.loads(body)[0]["service_request_id"]
    return code


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_library_reads_services_and_the_request_raised(
    v2: str, raised: str, address: str, fmt: str
) -> None:
    client = GeoReport(v2, output_format=fmt)
    services = client.get_service_list()
    assert len(services) == 14
    codes = {s["service_code"] for s in services}
    assert "property" in codes and "transport" in codes
    assert all(str(s["metadata"]).lower() == "false" and s["type"] == "realtime" for s in services)
    definition = client.get_service_definition("property")
    assert definition["service_code"] == "property"
    one = client.get_service_request(raised)
    assert one["service_request_id"] == raised
    assert one["status"] == "open" and one["service_code"] == "property"
    assert one["service_name"] == "物业管理与住房"
    assert one["status_notes"] and one["agency_responsible"]
    assert one["address"].endswith(address)
    assert not one.get("description")
    requested = datetime.fromisoformat(one["requested_datetime"])
    assert abs(datetime.now(UTC) - requested) < timedelta(minutes=15)
    text = json.dumps(one, ensure_ascii=False)
    for value in (*NAME, PHONE, EMAIL, "楼道灯"):
        assert value not in text
    by_id = client.get_service_requests(service_request_id=raised)
    by_id = by_id if isinstance(by_id, list) else [by_id]  # xmltodict: one request, no list
    assert [r["service_request_id"] for r in by_id] == [raised]
    filtered = client.get_service_requests(service_code="property", status="open")
    filtered = filtered if isinstance(filtered, list) else [filtered]
    assert raised in {r["service_request_id"] for r in filtered}
    assert all(r["service_code"] == "property" and r["status"] == "open" for r in filtered)


def _token(platform: Platform, account: str, **claims: int) -> dict[str, str]:
    reply = requests.post(
        f"{platform.base_url}/api/v1/dev/tokens", json={"account": account, **claims}
    )
    assert reply.status_code == 200, reply.text
    return {"authorization": f"Bearer {reply.json()['access_token']}"}


def test_a_request_handed_on_follows_its_letter_to_the_deadline_and_the_answer(
    platform: Platform, v2: str, address: str
) -> None:
    status, body = _raise(v2, "json", api_key=OPEN311_DEMO_KEY, service_code="property",
                          address_string=address, description="电梯经常停运",
                          last_name=NAME[0], first_name=NAME[1], phone=PHONE)  # fmt: skip
    assert status == 201, body
    code = json.loads(body)[0]["service_request_id"]
    base = f"{platform.base_url}/api/v1"
    admin = _token(platform, "admin")
    params: dict[str, Any] = {"page_size": 200, "source": "online", "category": "property"}
    found: list[dict[str, Any]] = []
    while not found:
        listed = requests.get(f"{base}/opinions", params=params, headers=admin)
        assert listed.status_code == 200, listed.text
        found = [o for o in listed.json()["items"] if o["tracking_code"] == code]
        params["page_token"] = listed.json()["next_page_token"]
        assert found or params["page_token"], f"{code} is in no street's queue"
    (opinion,) = found
    # The street committee of the street the address lies in.
    committee = _token(platform, "street-committee", street_id=opinion["street_id"])
    handed = requests.post(f"{base}/opinions/{opinion['id']}:hand-on", json={}, headers=committee)
    assert handed.status_code == 200, handed.text
    letter = None
    for _ in range(120):
        page = requests.get(f"{base}/letters", params={"page_size": 500}, headers=committee)
        letter = next((x for x in page.json()["items"] if x["tracking_code"] == code), None)
        if letter:
            break
        time.sleep(0.25)
    assert letter, "no letter opened"

    def step(action: str, account: str, **fields: Any) -> None:
        headers = committee if account == "street-committee" else _token(platform, account)
        reply = requests.post(f"{base}/letters/{letter['id']}:{action}", json=fields,
                              headers=headers)  # fmt: skip
        assert reply.status_code == 200, reply.text

    step("decide-jurisdiction", "street-committee", route="district")
    step("review", "working-body", accept=True)
    step("dispatch", "standing-committee-office")
    step("assign", "government-office", lead_department_id=52)
    step("acknowledge", "department")
    one = GeoReport(v2, output_format="json").get_service_request(code)
    assert one["status"] == "open"
    assert one["agency_responsible"] == "天河区住房和城乡建设局"
    expected = datetime.fromisoformat(one["expected_datetime"])
    assert expected.utcoffset() == timedelta(hours=8)
    assert timedelta(days=85) < expected - datetime.now(UTC) < timedelta(days=100)
    step("answer", "department", text="已安排维保单位检修")
    answered = GeoReport(v2, output_format="xml").get_service_request(code)
    assert answered["status"] == "closed" and not answered.get("expected_datetime")


def test_the_demo_years_opinions_are_listed_within_the_specifications_bounds(v2: str) -> None:
    """Without dates, the last 90 days; a range of at most 90 days; at most 1000."""
    client = GeoReport(v2)
    recent = client.get_service_requests()
    assert 0 < len(recent) <= 1000
    since = datetime.now(UTC) - timedelta(days=91)
    assert all(datetime.fromisoformat(r["requested_datetime"]) >= since for r in recent)
    assert {r["status"] for r in recent} <= {"open", "closed"}
    end = datetime.now(UTC) - timedelta(days=120)
    start = end - timedelta(days=60)
    older = client.get_service_requests(
        start_date=start.strftime("%Y-%m-%dT%H:%M:%SZ"), end_date=end.strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    assert all(start <= datetime.fromisoformat(r["requested_datetime"]) <= end for r in older)


def test_discovery_and_tokens_in_xml(v2: str, raised: str) -> None:
    discovery = xmltodict.parse(requests.get(f"{v2}/discovery.xml", timeout=30).content)
    endpoint = discovery["discovery"]["endpoints"]["endpoint"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == v2 and endpoint["type"] == "test"
    assert endpoint["formats"]["format"] == ["application/json", "text/xml"]
    token = xmltodict.parse(requests.get(f"{v2}/tokens/{raised}.xml", timeout=30).content)
    assert token["service_requests"]["request"] == {"service_request_id": raised, "token": raised}


@pytest.mark.parametrize(
    ("call", "status"),
    [
        (lambda c: c.get_service_requests(start_date="last week"), 400),
        (lambda c: c.get_service_requests(status="pending"), 400),
        (lambda c: c.get_service_requests(service_code="potholes"), 400),
        (lambda c: c.get_service_request("TH-1999-000001"), 404),
        (lambda c: c.get_service_definition("potholes"), 404),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_input_is_a_4xx_in_the_specifications_errors(
    v2: str, call: Any, status: int, fmt: str
) -> None:
    with pytest.raises(requests.HTTPError) as refused:
        call(GeoReport(v2, output_format=fmt))
    response = refused.value.response
    assert response.status_code == status
    if fmt == "xml":
        errors = xmltodict.parse(response.content, force_list=("error",))["errors"]["error"]
    else:
        errors = response.json()
    assert errors and all(int(e["code"]) == status and e["description"] for e in errors)


def test_a_post_without_a_key_or_a_place_is_refused(v2: str, address: str) -> None:
    status, body = _raise(v2, "json", service_code="property", address_string=address)
    assert status == 403 and json.loads(body)[0]["code"] == 403
    status, body = _raise(
        v2, "xml", api_key=OPEN311_DEMO_KEY, service_code="property", lat="23.13", long="113.32"
    )
    assert status == 400
    error = xmltodict.parse(body)["errors"]["error"]
    assert error["code"] == "400" and error["description"].startswith("address_string:")


def test_schemathesis_finds_nothing_in_the_open311_operations(platform: Platform) -> None:
    """The Open311 operations alone, fuzzed as the whole API's run does
    (tests/e2e/test_schemathesis_e2e.py), against the running platform."""
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", str(fuzzing.CONFIG_FILE),
        "--no-color", "run", f"{platform.base_url}/openapi.json",
        "--include-tag", "open311",
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--phases", "examples,coverage,fuzzing", "--seed", "20261127",
        "--max-examples", "20", "--workers", "1",
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "gateway.fuzzing"}
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20000:]
    assert "open311" in output or "/open311/v2" in output
