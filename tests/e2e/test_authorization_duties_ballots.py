"""The authorisation matrix of report meetings and secret ballots through
the gateway, on the running platform. The duties service asks the real
registry whose street a deputy is: the demo deputy's account is deputy 1,
whose street is not street 1, so each operation works on a record of a
deputy of street 1 (for the street's staff and everyone else) and on one of
deputy 1 (for the "deputy" caller, their own). Every role against every
operation; the vote is anyone's with a code; a refused write changes no
service's audit. The helpers and the platform are those of
test_authorization_e2e.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.e2e.test_authorization_e2e import (  # noqa: F401  (fixtures)
    CALLERS,
    DISTRICT,
    World,
    allowed,
    platform,
    world,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

Operation = Callable[[World], Callable[[dict[str, str]], httpx.Response]]
OF_STREET_1 = ("station-staff", "street-committee")
ORGANISERS = ("street-committee", *DISTRICT)
POLL_STAFF = (*OF_STREET_1, *DISTRICT)
READERS = (*DISTRICT, "working-body", *OF_STREET_1, "deputy")
MIN_TURNOUT = 10  # the service's default


def _today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _ok(reply: httpx.Response) -> Any:
    assert reply.status_code < 300, reply.text
    return reply.json()


_STREET_1_DEPUTY: list[int] = []


def _street_1_deputy(w: World) -> int:
    if not _STREET_1_DEPUTY:
        page = _ok(w.http.get("/api/v1/deputies", params={"street_id": 1}))
        _STREET_1_DEPUTY.append(next(d["id"] for d in page["items"] if d["id"] != 1))
    return _STREET_1_DEPUTY[0]


def _each(
    w: World, make: Callable[[int], Callable[[dict[str, str]], httpx.Response]]
) -> Callable[[dict[str, str]], httpx.Response]:
    """The call on deputy 1's record for the deputy's own token, else on a
    record of a deputy of street 1."""
    own, street = make(1), make(_street_1_deputy(w))
    return lambda h: own(h) if h is w.headers["deputy"] else street(h)


def _meeting(w: World, deputy_id: int) -> dict[str, Any]:
    body = {"deputy_id": deputy_id, "held_on": _today(), "venue": "五山街代表联络站"}
    return _ok(w.http.post("/api/v1/report-meetings", json=body, headers=w.admin()))  # type: ignore[no-any-return]


def _ballot(w: World, deputy_id: int) -> dict[str, Any]:
    meeting = _meeting(w, deputy_id)
    return _ok(w.http.post(f"/api/v1/report-meetings/{meeting['id']}/ballot", headers=w.admin()))  # type: ignore[no-any-return]


def _codes(w: World, ballot_id: int, count: int) -> list[str]:
    reply = w.http.post(
        f"/api/v1/ballots/{ballot_id}/codes", json={"count": count}, headers=w.admin()
    )
    return list(_ok(reply)["codes"])


def _closed(w: World, deputy_id: int, *, published: bool = False) -> int:
    """A ballot closed with the minimum turnout (and published)."""
    ballot_id = int(_ballot(w, deputy_id)["id"])
    for n, code in enumerate(_codes(w, ballot_id, MIN_TURNOUT)):
        vote = {"code": code, "choice": "satisfied", "comment": "多来社区" if n == 0 else ""}
        _ok(w.http.post(f"/api/v1/ballots/{ballot_id}/votes", json=vote))
    _ok(w.http.post(f"/api/v1/ballots/{ballot_id}:close", headers=w.admin()))
    if published:
        _ok(w.http.post(f"/api/v1/ballots/{ballot_id}:publish", headers=w.admin()))
    return ballot_id


def schedule(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    def make(deputy_id: int) -> Callable[[dict[str, str]], httpx.Response]:
        body = {"deputy_id": deputy_id, "held_on": _today(), "venue": "五山街代表联络站"}
        return lambda h: w.http.post("/api/v1/report-meetings", json=body, headers=h)

    return make(_street_1_deputy(w))


def list_meetings(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.get("/api/v1/report-meetings", headers=h)


def get_meeting(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    def make(deputy_id: int) -> Callable[[dict[str, str]], httpx.Response]:
        meeting_id = _meeting(w, deputy_id)["id"]
        return lambda h: w.http.get(f"/api/v1/report-meetings/{meeting_id}", headers=h)

    return _each(w, make)


def record_answers(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    meeting_id = _meeting(w, _street_1_deputy(w))["id"]
    body = {"questions": [{"question": "电梯加装进展？", "answer": "已转交住建局"}]}
    return lambda h: w.http.post(
        f"/api/v1/report-meetings/{meeting_id}:record-answers", json=body, headers=h
    )


def open_ballot(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    meeting_id = _meeting(w, _street_1_deputy(w))["id"]
    return lambda h: w.http.post(f"/api/v1/report-meetings/{meeting_id}/ballot", headers=h)


def get_ballot(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    def make(deputy_id: int) -> Callable[[dict[str, str]], httpx.Response]:
        ballot_id = _ballot(w, deputy_id)["id"]
        return lambda h: w.http.get(f"/api/v1/ballots/{ballot_id}", headers=h)

    return _each(w, make)


def issue_codes(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    ballot_id = _ballot(w, _street_1_deputy(w))["id"]
    return lambda h: w.http.post(f"/api/v1/ballots/{ballot_id}/codes", json={"count": 2}, headers=h)


def vote(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    ballot_id = _ballot(w, _street_1_deputy(w))["id"]
    code = _codes(w, ballot_id, 1)[0]
    body = {"code": code, "choice": "basically_satisfied"}
    return lambda h: w.http.post(f"/api/v1/ballots/{ballot_id}/votes", json=body, headers=h)


def close(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    ballot_id = _ballot(w, _street_1_deputy(w))["id"]
    return lambda h: w.http.post(f"/api/v1/ballots/{ballot_id}:close", headers=h)


def publish(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    ballot_id = _ballot(w, _street_1_deputy(w))["id"]
    _ok(w.http.post(f"/api/v1/ballots/{ballot_id}:close", headers=w.admin()))
    return lambda h: w.http.post(f"/api/v1/ballots/{ballot_id}:publish", headers=h)


def closed_result(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    def make(deputy_id: int) -> Callable[[dict[str, str]], httpx.Response]:
        ballot_id = _closed(w, deputy_id)
        return lambda h: w.http.get(f"/api/v1/ballots/{ballot_id}/result", headers=h)

    return _each(w, make)


def published_result(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    ballot_id = _closed(w, _street_1_deputy(w), published=True)
    return lambda h: w.http.get(f"/api/v1/ballots/{ballot_id}/result", headers=h)


def comments(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    def make(deputy_id: int) -> Callable[[dict[str, str]], httpx.Response]:
        ballot_id = _closed(w, deputy_id)
        return lambda h: w.http.get(f"/api/v1/ballots/{ballot_id}/comments", headers=h)

    return _each(w, make)


MATRIX: list[tuple[str, Operation, dict[str, int]]] = [
    ("POST /report-meetings for a deputy of street 1", schedule, allowed(*ORGANISERS, ok=201)),
    ("GET /report-meetings", list_meetings, allowed(*READERS, "street-committee-2")),
    ("GET a report meeting", get_meeting, allowed(*READERS)),
    ("record a meeting's answers", record_answers, allowed(*ORGANISERS)),
    ("open a meeting's ballot", open_ballot, allowed(*ORGANISERS, ok=201)),
    ("GET a ballot", get_ballot, allowed(*READERS)),
    ("issue ballot codes", issue_codes, allowed(*POLL_STAFF, ok=201)),
    ("vote with a code", vote, {c: 201 for c in CALLERS}),
    ("close a ballot", close, allowed(*POLL_STAFF)),
    ("publish a closed ballot", publish, allowed(*ORGANISERS)),
    ("GET a closed ballot's result", closed_result, allowed(*READERS)),
    ("GET a published ballot's result", published_result, {c: 200 for c in CALLERS}),
    ("GET a ballot's comments", comments, allowed("deputy", "street-committee")),
]

CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name}-{caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_ballot_authorisation_through_the_gateway(
    world: World,  # noqa: F811  (the imported fixture)
    operation: Operation,
    caller: str,
    expected: int,
) -> None:
    make_call = operation(world)
    before = world.traces()
    reply = make_call(world.headers[caller])
    assert reply.status_code == expected, reply.text
    if expected >= 400:
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert world.traces() == before, "a refused write changes nothing"


def test_a_code_votes_once_and_a_closed_ballot_takes_no_votes(world: World) -> None:  # noqa: F811
    ballot_id = _ballot(world, _street_1_deputy(world))["id"]
    first, second = _codes(world, ballot_id, 2)
    path = f"/api/v1/ballots/{ballot_id}/votes"
    assert world.http.post(path, json={"code": first, "choice": "satisfied"}).status_code == 201
    again = world.http.post(path, json={"code": first.lower(), "choice": "dissatisfied"})
    assert again.status_code == 409 and "voted already" in again.json()["detail"]
    unknown = world.http.post(path, json={"code": "0000-0000-0000-0000", "choice": "satisfied"})
    assert unknown.status_code == 422 and "code" in str(unknown.json()["errors"])
    early = world.http.get(f"/api/v1/ballots/{ballot_id}/result", headers=world.admin())
    assert early.status_code == 409 and "still open" in early.json()["detail"]
    _ok(world.http.post(f"/api/v1/ballots/{ballot_id}:close", headers=world.admin()))
    late = world.http.post(path, json={"code": second, "choice": "satisfied"})
    assert late.status_code == 409 and "no more votes" in late.json()["detail"]
    few = world.http.get(f"/api/v1/ballots/{ballot_id}/result", headers=world.admin())
    assert few.status_code == 409 and "minimum turnout" in few.json()["detail"]
