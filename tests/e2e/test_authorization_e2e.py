"""The authorisation matrix through the gateway: every role against every
kind of operation, over HTTP, on the running platform (registry and
reception on PostgreSQL, RabbitMQ, the gateway). The same rules are tested
on each service's gRPC API directly in services/<service>/tests; here they
hold for what clients actually call, and a refused write changes nothing.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from kit.testrun import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.rabbitmq]

CALLERS = (
    "anonymous",
    "constituent",
    "deputy",
    "station-staff",
    "street-committee",  # of street 1, whose records the writes below touch
    "street-committee-2",  # a street committee of street 2
    "standing-committee-office",
    "working-body",
    "government-office",
    "department",
    "department-system",
    "admin",
)
DISTRICT = {"standing-committee-office", "admin"}
STAFF = set(CALLERS) - {"anonymous", "constituent"}


def allowed(*callers: str, ok: int = 200) -> dict[str, int]:
    """`ok` for `callers`, 401 without a token, 403 for everyone else."""
    return {c: ok if c in callers else 401 if c == "anonymous" else 403 for c in CALLERS}


@dataclass
class World:
    http: httpx.Client
    headers: dict[str, dict[str, str]]
    station_id: int  # a station of street 1
    committee_id: int  # street 1's committee

    def admin(self) -> dict[str, str]:
        return self.headers["admin"]

    def traces(self) -> tuple[int, ...]:
        """What a refused write must leave as it was: each service's audit of every change."""
        totals = []
        for service in ("registry", "reception", "referral", "duties", "notifications"):
            page = self.http.get(
                f"/api/v1/{service}/audit-entries", params={"page_size": 1}, headers=self.admin()
            )
            assert page.status_code == 200, page.text
            totals.append(page.json()["total_size"])
        return tuple(totals)


@pytest.fixture(scope="module")
def platform(unlimited_platform: Platform) -> Platform:
    # Every case reads each service's audit twice, as the admin: many reads a minute.
    return unlimited_platform


@pytest.fixture(scope="module")
def world(platform: Platform) -> Iterator[World]:
    with httpx.Client(base_url=platform.base_url, timeout=30) as http:
        headers: dict[str, dict[str, str]] = {"anonymous": {}}
        for caller in CALLERS[1:]:
            body: dict[str, Any] = {"account": caller}
            if caller == "street-committee-2":
                body = {"account": "street-committee", "street_id": 2}
            reply = http.post("/api/v1/dev/tokens", json=body)
            assert reply.status_code == 200, reply.text
            headers[caller] = {"authorization": f"Bearer {reply.json()['access_token']}"}
        station = http.get("/api/v1/stations", params={"street_id": 1}).json()["items"][0]
        units = http.get("/api/v1/units", params={"street_id": 1, "kind": "street_committee"})
        yield World(http, headers, station["id"], units.json()["items"][0]["id"])


def _code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


Operation = Callable[[World], Callable[[dict[str, str]], httpx.Response]]


def get(path: str, **params: Any) -> Operation:
    return lambda w: lambda h: w.http.get(path, params=params, headers=h)


