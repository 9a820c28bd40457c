"""End to end: the registry's migrate, api and worker and the gateway run as
processes on PostgreSQL and RabbitMQ (the `platform` fixture of kit's pytest
plugin), driven over HTTP as clients drive them."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import kombu
import pytest

from kit.testrun import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]


@pytest.fixture(scope="module")
def http(platform: Platform) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as client:
        yield client


def token(http: httpx.Client, account: str) -> dict[str, str]:
    response = http.post("/api/v1/dev/tokens", json={"account": account})
    assert response.status_code == 200, response.text
    return {"authorization": f"Bearer {response.json()['access_token']}"}


class EventTap:
    """A queue bound to registry.events, read by the test."""

    def __init__(self, uri: str, routing_key: str) -> None:
        self.conn = kombu.Connection(uri)
        exchange = kombu.Exchange("registry.events", type="topic", durable=True)
        self.queue = kombu.Queue(
            f"e2e-{uuid.uuid4().hex[:8]}",
            exchange=exchange,
            routing_key=routing_key,
            auto_delete=True,
        )
        self.bound = self.queue(self.conn.channel())
        self.bound.declare()

    def wait_for(self, match: Any, seconds: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            message = self.bound.get(no_ack=True)
            if message is None:
                time.sleep(0.1)
                continue
            body = json.loads(message.body)
            if match(body):
                return body
        raise AssertionError("the event did not arrive")

    def close(self) -> None:
        self.bound.delete()
        self.conn.release()


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    return body


def test_public_can_find_their_station_and_deputies_without_a_token(http: httpx.Client) -> None:
    response = http.get("/api/v1/find-station", params={"address": "广州市天河区林和路8号"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["station"]["code"] == "linhe-1"
    assert body["station"]["name"] == "林和街第一联络站"
    assert body["deputies"], "the first station has deputies"
    levels = [d["deputy"]["level"] for d in body["deputies"]]
    order = ["national", "provincial", "city", "district"]
    assert levels == sorted(levels, key=order.index)
    assert sum(d["is_station_head"] for d in body["deputies"]) == 1
    text = response.text
    assert "phone" not in text and "email" not in text, "private contact leaked"
    assert response.headers["x-request-id"]


def test_demo_district_has_the_real_figures(http: httpx.Client) -> None:
    def total(path: str, **params: Any) -> int:
        response = http.get(path, params={"page_size": 1, **params})
        assert response.status_code == 200, response.text
        return int(response.json()["total_size"])

    assert total("/api/v1/streets") == 21
    assert total("/api/v1/stations") == 40
    assert total("/api/v1/deputies") == 350
    assert [
        total("/api/v1/deputies", level=lv) for lv in ("national", "provincial", "city", "district")
    ] == [3, 13, 55, 279]


def test_a_write_reaches_other_services_as_an_event_with_its_request_id(
    platform: Platform, http: httpx.Client
) -> None:
    tap = EventTap(platform.amqp_uri, "street_changed")
    try:
        request_id = f"e2e-{uuid.uuid4()}"
        code = f"street-{uuid.uuid4().hex[:6]}"
        response = http.post(
            "/api/v1/streets",
            json={"code": code, "name": "测试街道"},
            headers={**token(http, "admin"), "x-request-id": request_id},
        )
        assert response.status_code == 201, response.text
        assert response.headers["x-request-id"] == request_id
        created = response.json()
        assert response.headers["location"].endswith(f"/streets/{created['id']}")
        event = tap.wait_for(lambda b: b["payload"]["street"]["code"] == code)
        assert event["type"] == "street_changed"
        assert event["source"] == "registry"
        assert event["payload"]["change"] == "created"
        assert event["correlation_id"] == request_id
    finally:
        tap.close()


def test_writes_need_the_right_role_and_a_refused_write_changes_nothing(
    http: httpx.Client,
) -> None:
    code = f"street-{uuid.uuid4().hex[:6]}"
    body = {"code": code, "name": "不该存在的街道"}
    problem(http.post("/api/v1/streets", json=body), 401)
    problem(http.post("/api/v1/streets", json=body, headers=token(http, "constituent")), 403)
    listed = http.get("/api/v1/streets", params={"query": code}).json()
    assert listed["total_size"] == 0


def test_a_street_committee_acts_only_within_its_street(http: httpx.Client) -> None:
    staff = token(http, "street-committee")  # a demo account of street 1
    own = http.post(
        "/api/v1/communities",
        json={"code": f"own-{uuid.uuid4().hex[:6]}", "name": "本街新社区", "street_id": 1},
        headers=staff,
    )
    assert own.status_code == 201, own.text
    other_code = f"other-{uuid.uuid4().hex[:6]}"
    problem(
        http.post(
            "/api/v1/communities",
            json={"code": other_code, "name": "外街新社区", "street_id": 2},
            headers=staff,
        ),
        403,
    )
    assert http.get("/api/v1/communities", params={"query": other_code}).json()["total_size"] == 0


def test_bad_input_gets_a_clear_error_never_a_500(http: httpx.Client) -> None:
    admin = token(http, "admin")
    missing = problem(http.post("/api/v1/deputies", json={"name": "无编号"}, headers=admin), 422)
    fields = {e["field"] for e in missing["errors"]}
    assert any("code" in f for f in fields), missing
    unknown = problem(http.get("/api/v1/streets/999999"), 404)
    assert "999999" in unknown["detail"]
    duplicate = problem(
        http.post("/api/v1/streets", json={"code": "linhe", "name": "林和街道"}, headers=admin),
        409,
    )
    assert "linhe" in duplicate["detail"]
    bad_ref = problem(
        http.post(
            "/api/v1/areas",
            json={"code": f"area-{uuid.uuid4().hex[:6]}", "name": "片区", "street_id": 999999},
            headers=admin,
        ),
        422,
    )
    assert any(e["field"].endswith("street_id") for e in bad_ref["errors"]), bad_ref


def test_a_roster_with_a_bad_row_is_refused_whole(http: httpx.Client) -> None:
    admin = token(http, "admin")
    exported = http.get("/api/v1/rosters/communities", params={"format": "csv"}, headers=admin)
    assert exported.status_code == 200, exported.text
    before = http.get("/api/v1/communities", params={"page_size": 1}).json()["total_size"]
    header = exported.content.decode("utf-8-sig").splitlines()[0]
    good = f"new-{uuid.uuid4().hex[:6]},新社区甲,linhe,,新路甲"
    bad = f"new-{uuid.uuid4().hex[:6]},新社区乙,no-such-street,,新路乙"
    content = "\n".join([header, good, bad]).encode("utf-8")
    response = http.post(
        "/api/v1/rosters/communities:import",
        files={"file": ("communities.csv", io.BytesIO(content), "text/csv")},
        headers=admin,
    )
    body = problem(response, 422)
    rows = body["errors"]
    assert any(e.get("row") == 3 for e in rows), rows
    after = http.get("/api/v1/communities", params={"page_size": 1}).json()["total_size"]
    assert after == before, "nothing of a refused file is stored"


def test_events_written_while_the_worker_is_down_go_out_when_it_returns(
    platform: Platform, http: httpx.Client
) -> None:
    tap = EventTap(platform.amqp_uri, "street_changed")
    try:
        assert platform.stop("registry-worker") == 0, "the worker stops cleanly on SIGTERM"
        admin = token(http, "admin")
        codes = [f"late-{uuid.uuid4().hex[:6]}" for _ in range(5)]
        for code in codes:
            response = http.post(
                "/api/v1/streets", json={"code": code, "name": "停机时新建"}, headers=admin
            )
            assert response.status_code == 201, response.text
        assert tap.bound.get(no_ack=True) is None, "nothing is published without the relay"
        platform.start_process("registry", "worker")
        seen = set()
        for _ in codes:
            event = tap.wait_for(lambda b: b["payload"]["street"]["code"] in codes)
            seen.add(event["payload"]["street"]["code"])
        assert seen == set(codes)
    finally:
        tap.close()
