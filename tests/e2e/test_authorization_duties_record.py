"""The authorisation matrix of the public duty record and constituents'
ratings through the gateway, on the running platform: every caller against
every operation, and a refused write changes no service's audit. Besides:
a reception record written through the gateway reaches the deputies' public
duty record through the duties worker (reception.events on RabbitMQ); a
second rating in a year is 409 and changes nothing; an unknown deputy is 404
naming it. The rules are tested on the duties service's gRPC API
(services/duties/tests); here they hold for what clients call."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e import test_authorization_e2e as matrix
from tests.e2e.test_authorization_e2e import CALLERS, DISTRICT, World, allowed, get

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]
# The platform and the callers' tokens, as the whole matrix has them.
platform = matrix.platform
world = matrix.world

Operation = Callable[[World], Callable[[dict[str, str]], httpx.Response]]
SIGNED_IN = tuple(c for c in CALLERS if c != "anonymous")
MODERATORS_OF_STREET_1 = (*DISTRICT, "street-committee")
_listed: dict[str, list[int]] = {}
_used: set[int] = set()


def _deputy(w: World, street_id: int | None = None) -> int:
    """A deputy the demo constituent has not rated yet (of a street, or any)."""
    key = f"street-{street_id}" if street_id else "any"
    if key not in _listed:
        params: dict[str, Any] = {"page_size": 500}
        if street_id:
            params["street_id"] = street_id
        listed = w.http.get("/api/v1/deputies", params=params)
        assert listed.status_code == 200, listed.text
        # Deputies from the end of the list: the other matrices use the first.
        _listed[key] = sorted(d["id"] for d in listed.json()["items"])
    while _listed[key]:
        deputy_id = _listed[key].pop()
        if deputy_id not in _used:
            _used.add(deputy_id)
            return deputy_id
    raise AssertionError(f"no deputy left to rate ({key})")


def _rated(w: World, deputy_id: int, comment: str = "") -> dict[str, Any]:
    reply = w.http.post(
        f"/api/v1/deputies/{deputy_id}/ratings",
        json={"level": "dissatisfied", "comment": comment},
        headers=w.headers["constituent"],
    )
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def rate(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    deputy_id = _deputy(w)
    return lambda h: w.http.post(
        f"/api/v1/deputies/{deputy_id}/ratings",
        json={"level": "satisfied", "comment": "很负责"},
        headers=h,
    )


def report(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    rating = _rated(w, _deputy(w), "评论内容")
    return lambda h: w.http.post(
        f"/api/v1/deputy-ratings/{rating['id']}/reports", json={"reason": "辱骂"}, headers=h
    )


_street_1_rating: dict[str, int] = {}


def _rating_of_street_1(w: World) -> tuple[int, int]:
    """One reported rating of a deputy of street 1, made once for the module."""
    if not _street_1_rating:
        deputy_id = _deputy(w, 1)
        rating = _rated(w, deputy_id, "待审核的评论")
        reply = w.http.post(
            f"/api/v1/deputy-ratings/{rating['id']}/reports",
            json={"reason": "辱骂"},
            headers=w.admin(),
        )
        assert reply.status_code == 201, reply.text
        _street_1_rating.update(rating=rating["id"], deputy=deputy_id)
    return _street_1_rating["rating"], _street_1_rating["deputy"]


def moderate(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    """Hide the comment when shown, restore it when hidden: every allowed call changes it."""
    rating_id, deputy_id = _rating_of_street_1(w)
    listed = w.http.get(
        "/api/v1/deputy-ratings/reported",
        params={"deputy_id": deputy_id, "include_moderated": "true"},
        headers=w.admin(),
    )
    (found,) = [c for c in listed.json()["items"] if c["rating_id"] == rating_id]
    action = "restore" if found["hidden"] else "hide"
    return lambda h: w.http.post(
        f"/api/v1/deputy-ratings/{rating_id}:moderate",
        json={"action": action, "reason": "审核"},
        headers=h,
    )


def reported_of_street_1(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    _, deputy_id = _rating_of_street_1(w)
    return lambda h: w.http.get(
        "/api/v1/deputy-ratings/reported", params={"deputy_id": deputy_id}, headers=h
    )


MATRIX: list[tuple[str, Operation, dict[str, int]]] = [
    ("GET a deputy's duty record", get("/api/v1/deputies/1/duty-record"), allowed(*CALLERS)),
    ("GET a deputy's ratings", get("/api/v1/deputies/1/ratings"), allowed(*CALLERS)),
    ("rate a deputy", rate, allowed("constituent", ok=201)),
    ("report a rating's comment", report, allowed(*SIGNED_IN, ok=201)),
    (
        "GET reported comments",
        get("/api/v1/deputy-ratings/reported"),
        allowed(*MODERATORS_OF_STREET_1, "street-committee-2"),
    ),
    (
        "GET reported comments of a deputy of street 1",
        reported_of_street_1,
        allowed(*MODERATORS_OF_STREET_1),
    ),
    ("moderate a comment on a deputy of street 1", moderate, allowed(*MODERATORS_OF_STREET_1)),
]
CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name} as {caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_duty_record_authorisation_through_the_gateway(
    world: World, operation: Operation, caller: str, expected: int
) -> None:
    matrix.test_authorisation_matrix_through_the_gateway(world, operation, caller, expected)


def test_a_second_rating_in_a_year_is_refused_and_changes_nothing(world: World) -> None:
    deputy_id = _deputy(world)

    def counts() -> dict[int, tuple[int, int, int, int]]:
        """Each year's (satisfied, basically, dissatisfied, total): the demo year rates too."""
        years = world.http.get(f"/api/v1/deputies/{deputy_id}/ratings").json()["years"]
        return {
            y["year"]: (y["satisfied"], y["basically_satisfied"], y["dissatisfied"], y["total"])
            for y in years
        }

    earlier = counts()
    _rated(world, deputy_id, "第一次")
    rated = counts()
    before = world.traces()
    again = world.http.post(
        f"/api/v1/deputies/{deputy_id}/ratings",
        json={"level": "satisfied"},
        headers=world.headers["constituent"],
    )
    assert again.status_code == 409, again.text
    assert "already" in again.json()["detail"]
    assert world.traces() == before
    assert counts() == rated
    # The first rating counted once, as dissatisfied, in one year.
    added = {
        year: tuple(n - e for n, e in zip(now, earlier.get(year, (0, 0, 0, 0)), strict=True))
        for year, now in rated.items()
    }
    assert sorted(added.values()) == sorted([(0, 0, 1, 1)] + [(0, 0, 0, 0)] * (len(added) - 1)), (
        earlier,
        rated,
    )


