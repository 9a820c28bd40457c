"""Named audiences: who of an event a rule tells.

Each audience maps an event's message to recipients' addresses
(`notifications.addresses`), from what the event itself carries (ids and
pseudonymous subjects, never a name or a phone), for the event types it
names; a rule naming an audience that does not apply to its event type is
refused (`notifications.rules`). An audience may find nobody for one event
(a booking made without signing in has no account to tell): then no message
is written.

| audience            | who                                                              |
|---------------------|------------------------------------------------------------------|
| booker              | the signed-in constituent of a booking (`owner_sub`), its reminder's too |
| raiser              | the signed-in constituent who raised an opinion (`raiser_sub`)   |
| session_deputies    | the deputies on a session's rota                                 |
| invited_deputies    | the deputies an activity's invitation names (those newly invited) |
| deputy              | the event's deputy (an opinion's, a rating's, a ballot's, ...)   |
| street_committee    | the street working committee of the event's street               |
| station_staff       | the liaison stations' staff of the event's street                |
| letter_unit         | the unit a letter's move names (sent, assigned or copied to), the handling unit of a reminder |
| handling_unit       | the unit handling a letter (the street office or the lead department) |
| supervisors         | the supervising body of an overdue letter                        |
| standing_committee_office | the standing committee office                              |

A report meeting (`duties.report_meeting_scheduled`) tells its deputy, the
street committee and the station staff of the meeting's street: a station's
staff read their street's mailbox (`role:station_staff@street:<id>`: a
token names a street, not a station), so every station of the street is
told; the event's `station_id` names the deputy's own station, for a
rule's condition or a template.

Not here, for want of accounts: voters. Their ballot codes are handed out
on paper at the meeting; their invitation is the meeting's public notice,
not a message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from kit.auth import Role
from kit.events import Envelope
from liaison.referral.v1 import referral_pb2
from notifications import addresses

Resolver = Callable[[Any], Iterable[str]]


@dataclass(frozen=True)
class Audience:
    name: str
    description: str
    # event type ("<service>.<type>") -> who of that event's message
    resolvers: dict[str, Resolver] = field(default_factory=dict)

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self.resolvers)

    def applies_to(self, event_type: str) -> bool:
        return event_type in self.resolvers

    def addresses(
        self, event_type: str, message: Message, envelope: Envelope | None = None
    ) -> tuple[str, ...]:
        """The addresses of `message` (once each, in order); ValueError when
        this audience does not apply to `event_type`."""
        resolver = self.resolvers.get(event_type)
        if resolver is None:
            raise ValueError(f"the audience {self.name} does not apply to {event_type}")
        return tuple(dict.fromkeys(a for a in resolver(message) if a))


# ---------------------------------------------------------------- addresses


def _user(sub: str) -> list[str]:
    """The account of a pseudonymous subject; nobody when it is empty or not
    a subject an address can hold."""
    return [addresses.user(sub)] if sub and addresses.is_valid(f"user:{sub}") else []


def _deputy(deputy_id: int) -> list[str]:
    return [addresses.deputy(deputy_id)] if deputy_id > 0 else []


def _street(role: Role, street_id: int) -> list[str]:
    return [addresses.office(role, street_id=street_id)] if street_id > 0 else []


def unit_address(unit: referral_pb2.Unit) -> list[str]:
    """The office mailbox of a referral unit: a street committee by its
    street, a street office (the department role with its street, no
    department id: referral.units), a department by its id, the district's
    bodies by their role."""
    kind = unit.kind
    if kind == referral_pb2.UNIT_KIND_STREET_COMMITTEE:
        return _street(Role.STREET_COMMITTEE, unit.id)
    if kind == referral_pb2.UNIT_KIND_STREET_OFFICE:
        return _street(Role.DEPARTMENT, unit.id)
    if kind == referral_pb2.UNIT_KIND_DEPARTMENT:
        return [addresses.office(Role.DEPARTMENT, unit_id=unit.id)] if unit.id > 0 else []
    district = {
        referral_pb2.UNIT_KIND_WORKING_BODY: Role.WORKING_BODY,
        referral_pb2.UNIT_KIND_STANDING_COMMITTEE_OFFICE: Role.STANDING_COMMITTEE_OFFICE,
        referral_pb2.UNIT_KIND_GOVERNMENT_OFFICE: Role.GOVERNMENT_OFFICE,
    }
    return [addresses.office(district[kind])] if kind in district else []


def _each(event_types: Iterable[str], resolver: Resolver) -> dict[str, Resolver]:
    return {name: resolver for name in event_types}


BOOKING_EVENTS = tuple(
    f"reception.booking_{kind}"
    for kind in (
        "confirmed",
        "waitlisted",
        "cancelled",
        "promoted",
        "attendance_marked",
        "reminder_due",
    )
)
RAISER_OPINION_EVENTS = tuple(
    f"reception.opinion_{kind}"
    for kind in ("recorded", "answered", "handed_on", "declined", "done")
)
OPINION_EVENTS = (
    *RAISER_OPINION_EVENTS,
    "reception.opinion_merged",
    "reception.opinion_assigned",
)
SESSION_EVENTS = (
    "reception.session_scheduled",
    "reception.session_added",
    "reception.session_cancelled",
)
ROTA_EVENTS = ("reception.rota_published", "reception.rota_changed")
SUGGESTION_EVENTS = tuple(
    f"referral.suggestion_{kind}"
    for kind in ("registered", "assigned", "received", "answered", "rated")
)
MEETING_EVENTS = tuple(
    f"referral.meeting_{kind}" for kind in ("requested", "scheduled", "held", "cancelled")
)


def _street_of(role: Role) -> dict[str, Resolver]:
    """The office of `role` on the street each event names."""
    return (
        _each(SESSION_EVENTS, lambda m: _street(role, m.session.street_id))
        | _each(OPINION_EVENTS, lambda m: _street(role, m.opinion.street_id))
        | {
            "referral.letter_opened": lambda m: _street(role, m.letter.street_id),
            "referral.letter_moved": lambda m: _street(role, m.letter.street_id),
            "referral.letter_due_soon": lambda m: _street(role, m.street_id),
            "referral.letter_overdue": lambda m: _street(role, m.street_id),
            "duties.visit_recorded": lambda m: _street(role, m.street_id),
            "duties.report_meeting_scheduled": lambda m: _street(role, m.meeting.street_id),
            "duties.ballot_opened": lambda m: _street(role, m.ballot.street_id),
            "duties.ballot_published": lambda m: _street(role, m.street_id),
        }
        | _each(SUGGESTION_EVENTS, lambda m: _street(role, m.suggestion.street_id))
        | _each(MEETING_EVENTS, lambda m: _street(role, m.meeting.street_id))
    )


AUDIENCES: dict[str, Audience] = {
    a.name: a
    for a in (
        Audience(
            "booker",
            "the signed-in constituent who booked (nobody for a booking made without signing in)",
            _each(BOOKING_EVENTS, lambda m: _user(m.owner_sub)),
        ),
        Audience(
            "raiser",
            "the signed-in constituent who raised the opinion online (nobody otherwise)",
            _each(RAISER_OPINION_EVENTS, lambda m: _user(m.raiser_sub))
            | {"referral.letter_moved": lambda m: _user(m.raiser_sub)},
        ),
        Audience(
            "session_deputies",
            "the deputies on the session's rota",
            _each(
                ROTA_EVENTS, lambda m: [a for d in m.rota.deputies for a in _deputy(d.deputy_id)]
            ),
        ),
        Audience(
            "invited_deputies",
            "the deputies an activity's invitation names (those it newly invited)",
            {
                "duties.activity_invitation_sent": lambda m: [
                    a for d in m.deputy_ids for a in _deputy(d)
                ]
            },
        ),
        Audience(
            "deputy",
            "the event's deputy",
            {
                "reception.opinion_assigned": lambda m: _deputy(m.deputy_id),
                "reception.opinion_recorded": lambda m: _deputy(m.opinion.taken_by_deputy_id),
                "reception.deputy_unavailable": lambda m: _deputy(m.deputy_id),
                "referral.letter_moved": lambda m: _deputy(m.letter.deputy_id),
                "duties.deputy_rated": lambda m: _deputy(m.deputy_id),
                "duties.ballot_published": lambda m: _deputy(m.deputy_id),
                "duties.ballot_opened": lambda m: _deputy(m.ballot.deputy_id),
                "duties.report_meeting_scheduled": lambda m: _deputy(m.meeting.deputy_id),
                "duties.visit_recorded": lambda m: _deputy(m.deputy_id),
                "duties.activity_attended": lambda m: _deputy(m.deputy_id),
                "duties.rating_comment_moderated": lambda m: _deputy(m.deputy_id),
            }
            | _each(SUGGESTION_EVENTS, lambda m: _deputy(m.suggestion.proposer_id))
            | _each(MEETING_EVENTS, lambda m: _deputy(m.meeting.deputy_id)),
        ),
        Audience(
            "street_committee",
            "the street working committee of the event's street",
            _street_of(Role.STREET_COMMITTEE),
        ),
        Audience(
            "station_staff",
            "the liaison stations' staff of the event's street",
            _street_of(Role.STATION_STAFF),
        ),
        Audience(
            "letter_unit",
            "the unit a letter's move names (sent, assigned or copied to); "
            "the handling unit of a reminder or an overdue letter",
            {
                "referral.letter_moved": lambda m: unit_address(m.unit),
                "referral.letter_due_soon": lambda m: unit_address(m.handler),
                "referral.letter_overdue": lambda m: unit_address(m.handler),
            },
        ),
        Audience(
            "handling_unit",
            "the unit handling the letter (the street office or the lead department)",
            {
                "referral.letter_moved": lambda m: unit_address(m.letter.handler),
                "referral.letter_due_soon": lambda m: unit_address(m.handler),
                "referral.letter_overdue": lambda m: unit_address(m.handler),
            },
        ),
        Audience(
            "supervisors",
            "the supervising body of an overdue letter (the street committee on the "
            "street's route, else the standing committee office)",
            {"referral.letter_overdue": lambda m: unit_address(m.supervisor)},
        ),
        Audience(
            "standing_committee_office",
            "the standing committee office",
            _each(
                ("referral.letter_overdue", "duties.ballot_published", *SUGGESTION_EVENTS),
                lambda m: [addresses.office(Role.STANDING_COMMITTEE_OFFICE)],
            ),
        ),
    )
}


class UnknownAudience(ValueError):
    """A name that is not an audience."""


def audience(name: str) -> Audience:
    try:
        return AUDIENCES[name]
    except KeyError:
        raise UnknownAudience(
            f"{name!r} is not an audience: one of {', '.join(AUDIENCES)}"
        ) from None


def audiences_for(event_type: str) -> list[Audience]:
    """The audiences a rule on `event_type` may name."""
    return [a for a in AUDIENCES.values() if a.applies_to(event_type)]
