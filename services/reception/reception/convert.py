"""The reception service's records as protobuf messages, and its enums'
stored names."""

from __future__ import annotations

from kit.convert import EnumNames, iso, timestamp
from liaison.reception.v1 import reception_pb2 as pb
from reception import domain, models

KIND = EnumNames(pb.SessionKind, "SESSION_KIND")
STATUS = EnumNames(pb.SessionStatus, "SESSION_STATUS")
POLICY = EnumNames(pb.DayOffPolicy, "DAY_OFF_POLICY")


def slot_hours_pb(
    slots: tuple[domain.SlotHours, ...] | list[domain.SlotHours],
) -> list[pb.SlotHours]:
    return [
        pb.SlotHours(label=label, start=start, end=end)
        for label, start, end in (s.text for s in slots)
    ]


def session_pb(
    m: models.ReceptionSession,
    station: models.RegistryStation | None,
    venue: models.RegistryVenue | None,
) -> pb.Session:
    return pb.Session(
        id=m.id,
        station_id=m.station_id,
        station_name=station.name if station else "",
        street_id=station.street_id if station else 0,
        date=iso(m.session_date),
        kind=KIND.number(m.kind),  # type: ignore[arg-type]
        status=STATUS.number(m.status),  # type: ignore[arg-type]
        slots=[
            pb.Slot(
                label=s.label,
                starts_at=timestamp(s.starts_at),
                ends_at=timestamp(s.ends_at),
                local_start=s.local_start,
                local_end=s.local_end,
                capacity=s.capacity,
            )
            for s in m.slots
        ],
        reason=m.reason,
        cancellation_reason=m.cancellation_reason,
        nominal_date=iso(m.key_date) if m.kind == domain.REGULAR else "",
        flags=list(m.flags or []),
        venue_name=venue.name if venue else "",
        venue_address=venue.address if venue else "",
        created_at=timestamp(m.created_at),
        updated_at=timestamp(m.updated_at),
        cancelled_at=timestamp(m.cancelled_at),
    )