def test_an_unknown_deputy_is_404_naming_it(world: World) -> None:
    for path in ("/api/v1/deputies/999999/duty-record", "/api/v1/deputies/999999/ratings"):
        reply = world.http.get(path)
        assert reply.status_code == 404, reply.text
        assert "999999" in reply.json()["detail"]


def test_a_reception_record_reaches_the_public_duty_record(world: World) -> None:
    session_id = matrix._held_session(world)
    deputies = matrix._station_deputies(world)[:2]
    note = f"备注{uuid.uuid4().hex[:6]} 王先生 13800000000"
    written = world.http.put(
        f"/api/v1/sessions/{session_id}/record",
        json={"deputy_ids": deputies, "person_times": 9, "notes": note},
        headers=world.headers["street-committee"],
    )
    assert written.status_code == 200, written.text
    day = written.json()["session_date"]

    def entry_of(deputy_id: int) -> dict[str, Any] | None:
        record = world.http.get(
            f"/api/v1/deputies/{deputy_id}/duty-record",
            params={"year": int(day[:4]), "kind": "reception_attended", "page_size": 500},
        ).json()
        found = [e for e in record["entries"] if e["source_id"] == session_id]
        return found[0] if found else None

    deadline = time.monotonic() + 60
    while not all(entry_of(d) for d in deputies):
        assert time.monotonic() < deadline, "the reception record did not reach the duty record"
        time.sleep(0.5)
    entry = entry_of(deputies[0])
    assert entry is not None
    assert (entry["on"], entry["detail"], entry["source_service"]) == (
        day,
        "person_times:9",
        "reception",
    )
    assert "13800000000" not in str(entry) and "王先生" not in str(entry)