def create_area(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(
        "/api/v1/areas", json={"code": _code("a"), "name": "新片区", "street_id": 1}, headers=h
    )


def rename_station(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.patch(
        f"/api/v1/stations/{w.station_id}", json={"name": f"联络站{_code('n')}"}, headers=h
    )


def deactivate_venue(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    venue = w.http.post(
        "/api/v1/venues",
        json={"code": _code("v"), "name": "活动室", "street_id": 1},
        headers=w.admin(),
    ).json()
    return lambda h: w.http.post(
        f"/api/v1/venues/{venue['id']}:deactivate", json={"reason": "场地收回"}, headers=h
    )


def fill_position(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {"role": "street_paid_staff", "unit_id": w.committee_id, "holder_name": "工作人员"}
    return lambda h: w.http.post("/api/v1/positions", json=body, headers=h)


def create_street(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(
        "/api/v1/streets", json={"code": _code("s"), "name": "新街道"}, headers=h
    )


def import_roster(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    station = w.http.get(f"/api/v1/stations/{w.station_id}").json()["code"]
    street = w.http.get("/api/v1/streets/1").json()["code"]
    content = (
        "代表编号,姓名,性别,代表层级,届次,街道,联络站\n"
        f"{_code('TI')},导入代表,女,区,第十届,{street},{station}\n"
    ).encode()
    files = {"file": ("deputies.csv", content, "text/csv")}
    return lambda h: w.http.post("/api/v1/rosters/deputies:import", files=files, headers=h)


# Days ahead for extra sessions: each one its own day.
_days = itertools.count(40)


def _future_day() -> str:
    return (date.today() + timedelta(days=next(_days))).isoformat()


def sessions_of_station(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    params = {"from": date.today().isoformat(), "to": _future_day()}
    return lambda h: w.http.get(
        f"/api/v1/stations/{w.station_id}/sessions", params=params, headers=h
    )


def station_calendar(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.get(f"/api/v1/stations/{w.station_id}/calendar.ics", headers=h)


def reception_rule(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.get(f"/api/v1/stations/{w.station_id}/reception-rule", headers=h)


def set_reception_rule(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {
        "day_of_month": 15,
        "day_off_policy": "keep",
        "slots": [{"start": "09:00", "end": "12:00"}, {"start": "14:30", "end": "17:30"}],
    }
    return lambda h: w.http.put(
        f"/api/v1/stations/{w.station_id}/reception-rule", json=body, headers=h
    )


def schedule_sessions(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {"station_id": w.station_id, "months": 1}
    return lambda h: w.http.post("/api/v1/sessions:schedule", json=body, headers=h)


def add_session(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {"date": _future_day(), "reason": "区人代会召开前听取意见"}
    return lambda h: w.http.post(f"/api/v1/stations/{w.station_id}/sessions", json=body, headers=h)


def cancel_session(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    added = add_session(w)(w.admin())
    assert added.status_code == 201, added.text
    return lambda h: w.http.post(
        f"/api/v1/sessions/{added.json()['id']}:cancel",
        json={"reason": "场地维修"},
        headers=h,
    )


CALENDAR_OF_STREET_1 = (*DISTRICT, "station-staff", "street-committee")


# ---------------------------------------------------------------- bookings
# The demo deputy is on no session's rota (the rota is built apart): a
# session's personal data is its station's staff's here.

_phones = itertools.count(1)
# Five one-minute slots late in the day: today's session takes bookings
# until 23:50 in Asia/Shanghai.
_LATE_SLOTS = [{"start": f"23:{m:02d}", "end": f"23:{m + 1:02d}"} for m in range(50, 60, 2)]
_today_sessions: dict[str, int] = {}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _booking_body(w: World, slot_id: int) -> dict[str, Any]:
    station = w.http.get(f"/api/v1/stations/{w.station_id}").json()
    return {
        "slot_id": slot_id,
        "name": "测试选民",
        "phone": f"1360000{next(_phones):04d}",
        "community_id": station["community_ids"][0],
        "topic": "小区停车难",
    }


def _slots(w: World, session_id: int, *, still_open: bool = False) -> list[int]:
    seen = w.http.get(f"/api/v1/sessions/{session_id}/availability")
    assert seen.status_code == 200, seen.text
    found = [slot["slot_id"] for slot in seen.json()["slots"] if slot["open"] or not still_open]
    assert found, f"session {session_id} has no slot still taking bookings: {seen.text}"
    return found


def _ahead(w: World) -> int:
    """A new extra session of the station, days ahead."""
    added = add_session(w)(w.admin())
    assert added.status_code == 201, added.text
    return int(added.json()["id"])


def _day_with_late_slots_ahead() -> date:
    """Today (Asia/Shanghai), once enough of it is left for the late slots to
    take bookings while the matrix runs: in the day's last quarter hour, the
    next day, waited for (a slot that has begun takes no booking, and
    attendance is marked from the session's day on)."""
    now = datetime.now(SHANGHAI)
    if (now.hour, now.minute) >= (23, 45):
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), SHANGHAI)
        time.sleep((midnight - now).total_seconds() + 1)
    return datetime.now(SHANGHAI).date()


def _today(w: World) -> int:
    """The station's extra session today (Asia/Shanghai), made once."""
    if w.http.base_url.host + str(w.station_id) not in _today_sessions:
        day = _day_with_late_slots_ahead().isoformat()
        added = w.http.post(
            f"/api/v1/stations/{w.station_id}/sessions",
            json={"date": day, "reason": "集中接待", "slots": _LATE_SLOTS},
            headers=w.admin(),
        )
        assert added.status_code == 201, added.text
        _today_sessions[w.http.base_url.host + str(w.station_id)] = int(added.json()["id"])
    return _today_sessions[w.http.base_url.host + str(w.station_id)]


def _booked(w: World, session_id: int, by: str = "anonymous") -> dict[str, Any]:
    slots = _slots(w, session_id, still_open=True)
    body = _booking_body(w, slots[next(_phones) % len(slots)])
    made = w.http.post(f"/api/v1/sessions/{session_id}/bookings", json=body, headers=w.headers[by])
    assert made.status_code == 201, made.text
    return dict(made.json())


def book_slot(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    session_id = _ahead(w)
    body = _booking_body(w, _slots(w, session_id)[0])
    return lambda h: w.http.post(
        f"/api/v1/sessions/{session_id}/bookings",
        json=body | {"phone": f"1350000{next(_phones):04d}"},
        headers=h,
    )


def session_availability(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    session_id = _ahead(w)
    return lambda h: w.http.get(f"/api/v1/sessions/{session_id}/availability", headers=h)


def session_bookings(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    session_id = _ahead(w)
    _booked(w, session_id)
    return lambda h: w.http.get(f"/api/v1/sessions/{session_id}/bookings", headers=h)


def cancel_with_code(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    made = _booked(w, _ahead(w))
    return lambda h: w.http.post(
        f"/api/v1/bookings/{made['booking']['id']}:cancel",
        json={"cancel_code": made["cancel_code"]},
        headers=h,
    )


def cancel_without_code(by: str) -> Operation:
    def prepare(w: World) -> Callable[[dict[str, str]], httpx.Response]:
        made = _booked(w, _ahead(w), by)
        return lambda h: w.http.post(f"/api/v1/bookings/{made['booking']['id']}:cancel", headers=h)

    return prepare


def record_walk_in(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = _booking_body(w, 0)
    walk_in = {"community_id": body["community_id"], "topic": "噪音扰民"}
    session_id = _today(w)
    return lambda h: w.http.post(f"/api/v1/sessions/{session_id}/walk-ins", json=walk_in, headers=h)


def mark_attended(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    made = _booked(w, _today(w))
    return lambda h: w.http.post(
        f"/api/v1/bookings/{made['booking']['id']}:attend",
        json={"attendance": "attended"},
        headers=h,
    )


# ---------------------------------------------------------------- the rota


def _new_session_rota(w: World) -> dict[str, Any]:
    """The rota drawn for a new extra session of the station."""
    added = add_session(w)(w.admin())
    assert added.status_code == 201, added.text
    rota = w.http.get(f"/api/v1/sessions/{added.json()['id']}/rota")
    assert rota.status_code == 200, rota.text
    body: dict[str, Any] = rota.json()
    return body


def session_rota(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    rota = _new_session_rota(w)
    return lambda h: w.http.get(f"/api/v1/sessions/{rota['session_id']}/rota", headers=h)


def set_rota(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    rota = _new_session_rota(w)
    body = {
        "deputies": [{"deputy_id": d["deputy_id"], "lead": d["lead"]} for d in rota["deputies"]]
    }
    return lambda h: w.http.put(f"/api/v1/sessions/{rota['session_id']}/rota", json=body, headers=h)


def generate_rota(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post(
        f"/api/v1/stations/{w.station_id}/rota:generate", json={"months": 1}, headers=h
    )


def _station_deputies(w: World) -> list[int]:
    """The demo's deputies of the station, by id, but the demo deputy account's
    (deputy 1). Deputies a roster import of this module adds come later, and
    may not have reached the reception service's read model yet."""
    listed = w.http.get("/api/v1/deputies", params={"station_id": w.station_id, "page_size": 50})
    assert listed.status_code == 200, listed.text
    return sorted(d["id"] for d in listed.json()["items"] if d["id"] != 1)[:5]


def declare_unavailability(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    deputy = _station_deputies(w)[0]
    body = {"first_day": _future_day(), "last_day": _future_day(), "reason": "出差"}
    return lambda h: w.http.post(f"/api/v1/deputies/{deputy}/unavailability", json=body, headers=h)


def list_unavailability(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    deputy = _station_deputies(w)[0]
    return lambda h: w.http.get(f"/api/v1/deputies/{deputy}/unavailability", headers=h)


def _proposal(w: World) -> dict[str, Any]:
    """A swap proposed by the admin on behalf of a deputy of a new session."""
    rota = _new_session_rota(w)
    on = [d["deputy_id"] for d in rota["deputies"] if not d["lead"] and d["deputy_id"] != 1]
    off = [d for d in _station_deputies(w) if d not in [x["deputy_id"] for x in rota["deputies"]]]
    assert on and off, rota
    return {"proposer_id": on[0], "session_id": rota["session_id"], "counterpart_id": off[0]}


def propose_swap(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = _proposal(w)
    return lambda h: w.http.post("/api/v1/rota-swaps", json=body, headers=h)


def decide_swap(decision: str) -> Operation:
    def prepare(w: World) -> Callable[[dict[str, str]], httpx.Response]:
        made = w.http.post("/api/v1/rota-swaps", json=_proposal(w), headers=w.admin())
        assert made.status_code == 201, made.text
        return lambda h: w.http.post(
            f"/api/v1/rota-swaps/{made.json()['id']}:{decision}", headers=h
        )

    return prepare


def station_swaps(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.get(
        "/api/v1/rota-swaps", params={"station_id": w.station_id}, headers=h
    )


MATRIX: list[tuple[str, Operation, dict[str, int]]] = [
    ("GET /streets", get("/api/v1/streets"), allowed(*CALLERS)),
    ("GET /find-station", get("/api/v1/find-station", community_id=1), allowed(*CALLERS)),
    ("GET /deputies/1/profile", get("/api/v1/deputies/1/profile"), allowed(*CALLERS)),
    ("GET /positions", get("/api/v1/positions"), allowed(*STAFF)),
    ("GET /budget-checks", get("/api/v1/budget-checks", year=2025), allowed(*STAFF)),
    ("POST /areas in street 1", create_area, allowed(*DISTRICT, "street-committee", ok=201)),
    ("PATCH /stations in street 1", rename_station, allowed(*DISTRICT, "street-committee")),
    ("deactivate a venue of street 1", deactivate_venue, allowed(*DISTRICT, "street-committee")),
    ("POST /positions in street 1", fill_position, allowed(*DISTRICT, "street-committee", ok=201)),
    ("import a roster of street 1", import_roster, allowed(*DISTRICT, "street-committee")),
    (
        "GET /rosters/deputies of street 1",
        get("/api/v1/rosters/deputies", street_id=1),
        allowed(*DISTRICT, "street-committee"),
    ),
    ("POST /streets", create_street, allowed(*DISTRICT, ok=201)),
    ("GET /registry/audit-entries", get("/api/v1/registry/audit-entries"), allowed("admin")),
    ("GET a station's sessions", sessions_of_station, allowed(*CALLERS)),
    ("GET a station's calendar.ics", station_calendar, allowed(*CALLERS)),
    ("GET /deputies/1/calendar.ics", get("/api/v1/deputies/1/calendar.ics"), allowed(*CALLERS)),
    ("GET a station's reception rule", reception_rule, allowed(*STAFF)),
    ("PUT a reception rule in street 1", set_reception_rule, allowed(*CALENDAR_OF_STREET_1)),
    ("schedule sessions in street 1", schedule_sessions, allowed(*CALENDAR_OF_STREET_1)),
    ("add a session in street 1", add_session, allowed(*CALENDAR_OF_STREET_1, ok=201)),
    ("cancel a session in street 1", cancel_session, allowed(*CALENDAR_OF_STREET_1)),
    ("GET /reception/audit-entries", get("/api/v1/reception/audit-entries"), allowed("admin")),
    ("GET a session's rota", session_rota, allowed(*CALLERS)),
    ("PUT a session's rota in street 1", set_rota, allowed(*CALENDAR_OF_STREET_1)),
    ("draw the rotas of a station of street 1", generate_rota, allowed(*CALENDAR_OF_STREET_1)),
    (
        "declare a deputy of street 1 unavailable",
        declare_unavailability,
        allowed(*CALENDAR_OF_STREET_1, ok=201),
    ),
    (
        "GET a deputy of street 1's unavailability",
        list_unavailability,
        allowed(*CALENDAR_OF_STREET_1),
    ),
    ("propose a swap in street 1", propose_swap, allowed(*CALENDAR_OF_STREET_1, ok=201)),
    ("accept a swap in street 1", decide_swap("accept"), allowed(*CALENDAR_OF_STREET_1)),
    ("decline a swap in street 1", decide_swap("decline"), allowed(*CALENDAR_OF_STREET_1)),
    ("GET a station of street 1's swaps", station_swaps, allowed(*CALENDAR_OF_STREET_1)),
    ("book a slot", book_slot, allowed(*CALLERS, ok=201)),
    ("GET a session's availability", session_availability, allowed(*CALLERS)),
    ("GET a session's bookings in street 1", session_bookings, allowed(*CALENDAR_OF_STREET_1)),
    ("cancel a booking with its code", cancel_with_code, allowed(*CALLERS)),
    (
        "cancel another's booking without a code",
        cancel_without_code("anonymous"),
        allowed(*CALENDAR_OF_STREET_1),
    ),
    (
        "cancel the constituent's own booking",
        cancel_without_code("constituent"),
        allowed(*CALENDAR_OF_STREET_1, "constituent"),
    ),
    ("GET /me/bookings", get("/api/v1/me/bookings"), allowed("constituent")),
    ("record a walk-in in street 1", record_walk_in, allowed(*CALENDAR_OF_STREET_1, ok=201)),
    ("mark a booking attended in street 1", mark_attended, allowed(*CALENDAR_OF_STREET_1)),
]

# ---------------------------------------------------------------- opinions and reception records


def _community(w: World) -> int:
    station = w.http.get(f"/api/v1/stations/{w.station_id}").json()
    return int(station["community_ids"][0])


def _opinion_body(w: World, **fields: Any) -> dict[str, Any]:
    return {
        "category": "transport",
        "content": "路口红绿灯时间太短",
        "community_id": _community(w),
        "raiser_name": "陈先生",
        "raiser_phone": "13800000000",
    } | fields


def _opinion(w: World, **fields: Any) -> dict[str, Any]:
    """An opinion of street 1, sent by the admin."""
    reply = w.http.post("/api/v1/opinions", json=_opinion_body(w, **fields), headers=w.admin())
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def _held_session(w: World) -> int:
    """The latest session of the street 1 station held before today (not cancelled)."""
    params = {"from": (date.today() - timedelta(days=120)).isoformat(),
              "to": (date.today() - timedelta(days=1)).isoformat()}  # fmt: skip
    found = w.http.get(f"/api/v1/stations/{w.station_id}/sessions", params=params).json()
    held = [x for x in found["items"] if x["status"] == "scheduled"]
    return int(held[-1]["id"])


def send_opinion(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = _opinion_body(w)
    return lambda h: w.http.post("/api/v1/opinions", json=body, headers=h)


def record_at_reception(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = _opinion_body(w, source="reception", session_id=_held_session(w))
    return lambda h: w.http.post("/api/v1/opinions", json=body, headers=h)


def enter_order(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = _opinion_body(w, source="order", raiser_name=None, raiser_phone=None)
    body = {k: v for k, v in body.items() if v is not None}
    return lambda h: w.http.post("/api/v1/opinions", json=body, headers=h)


def track_opinion(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    code = _opinion(w)["tracking_code"]
    return lambda h: w.http.get(f"/api/v1/opinions/track/{code}", headers=h)


def get_opinion(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    opinion_id = _opinion(w)["id"]
    return lambda h: w.http.get(f"/api/v1/opinions/{opinion_id}", headers=h)


def opinion_action(action: str, **body: Any) -> Operation:
    def prepare(w: World) -> Callable[[dict[str, str]], httpx.Response]:
        opinion_id = _opinion(w)["id"]
        given = dict(body)
        if action == "merge":
            given["into_id"] = _opinion(w)["id"]
        return lambda h: w.http.post(
            f"/api/v1/opinions/{opinion_id}:{action}", json=given, headers=h
        )

    return prepare


def assign_opinion(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    deputies = w.http.get("/api/v1/deputies", params={"street_id": 1}).json()["items"]
    other = next(d["id"] for d in deputies if d["id"] != 1)  # not the demo deputy's own id
    opinion_id = _opinion(w)["id"]
    return lambda h: w.http.post(
        f"/api/v1/opinions/{opinion_id}:assign", json={"deputy_id": other}, headers=h
    )


def complete_order(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    deputies = w.http.get("/api/v1/deputies", params={"street_id": 1}).json()["items"]
    other = next(d["id"] for d in deputies if d["id"] != 1)
    body = {k: v for k, v in _opinion_body(w, source="order", taken_by_deputy_id=other).items()
            if k not in ("raiser_name", "raiser_phone")}  # fmt: skip
    sent = w.http.post("/api/v1/opinions", json=body, headers=w.admin())
    assert sent.status_code == 201, sent.text
    return lambda h: w.http.post(
        f"/api/v1/opinions/{sent.json()['id']}:done", json={"answer": "已办结"}, headers=h
    )


def suggested_deputies(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    opinion_id = _opinion(w)["id"]
    return lambda h: w.http.get(f"/api/v1/opinions/{opinion_id}/suggested-deputies", headers=h)


def put_record(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    session_id = _held_session(w)
    body = {"deputy_ids": [], "person_times": 6, "notes": "接待顺利"}
    return lambda h: w.http.put(f"/api/v1/sessions/{session_id}/record", json=body, headers=h)


def get_record(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    session_id = _held_session(w)
    put_record(w)(w.admin()).raise_for_status()
    return lambda h: w.http.get(f"/api/v1/sessions/{session_id}/record", headers=h)


TRIAGE_OF_STREET_1 = (*DISTRICT, "station-staff", "street-committee")
# The rota's deputies may record at a reception and read its record: the demo
# deputy is on no rota of this station's past sessions while the rota is not
# built.
MATRIX += [
    ("POST /opinions online", send_opinion, allowed(*CALLERS, ok=201)),
    ("POST /opinions at a reception in street 1", record_at_reception,
     allowed(*TRIAGE_OF_STREET_1, ok=201)),
    ("POST /opinions an order in street 1", enter_order,
     allowed(*DISTRICT, "street-committee", ok=201)),
    ("GET /opinions/track/{code}", track_opinion, allowed(*CALLERS)),
    ("GET /opinions (the triage queue)", get("/api/v1/opinions"),
     allowed(*TRIAGE_OF_STREET_1, "street-committee-2", "deputy")),
    ("GET an opinion of street 1", get_opinion,
     allowed(*TRIAGE_OF_STREET_1, "working-body", "deputy")),
    ("answer an opinion of street 1", opinion_action("answer", answer="已答复"),
     allowed(*TRIAGE_OF_STREET_1)),
    ("hand on an opinion of street 1", opinion_action("hand-on"), allowed(*TRIAGE_OF_STREET_1)),
    ("merge an opinion of street 1", opinion_action("merge"), allowed(*TRIAGE_OF_STREET_1)),
    ("decline an opinion of street 1", opinion_action("decline", reason="重复反映"),
     allowed(*TRIAGE_OF_STREET_1)),
    ("assign an opinion of street 1", assign_opinion, allowed(*TRIAGE_OF_STREET_1)),
    ("finish an order of street 1", complete_order, allowed(*TRIAGE_OF_STREET_1)),
    ("GET suggested deputies in street 1", suggested_deputies, allowed(*TRIAGE_OF_STREET_1)),
    ("PUT a reception record in street 1", put_record, allowed(*TRIAGE_OF_STREET_1)),
    ("GET a reception record in street 1", get_record, allowed(*TRIAGE_OF_STREET_1)),
    ("GET /reception-figures", get("/api/v1/reception-figures", street_id=1, year=2026),
     allowed(*CALLERS)),
]  # fmt: skip


def _letter(w: World) -> dict[str, Any]:
    """The letter the referral service opens from an opinion of street 1
    that the admin hands on (through reception.events, on the broker)."""
    opinion = _opinion(w)
    handed = w.http.post(
        f"/api/v1/opinions/{opinion['id']}:hand-on",
        json={"note": "转区交通运输局"},
        headers=w.admin(),
    )
    assert handed.status_code == 200, handed.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = w.http.get(
            "/api/v1/letters", params={"street_id": 1, "page_size": 500}, headers=w.admin()
        ).json()
        found = [x for x in page["items"] if x["tracking_code"] == opinion["tracking_code"]]
        if found:
            return found[0]  # type: ignore[no-any-return]
        time.sleep(0.3)
    raise AssertionError(f"no letter for {opinion['tracking_code']} after 60 s")


def _as(w: World, account: str) -> dict[str, str]:
    """The headers of a demo account the matrix's callers do not include."""
    if account not in w.headers:
        reply = w.http.post("/api/v1/dev/tokens", json={"account": account})
        assert reply.status_code == 200, reply.text
        w.headers[account] = {"authorization": f"Bearer {reply.json()['access_token']}"}
    return w.headers[account]


def _step(w: World, letter_id: int, action: str, account: str, **body: Any) -> dict[str, Any]:
    reply = w.http.post(f"/api/v1/letters/{letter_id}:{action}", json=body, headers=_as(w, account))
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def decide_jurisdiction(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    letter_id = _letter(w)["id"]
    return lambda h: w.http.post(
        f"/api/v1/letters/{letter_id}:decide-jurisdiction", json={"route": "street"}, headers=h
    )


def review_letter(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    letter_id = _letter(w)["id"]
    _step(w, letter_id, "decide-jurisdiction", "street-committee", route="district")
    return lambda h: w.http.post(
        f"/api/v1/letters/{letter_id}:review", json={"accept": True}, headers=h
    )


def acknowledge_letter(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    letter_id = _letter(w)["id"]
    _step(w, letter_id, "decide-jurisdiction", "street-committee", route="district")
    _step(w, letter_id, "review", "working-body", accept=True)
    _step(w, letter_id, "dispatch", "standing-committee-office")
    _step(w, letter_id, "assign", "government-office", lead_department_id=52)
    return lambda h: w.http.post(f"/api/v1/letters/{letter_id}:acknowledge", json={}, headers=h)


def get_letter(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    letter_id = _letter(w)["id"]
    return lambda h: w.http.get(f"/api/v1/letters/{letter_id}", headers=h)


def track_letter(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    code = _letter(w)["tracking_code"]
    return lambda h: w.http.get(f"/api/v1/opinions/track/{code}/letter", headers=h)


def check_trail(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    letter_id = _letter(w)["id"]
    return lambda h: w.http.get(f"/api/v1/letters/{letter_id}/trail-check", headers=h)


LETTER_READERS_OF_STREET_1 = (*DISTRICT, "working-body", "government-office")
MATRIX += [
    ("GET /letters", get("/api/v1/letters"),
     allowed(*LETTER_READERS_OF_STREET_1, "station-staff", "street-committee",
             "street-committee-2", "deputy", "department", "department-system",
             "constituent")),
    ("GET a letter of street 1", get_letter,
     allowed(*LETTER_READERS_OF_STREET_1, "station-staff", "street-committee")),
    ("GET a letter's trail check", check_trail, allowed(*LETTER_READERS_OF_STREET_1)),
    ("GET a letter by its opinion's tracking code", track_letter, allowed(*CALLERS)),
    ("GET /letter-figures", get("/api/v1/letter-figures", year=2026, street_id=1),
     allowed(*CALLERS)),
    # Each step by whose turn it is: the rules are the referral service's.
    ("decide a letter's jurisdiction", decide_jurisdiction, allowed("street-committee")),
    ("review a letter", review_letter, allowed("working-body")),
    ("acknowledge a letter (the demo department's)", acknowledge_letter,
     allowed("department", "department-system")),
]  # fmt: skip


def test_an_opinion_handed_on_opens_one_letter_with_an_intact_trail(world: World) -> None:
    letter = _letter(world)
    assert letter["stage"] == "jurisdiction" and letter["street_id"] == 1
    assert letter["note"] == "转区交通运输局"
    assert not {k for k in letter if "raiser" in k or "phone" in k}
    check = world.http.get(f"/api/v1/letters/{letter['id']}/trail-check", headers=world.admin())
    assert check.json() == {"intact": True, "entries": 1, "break_position": None, "reason": ""}
    # Street 2's committee does not see street 1's letters.
    theirs = world.http.get("/api/v1/letters", headers=world.headers["street-committee-2"]).json()
    assert letter["id"] not in {x["id"] for x in theirs["items"]}
    refused = world.http.get("/api/v1/letters", params={"street_id": 1},
                             headers=world.headers["street-committee-2"])  # fmt: skip
    assert refused.status_code == 403


def test_an_online_opinion_reaches_a_rated_answer_through_the_district(world: World) -> None:
    """From a constituent's online opinion through the district's route to
    the department's written answer, fed back and rated, through the gateway."""
    reply = world.http.post(
        "/api/v1/opinions", json=_opinion_body(world), headers=world.headers["constituent"]
    )
    assert reply.status_code == 201, reply.text
    opinion = reply.json()
    handed = world.http.post(
        f"/api/v1/opinions/{opinion['id']}:hand-on", json={"note": "转区住建局"},
        headers=world.headers["street-committee"],
    )  # fmt: skip
    assert handed.status_code == 200, handed.text
    deadline = time.monotonic() + 60
    letter: dict[str, Any] = {}
    while not letter and time.monotonic() < deadline:
        page = world.http.get("/api/v1/letters", params={"page_size": 500},
                              headers=world.headers["street-committee"]).json()  # fmt: skip
        letter = next(
            (x for x in page["items"] if x["tracking_code"] == opinion["tracking_code"]), {}
        )
        time.sleep(0.2)
    assert letter, "the referral service opened no letter"
    letter_id = letter["id"]
    _step(world, letter_id, "decide-jurisdiction", "street-committee", route="district")
    _step(world, letter_id, "review", "working-body", accept=True)
    _step(world, letter_id, "dispatch", "standing-committee-office")
    got = _step(world, letter_id, "assign", "government-office", lead_department_id=52)
    assert got["stage"] == "awaiting_receipt" and got["handler"]["id"] == 52
    # The department's inbox holds it; another department's does not.
    inbox = world.http.get("/api/v1/letters", headers=world.headers["department"]).json()
    assert letter_id in {x["id"] for x in inbox["items"]}
    got = _step(world, letter_id, "acknowledge", "department")
    assert got["stage"] == "in_hand" and got["deadline"]["last_day"]
    refused = world.http.post(f"/api/v1/letters/{letter_id}:rate",
                              json={"rater": "constituent", "satisfaction": "satisfied"},
                              headers=world.headers["street-committee"])  # fmt: skip
    assert refused.status_code == 409, refused.text  # rating before an answer
    # The answer's file, uploaded first, named by its SHA-256, read back by the street.
    pdf = "%PDF-1.4 维修验收单".encode()
    uploaded = world.http.post(
        f"/api/v1/letters/{letter_id}/attachments",
        files={"file": ("验收单.pdf", pdf, "application/pdf")},
        headers=world.headers["department"],
    )
    assert uploaded.status_code == 201, uploaded.text
    sha256 = uploaded.json()["sha256"]
    _step(world, letter_id, "answer", "department", text="已于本月完成维修",
          attachments=[sha256])  # fmt: skip
    back = world.http.get(f"/api/v1/letters/{letter_id}/attachments/{sha256}",
                          headers=world.headers["street-committee"])  # fmt: skip
    assert back.status_code == 200 and back.content == pdf
    assert back.headers["content-type"] == "application/pdf"
    stranger = world.http.get(f"/api/v1/letters/{letter_id}/attachments/{sha256}",
                              headers=world.headers["street-committee-2"])  # fmt: skip
    assert stranger.status_code == 403
    got = _step(world, letter_id, "feed-back", "street-committee", comment="已电话告知")
    assert got["stage"] == "fed_back"
    # The constituent who raised it online, signed in, rates the answer.
    mine = world.http.get("/api/v1/letters", headers=world.headers["constituent"]).json()
    assert letter_id in {x["id"] for x in mine["items"]}
    got = _step(world, letter_id, "rate", "constituent", rater="constituent",
                satisfaction="satisfied")  # fmt: skip
    assert got["stage"] == "closed" and got["ratings"][0]["satisfaction"] == "satisfied"
    check = world.http.get(f"/api/v1/letters/{letter_id}/trail-check", headers=world.admin())
    assert check.json()["intact"] is True
    # The constituent follows it by its tracking code.
    track = world.http.get(f"/api/v1/opinions/track/{opinion['tracking_code']}").json()
    assert track["tracking_code"] == opinion["tracking_code"]


# Deputies' suggestions and meetings with agency heads (the referral
# service's SuggestionService): the demo deputy is deputy 1, of street 1 here.
SUGGESTION = {
    "session": {"code": "e2e-1", "label": "测试会议", "year": 2027},
    "street_id": 1,
    "proposer_id": 1,
    "title": "增设公交站点",
    "content": "建议增设公交站点",
    "category": "transport",
}


def _suggestion(w: World) -> dict[str, Any]:
    made = w.http.post(
        "/api/v1/suggestions", json=SUGGESTION, headers=w.headers["standing-committee-office"]
    )
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def register_suggestion(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    return lambda h: w.http.post("/api/v1/suggestions", json=SUGGESTION, headers=h)


def get_suggestion(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    suggestion_id = _suggestion(w)["id"]
    return lambda h: w.http.get(f"/api/v1/suggestions/{suggestion_id}", headers=h)


def assign_suggestion(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    suggestion_id = _suggestion(w)["id"]
    body = {"lead_department_id": 5, "co_handler_ids": [6]}
    return lambda h: w.http.post(
        f"/api/v1/suggestions/{suggestion_id}:assign", json=body, headers=h
    )


def check_suggestion_trail(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    suggestion_id = _suggestion(w)["id"]
    return lambda h: w.http.get(f"/api/v1/suggestions/{suggestion_id}/trail-check", headers=h)


def request_meeting(w: World) -> Callable[[dict[str, str]], httpx.Response]:
    body = {"street_id": 1, "deputy_id": 1, "department_id": 5, "topic": "办理进度"}
    return lambda h: w.http.post("/api/v1/meetings", json=body, headers=h)


SUGGESTION_DISTRICT = (*DISTRICT, "working-body", "government-office")
OF_STREET_1 = ("station-staff", "street-committee")
MATRIX += [
    ("POST /suggestions for deputy 1 of street 1", register_suggestion,
     allowed("standing-committee-office", "deputy", *OF_STREET_1, ok=201)),
    ("GET /suggestions", get("/api/v1/suggestions"),
     allowed(*SUGGESTION_DISTRICT, *OF_STREET_1, "street-committee-2", "deputy", "department",
             "department-system")),
    ("GET a suggestion of deputy 1", get_suggestion,
     allowed(*SUGGESTION_DISTRICT, *OF_STREET_1, "deputy")),
    ("assign a suggestion", assign_suggestion, allowed("standing-committee-office")),
    ("GET a suggestion's trail check", check_suggestion_trail, allowed(*SUGGESTION_DISTRICT)),
    ("POST /meetings for deputy 1 of street 1", request_meeting,
     allowed("deputy", *OF_STREET_1, ok=201)),
    ("GET /meetings", get("/api/v1/meetings"),
     allowed(*SUGGESTION_DISTRICT, *OF_STREET_1, "street-committee-2", "deputy", "department",
             "department-system")),
]  # fmt: skip


CASES = [
    pytest.param(operation, caller, expected[caller], id=f"{name}-{caller}")
    for name, operation, expected in MATRIX
    for caller in CALLERS
]


@pytest.mark.parametrize(("operation", "caller", "expected"), CASES)
def test_authorisation_matrix_through_the_gateway(
    world: World, operation: Operation, caller: str, expected: int
) -> None:
    make_call = operation(world)
    before = world.traces()
    reply = make_call(world.headers[caller])
    assert reply.status_code == expected, reply.text
    if expected >= 400:
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert world.traces() == before, "a refused write changes nothing"


def test_private_contact_leaves_only_for_roles_that_need_it(world: World) -> None:
    deputy = world.http.get("/api/v1/deputies", params={"street_id": 1}).json()["items"][0]
    seen = {
        caller: world.http.get(f"/api/v1/deputies/{deputy['id']}", headers=h).json()["contact"]
        is not None
        for caller, h in world.headers.items()
    }
    assert {c for c, has in seen.items() if has} == DISTRICT | {"street-committee"}


def test_a_refused_booking_names_its_problem_and_writes_nothing(world: World) -> None:
    session_id = _ahead(world)
    slot_id = _slots(world, session_id)[0]
    url = f"/api/v1/sessions/{session_id}/bookings"
    before = world.traces()
    bad_phone = world.http.post(url, json=_booking_body(world, slot_id) | {"phone": "12345"})
    assert bad_phone.status_code == 422, bad_phone.text
    assert bad_phone.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in bad_phone.json()["errors"]] == ["phone"]
    assert world.traces() == before
    cancelled = world.http.post(
        f"/api/v1/sessions/{session_id}:cancel",
        json={"reason": "场地维修"},
        headers=world.admin(),
    )
    assert cancelled.status_code == 200, cancelled.text
    before = world.traces()
    refused = world.http.post(url, json=_booking_body(world, slot_id))
    assert refused.status_code == 409, refused.text
    assert "cancelled" in refused.json()["detail"]
    assert world.traces() == before


def test_a_constituent_books_lists_and_cancels_through_the_gateway(world: World) -> None:
    made = _booked(world, _ahead(world), "constituent")
    assert made["booking"]["signed_in"] and made["booking"]["phone"].startswith("+86")
    mine = world.http.get("/api/v1/me/bookings", headers=world.headers["constituent"]).json()
    assert made["booking"]["id"] in [b["id"] for b in mine["items"]]
    anonymous = _booked(world, _ahead(world))
    wrong = world.http.post(
        f"/api/v1/bookings/{anonymous['booking']['id']}:cancel", json={"cancel_code": "guess"}
    )
    assert wrong.status_code == 403, wrong.text
    right = world.http.post(
        f"/api/v1/bookings/{anonymous['booking']['id']}:cancel",
        json={"cancel_code": anonymous["cancel_code"]},
    )
    assert right.status_code == 200 and right.json()["status"] == "cancelled", right.text


def test_a_suggestion_through_the_gateway_and_the_demo_session(world: World) -> None:
    suggestion = _suggestion(world)
    assert (suggestion["stage"], suggestion["proposer_id"]) == ("registered", 1)
    office = world.headers["standing-committee-office"]
    assigned = world.http.post(
        f"/api/v1/suggestions/{suggestion['id']}:assign",
        json={"lead_department_id": 5},
        headers=office,
    )
    assert assigned.status_code == 200 and assigned.json()["stage"] == "assigned"
    again = world.http.post(
        f"/api/v1/suggestions/{suggestion['id']}:assign",
        json={"lead_department_id": 6},
        headers=office,
    )
    assert again.status_code == 409, again.text
    assert "awaits the lead department's receipt" in again.json()["detail"]
    check = world.http.get(f"/api/v1/suggestions/{suggestion['id']}/trail-check", headers=office)
    assert check.json() == {"intact": True, "entries": 2, "break_position": None, "reason": ""}
    # Street 1's committee follows its deputies' suggestions; street 2's does not see them.
    mine = world.http.get(
        "/api/v1/suggestions",
        params={"session_code": "e2e-1", "page_size": 500},
        headers=world.headers["street-committee"],
    ).json()
    assert suggestion["id"] in {x["id"] for x in mine["items"]}
    theirs = world.http.get(
        "/api/v1/suggestions", headers=world.headers["street-committee-2"]
    ).json()
    assert suggestion["id"] not in {x["id"] for x in theirs["items"]}
    # The demo session (referral load-demo): 59 suggestions, over 95% satisfied.
    demo = world.http.get(
        "/api/v1/suggestions/summary", params={"session_code": "8-3"}, headers=office
    ).json()
    assert demo["suggestions"] == 59 and demo["satisfaction_rate"] > 0.95
