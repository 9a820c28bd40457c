"""The authorisation matrix of conversations (互动交流) through the gateway,
on the running platform: every caller against every operation, and a
refused write changes no service's audit. Besides: a constituent's message
is held from the deputies until the station's staff approve it, and they
then see the constituent's name masked; a thread turned into an opinion is
recorded once in reception (a second call answers the same tracking code,
which reception then tracks). The rules are tested on the notifications
service's gRPC API (services/notifications/tests); here they hold for what
clients call, against the real registry and reception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e import test_authorization_e2e as matrix
from tests.e2e.test_authorization_e2e import CALLERS, World, allowed

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]
platform = matrix.platform
world = matrix.world

Operation = Callable[[World], Callable[[dict[str, str]], httpx.Response]]
SIGNED_IN = tuple(c for c in CALLERS if c != "anonymous")
STREET_1_STAFF = ("station-staff", "street-committee")
WORKING = (*STREET_1_STAFF, "deputy", "street-committee-2", "standing-committee-office")
_station: dict[str, Any] = {}


def hidden(*callers: str, ok: int = 200, gateway_refuses: tuple[str, ...] = ()) -> dict[str, int]:
    """`ok` for `callers`; 404 for the signed-in the thread is hidden from
    (the gateway's 403 for the roles it refuses early); 401 without a token."""
    codes = {c: ok if c in callers else 404 for c in CALLERS}
    codes.update({c: 403 for c in gateway_refuses if c not in callers})
    codes["anonymous"] = 401
    return codes


def station(w: World) -> dict[str, Any]:
    """A station of street 1 (whose staff the demo accounts are) with serving
    deputies, and its first deputy's id (`deputy_id`)."""
    if not _station:
        stations = w.http.get("/api/v1/stations", params={"street_id": 1, "page_size": 100})
        for found in stations.json()["items"]:
            deputies = w.http.get(
                "/api/v1/deputies", params={"station_id": found["id"], "page_size": 5}
            ).json()["items"]
            if deputies and found["community_ids"]:
                _station.update(found, deputy_id=deputies[0]["id"])
                break
        assert _station, "street 1 has a station with deputies and communities"
    return _station


def _started(w: World, phone: str = "13800001111") -> dict[str, Any]:
    reply = w.http.post(
        "/api/v1/conversations",
        json={
            "subject": "小区门口路灯坏了",
            "text": "路灯坏了一个月，晚上很黑。",
            "station_id": station(w)["id"],
            "phone": phone,
        },
        headers=w.headers["constituent"],
    )
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def _approved(w: World) -> dict[str, Any]:
    thread = _started(w)
    reply = w.http.post(
        f"/api/v1/conversation-messages/{thread['messages'][0]['id']}:moderate",
        json={"decision": "approve"},
        headers=w.headers["station-staff"],
    )
    assert reply.status_code == 200, reply.text
    return thread


def start_constituent(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {"subject": "噪音", "text": "夜间施工噪音", "station_id": station(w)["id"]}
    return lambda h: w.http.post("/api/v1/conversations", json=body, headers=h)


def start_working(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {
        "kind": "working",
        "subject": "走访安排",
        "text": "下周走访安排请各位确认。",
        "participants": ["deputy:1", "role:street_committee@street:1"],
    }
    return lambda h: w.http.post("/api/v1/conversations", json=body, headers=h)


def read_held(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    thread = _started(w)
    return lambda h: w.http.get(f"/api/v1/conversations/{thread['id']}", headers=h)


def post_in(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    thread = _started(w)
    return lambda h: w.http.post(
        f"/api/v1/conversations/{thread['id']}/messages", json={"text": "补充一点"}, headers=h
    )


def moderate(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    message_id = _started(w)["messages"][0]["id"]
    return lambda h: w.http.post(
        f"/api/v1/conversation-messages/{message_id}:moderate",
        json={"decision": "reject", "reason": "含他人个人信息"},
        headers=h,
    )


def to_opinion(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    thread = _approved(w)
    body = {"category": "public_safety", "community_id": station(w)["community_ids"][0]}
    return lambda h: w.http.post(
        f"/api/v1/conversations/{thread['id']}:to-opinion", json=body, headers=h
    )


def get(path: str) -> Operation:
    return lambda w: lambda h: w.http.get(path, headers=h)


GATEWAY_MODERATORS = tuple(c for c in SIGNED_IN if c not in (*STREET_1_STAFF, "street-committee-2"))
MATRIX: list[tuple[str, Operation, dict[str, int]]] = [
    ("GET my conversations", get("/api/v1/conversations"), allowed(*SIGNED_IN)),
    (
        "start a constituent's thread",
        start_constituent,
        allowed("constituent", ok=201),
    ),
    ("start a working thread", start_working, allowed(*WORKING, ok=201)),
    (
        "GET a constituent's thread awaiting moderation",
        read_held,
        hidden("constituent", *STREET_1_STAFF),
    ),
    (
        "write in a constituent's thread awaiting moderation",
        post_in,
        hidden("constituent", *STREET_1_STAFF, ok=201),
    ),
    (
        "GET the moderation queue",
        get("/api/v1/conversation-messages/held"),
        allowed(*STREET_1_STAFF, "street-committee-2"),
    ),
    (
        "moderate a constituent's message of street 1",
        moderate,
        hidden(*STREET_1_STAFF, gateway_refuses=GATEWAY_MODERATORS),
    ),
    (
        "turn a thread of street 1 into an opinion",
        to_opinion,
        hidden(*STREET_1_STAFF, gateway_refuses=GATEWAY_MODERATORS),
    ),
]
CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name} as {caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_conversations_authorisation_through_the_gateway(
    world: World, operation: Operation, caller: str, expected: int
) -> None:
    matrix.test_authorisation_matrix_through_the_gateway(world, operation, caller, expected)


def test_deputies_see_an_approved_message_with_the_name_masked(world: World) -> None:
    thread = _started(world)
    minted = world.http.post(
        "/api/v1/dev/tokens", json={"account": "deputy", "deputy_id": station(world)["deputy_id"]}
    )
    assert minted.status_code == 200, minted.text
    deputy = {"authorization": f"Bearer {minted.json()['access_token']}"}
    hidden_reply = world.http.get(f"/api/v1/conversations/{thread['id']}", headers=deputy)
    assert hidden_reply.status_code == 404, hidden_reply.text
    reply = world.http.post(
        f"/api/v1/conversation-messages/{thread['messages'][0]['id']}:moderate",
        json={"decision": "approve"},
        headers=world.headers["street-committee"],
    )
    assert reply.status_code == 200, reply.text
    seen = world.http.get(f"/api/v1/conversations/{thread['id']}", headers=deputy)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["constituent_label"] == "选民 演***"  # the demo account's 演示选民
    assert "演示选民" not in seen.text and "13800001111" not in seen.text
    assert [m["state"] for m in body["messages"]] == ["published"]
    staff = world.http.get(
        f"/api/v1/conversations/{thread['id']}", headers=world.headers["station-staff"]
    ).json()
    assert staff["constituent_label"] == "选民 演示选民" and staff["phone_given"] is True
    assert "13800001111" not in str(staff)


def test_a_thread_becomes_one_opinion_that_reception_tracks(world: World) -> None:
    thread = _approved(world)
    body = {"category": "environment", "community_id": station(world)["community_ids"][0]}
    url = f"/api/v1/conversations/{thread['id']}:to-opinion"
    first = world.http.post(url, json=body, headers=world.headers["station-staff"])
    assert first.status_code == 200, first.text
    code = first.json()["opinion_tracking_code"]
    assert code.startswith("TH-")
    before = world.traces()
    again = world.http.post(url, json=body, headers=world.headers["street-committee"])
    assert again.status_code == 200, again.text
    assert again.json()["opinion_tracking_code"] == code
    assert world.traces() == before, "the second call records nothing"
    tracked = world.http.get(f"/api/v1/opinions/track/{code}")
    assert tracked.status_code == 200, tracked.text
    assert tracked.json()["category"] == "environment"
