"""The reception calendar over gRPC, on PostgreSQL: scheduling months ahead
(idempotent), station rules, extra sessions and cancellations with their
events and audit entries, the public reads and the iCalendar feeds."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import grpc
import icalendar
import pytest
from sqlalchemy import func, select

from kit import audit
from kit.auth import Principal
from kit.tables import outbox_events
from liaison.reception.v1 import reception_pb2 as pb
from reception import domain, models
from reception.testing import DEPUTY_A1, STATION_A1, STATION_A2, STATION_B1

pytestmark = pytest.mark.postgres


def fails(call: Any, request: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=30)
    return caught.value.code()  # type: ignore[attr-defined,no-any-return]


def events(api: Any) -> list[tuple[str, dict[str, Any]]]:
    with api.db.read() as session:
        rows = session.execute(
            select(outbox_events.c.type, outbox_events.c.body).order_by(outbox_events.c.sequence)
        ).all()
    return [(t, json.loads(b)["payload"]) for t, b in rows]


def count(api: Any, model: Any) -> int:
    with api.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def next_month() -> str:
    first = domain.today().replace(day=1) + timedelta(days=32)
    return f"{first.year}-{first.month:02d}"


def test_scheduling_twice_creates_nothing_twice(api: Any) -> None:
    admin = api.as_("admin")
    before = len(events(api))
    first = admin.ScheduleSessions(
        pb.ScheduleSessionsRequest(station_id=STATION_A1, from_month="2026-01", months=12)
    )
    assert (first.created, first.existing) == (12, 0)
    again = admin.ScheduleSessions(
        pb.ScheduleSessionsRequest(station_id=STATION_A1, from_month="2026-01", months=12)
    )
    assert (again.created, again.existing) == (0, 12)
    published = [e for e in events(api)[before:] if e[0] != "rota_published"]
    assert [t for t, _ in published] == ["session_scheduled"] * 12
    # Each new session got its rota (reception.rotas).
    assert [t for t, _ in events(api)[before:]].count("rota_published") == 12
    # Sessions are public: the event holds nothing personal.
    assert published[0][1]["session"]["station_name"] == "林和街第一联络站"
    dates = [s.date for s in first.sessions]
    assert dates[1] == "2026-02-15"  # a Sunday in the Spring Festival: kept by default
    assert list(first.sessions[1].flags) == [domain.KEPT_ON_DAY_OFF]
    assert all(s.kind == pb.SESSION_KIND_REGULAR for s in first.sessions)
    # The venue's hours, in UTC; the venue's capacity per slot.
    march = first.sessions[2]
    assert [(s.local_start, s.local_end) for s in march.slots] == [
        ("09:00", "12:00"),
        ("14:30", "17:30"),
    ]
    assert march.slots[0].starts_at.ToJsonString() == "2026-03-15T01:00:00Z"
    assert march.slots[0].capacity == 30
    assert march.venue_name == "林和街人大代表活动室"


def test_a_rule_that_moves_days_off_applies_to_what_is_scheduled_after(api: Any) -> None:
    staff = api.as_({"sub": "test:staff", "role": "station_staff", "street_id": 1})
    rule = staff.SetStationRule(
        pb.SetStationRuleRequest(
            rule=pb.StationRule(
                station_id=STATION_A2,
                day_off_policy=pb.DAY_OFF_POLICY_MOVE,
                slots=[pb.SlotHours(start="09:30", end="11:30")],
            )
        )
    )
    assert rule.day_of_month == 15
    assert [(s.label, s.start, s.end) for s in rule.effective_slots] == [("上午", "09:30", "11:30")]
    done = staff.ScheduleSessions(
        pb.ScheduleSessionsRequest(station_id=STATION_A2, from_month="2026-02", months=1)
    )
    (february,) = done.sessions
    assert (february.nominal_date, february.date) == ("2026-02-15", "2026-02-24")
    assert list(february.flags) == [domain.MOVED_FROM_DAY_OFF]
    assert february.slots[0].capacity == 0  # the station has no venue
    got = staff.GetStationRule(pb.GetStationRuleRequest(station_id=STATION_A2))
    assert got.day_off_policy == pb.DAY_OFF_POLICY_MOVE and got.HasField("updated_at")


def test_a_station_without_a_rule_follows_the_defaults(api: Any) -> None:
    rule = api.as_("deputy").GetStationRule(pb.GetStationRuleRequest(station_id=STATION_B1))
    assert (rule.day_of_month, rule.day_off_policy) == (15, pb.DAY_OFF_POLICY_KEEP)
    assert not rule.slots and not rule.HasField("updated_at")
    # Its venue names no times: the default slots.
    assert [(s.start, s.end) for s in rule.effective_slots] == [
        ("09:00", "12:00"),
        ("14:30", "17:30"),
    ]


def test_bad_rules_name_every_field(api: Any) -> None:
    admin = api.as_("admin")
    bad = pb.StationRule(
        station_id=STATION_A1, day_of_month=32, slots=[pb.SlotHours(start="9", end="8:00")]
    )
    assert fails(admin.SetStationRule, pb.SetStationRuleRequest(rule=bad)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    missing = pb.StationRule(station_id=999)
    assert fails(admin.SetStationRule, pb.SetStationRuleRequest(rule=missing)) == (
        grpc.StatusCode.NOT_FOUND
    )


def test_extra_sessions_and_cancellations(api: Any) -> None:
    committee = api.as_({"sub": "test:committee", "role": "street_committee", "street_id": 1})
    day = domain.today() + timedelta(days=20)
    added = committee.AddSession(
        pb.AddSessionRequest(station_id=STATION_A1, date=day.isoformat(), reason="人代会前听取意见")
    )
    assert added.kind == pb.SESSION_KIND_EXTRA and added.reason == "人代会前听取意见"
    assert len(added.slots) == 2
    twice = pb.AddSessionRequest(station_id=STATION_A1, date=day.isoformat(), reason="再加一次")
    assert fails(committee.AddSession, twice) == grpc.StatusCode.ALREADY_EXISTS
    no_reason = pb.AddSessionRequest(station_id=STATION_A1, date=day.isoformat(), reason=" ")
    assert fails(committee.AddSession, no_reason) == grpc.StatusCode.INVALID_ARGUMENT
    past = pb.AddSessionRequest(station_id=STATION_A1, date="2020-01-15", reason="补开")
    assert fails(committee.AddSession, past) == grpc.StatusCode.INVALID_ARGUMENT

    cancelled = committee.CancelSession(pb.CancelSessionRequest(id=added.id, reason="场地维修"))
    assert cancelled.status == pb.SESSION_STATUS_CANCELLED
    assert cancelled.cancellation_reason == "场地维修" and cancelled.HasField("cancelled_at")
    again = pb.CancelSessionRequest(id=added.id, reason="再取消")
    assert fails(committee.CancelSession, again) == grpc.StatusCode.FAILED_PRECONDITION
    types = [t for t, _ in events(api)[-3:]]
    assert types == ["session_added", "rota_published", "session_cancelled"]
    # Public: the cancelled session stays, with its reason.
    got = api.anonymous.GetSession(pb.GetSessionRequest(id=added.id))
    assert got.status == pb.SESSION_STATUS_CANCELLED
    listed = api.anonymous.ListSessions(
        pb.ListSessionsRequest(
            station_id=STATION_A1, **{"from": day.isoformat(), "to": day.isoformat()}
        )
    )
    assert [s.id for s in listed.sessions] == [added.id]
    # Each change has its audit entry, with its actor.
    with api.db.read() as session:
        actions = session.execute(
            select(audit.audit_entries.c.action, audit.audit_entries.c.actor_subject).where(
                audit.audit_entries.c.record_kind == "session",
                audit.audit_entries.c.record_id == added.id,
            )
        ).all()
    assert sorted(actions) == [("added", "test:committee"), ("cancelled", "test:committee")]


def test_listing_checks_its_dates(api: Any) -> None:
    anonymous = api.anonymous
    for dates in ({"from": "2026-02-01", "to": "2026-01-01"}, {"from": "x", "to": "2026-01-01"},
                  {"from": "2026-01-01", "to": "2027-12-31"}, {"from": "", "to": ""}):  # fmt: skip
        request = pb.ListSessionsRequest(station_id=STATION_A1, **dates)
        assert fails(anonymous.ListSessions, request) == grpc.StatusCode.INVALID_ARGUMENT
    unknown = pb.ListSessionsRequest(station_id=404, **{"from": "2026-01-01", "to": "2026-02-01"})
    assert fails(anonymous.ListSessions, unknown) == grpc.StatusCode.NOT_FOUND


def test_the_worker_schedule_keeps_every_station_months_ahead(api: Any) -> None:
    done = api.reception.schedule_ahead(Principal.system("test-worker"))
    again = api.reception.schedule_ahead(Principal.system("test-worker"))
    assert again.created == [] and again.existing == done.existing + len(done.created)
    this_month = domain.today().replace(day=1)
    with api.db.read() as session:
        stations = set(
            session.scalars(
                select(models.ReceptionSession.station_id).where(
                    models.ReceptionSession.kind == domain.REGULAR,
                    models.ReceptionSession.key_date >= this_month,
                )
            )
        )
    assert stations == {STATION_A1, STATION_A2, STATION_B1}


def test_calendar_feeds_are_rfc_5545(api: Any) -> None:
    api.as_("admin").ScheduleSessions(
        pb.ScheduleSessionsRequest(station_id=STATION_B1, from_month=next_month(), months=2)
    )
    feed = api.anonymous.GetStationCalendar(pb.GetStationCalendarRequest(station_id=STATION_B1))
    assert feed.filename == f"station-{STATION_B1}.ics"
    calendar = icalendar.Calendar.from_ical(feed.content)
    assert str(calendar["version"]) == "2.0"
    events_ = list(calendar.walk("VEVENT"))
    assert len(events_) >= 4  # two sessions, two slots each
    first = events_[0]
    assert first["dtstart"].dt.utcoffset() == timedelta(0)
    assert "石牌街第一联络站" in str(first["summary"])
    assert len({str(e["uid"]) for e in events_}) == len(events_)

    deputy = api.anonymous.GetDeputyCalendar(pb.GetDeputyCalendarRequest(deputy_id=DEPUTY_A1))
    station_feed = api.anonymous.GetStationCalendar(
        pb.GetStationCalendarRequest(station_id=STATION_A1)
    )
    uids = {str(e["uid"]) for e in icalendar.Calendar.from_ical(deputy.content).walk("VEVENT")}
    assert uids == {
        str(e["uid"]) for e in icalendar.Calendar.from_ical(station_feed.content).walk("VEVENT")
    }
    # The feed keeps a cancelled session, marked so.
    cancelled = [
        e
        for e in icalendar.Calendar.from_ical(station_feed.content).walk("VEVENT")
        if str(e["status"]) == "CANCELLED"
    ]
    assert cancelled and all(int(e["sequence"]) == 1 for e in cancelled)
    missing = pb.GetDeputyCalendarRequest(deputy_id=424242)
    assert fails(api.anonymous.GetDeputyCalendar, missing) == grpc.StatusCode.NOT_FOUND
