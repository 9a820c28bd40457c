"""Reception sessions as an iCalendar feed (RFC 5545), with the `icalendar`
library: one event per slot of each session, in UTC, so any calendar shows
it in its own time zone. A cancelled session stays in the feed, its events
CANCELLED (and their SEQUENCE raised), so subscribers see the change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import icalendar

from liaison.reception.v1 import reception_pb2 as pb

PRODID = "-//Deputy Liaison Platform//reception//ZH"
DOMAIN = "reception.liaison"


def _utc(ts: object) -> datetime:
    return ts.ToDatetime(tzinfo=UTC)  # type: ignore[attr-defined,no-any-return]


def feed(name: str, sessions: Iterable[pb.Session]) -> str:
    """The calendar named `name` holding `sessions`."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    for session in sessions:
        cancelled = session.status == pb.SESSION_STATUS_CANCELLED
        title = (
            "人大代表接待选民"
            if session.kind == pb.SESSION_KIND_REGULAR
            else "人大代表接待选民(加开)"
        )
        where = "，".join(p for p in (session.venue_name, session.venue_address) if p)
        lines = [session.station_name]
        if session.reason:
            lines.append(f"加开原因：{session.reason}")
        if cancelled and session.cancellation_reason:
            lines.append(f"已取消：{session.cancellation_reason}")
        for index, slot in enumerate(session.slots):
            event = icalendar.Event()
            event.add("uid", f"session-{session.id}-{index}@{DOMAIN}")
            event.add("dtstamp", _utc(session.updated_at))
            event.add("dtstart", _utc(slot.starts_at))
            event.add("dtend", _utc(slot.ends_at))
            event.add(
                "summary",
                f"{'【已取消】' if cancelled else ''}{title} · {session.station_name}（{slot.label}）",
            )
            if where:
                event.add("location", where)
            event.add("description", "\n".join(lines))
            event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
            event.add("sequence", 1 if cancelled else 0)
            event.add("transp", "OPAQUE")
            calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
