"""Deputies' activities between sessions (代表活动), trainings included, as
pure rules: who may organise, invite, sign up and record attendance, and
when. No database, no gRPC; the service stores what the rules allow.

An activity is organised at one of three levels:
- a street committee's, for its street's deputies;
- a station's, by the station staff of the station's street, for the same
  street's deputies;
- the district's, by the standing committee office, for any deputy.

    schedule (the organiser) -> invite deputies (the organiser, within its
    scope) -> sign up (each invited deputy, until the first day) -> record
    attendance (the organiser, from the first day on): attended / absent
    with leave / absent

Decisions the seed leaves open, made here:
- the organiser of a street or station activity is any street committee or
  station staff of that street, so a committee can record the attendance of
  an activity its station held; the district's are the standing committee
  office's; an administrator takes no action here;
- an invited deputy may attend without having signed up;
- attendance once recorded is final (a second, different recording is
  refused): the duty record counts what was recorded. Corrections are not
  built yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from kit.auth import Principal, Role
from kit.errors import FailedPrecondition, PermissionDenied, Violations

TITLE_MAX = 200
PLACE_MAX = 200
# A training course or an inspection tour may last some days, not a season.
LONGEST_DAYS = 31


class ActivityKind(StrEnum):
    TRAINING = "training"
    INSPECTION = "inspection"  # 视察
    FORUM = "forum"
    RESEARCH_TRIP = "research_trip"
    JOINT_STREET_EVENT = "joint_street_event"


class OrganiserLevel(StrEnum):
    STREET = "street"
    STATION = "station"
    DISTRICT = "district"


class Attendance(StrEnum):
    ATTENDED = "attended"
    ABSENT_WITH_LEAVE = "absent_with_leave"
    ABSENT = "absent"


ORGANISING_ROLES = {
    OrganiserLevel.STREET: Role.STREET_COMMITTEE,
    OrganiserLevel.STATION: Role.STATION_STAFF,
    OrganiserLevel.DISTRICT: Role.STANDING_COMMITTEE_OFFICE,
}
STREET_ORGANISERS = frozenset({Role.STREET_COMMITTEE, Role.STATION_STAFF})


@dataclass(frozen=True)
class ActivityPlan:
    """What the organiser gives to schedule an activity."""

    kind: str
    title: str
    starts_on: date | None
    ends_on: date | None
    place: str
    organiser: str  # the organising body's name as shown, e.g. "林和街道人大工委"
    station_id: int | None = None


@dataclass(frozen=True)
class Scope:
    """Where an activity belongs: its level and, below the district, its street."""

    level: OrganiserLevel
    street_id: int | None
    station_id: int | None = None


def level_of(principal: Principal) -> OrganiserLevel:
    """The level at which the caller organises; PERMISSION_DENIED for a
    role that organises no activity."""
    for level, role in ORGANISING_ROLES.items():
        if principal.role == role:
            return level
    raise PermissionDenied(
        f"role {principal.role.value} may not organise activities: a street committee, "
        "a station's staff or the standing committee office does"
    )


def check_plan(
    plan: ActivityPlan, level: OrganiserLevel, problems: Violations | None = None
) -> tuple[date, date]:
    """Every problem of a plan at once (INVALID_ARGUMENT), with those already
    in `problems` (its dates that are no dates); its first and last day."""
    problems = problems if problems is not None else Violations()
    named = {v.field for v in problems.items}
    problems.one_of("kind", plan.kind, [k.value for k in ActivityKind])
    for name, value, longest in (
        ("title", plan.title, TITLE_MAX),
        ("place", plan.place, PLACE_MAX),
        ("organiser", plan.organiser, TITLE_MAX),
    ):
        if not value.strip():
            problems.add(name, "is required")
        elif len(value) > longest:
            problems.add(name, f"is longer than {longest} characters")
    if plan.starts_on is None and "starts_on" not in named:
        problems.add("starts_on", "is required")
    ends_on = plan.ends_on or plan.starts_on
    if plan.starts_on and ends_on:
        if ends_on < plan.starts_on:
            problems.add("ends_on", "is before starts_on")
        elif (ends_on - plan.starts_on).days >= LONGEST_DAYS:
            problems.add("ends_on", f"an activity lasts at most {LONGEST_DAYS} days")
    if level == OrganiserLevel.STATION and not plan.station_id:
        problems.add("station_id", "is required for a station's activity")
    problems.raise_if_any("the activity cannot be scheduled")
    assert plan.starts_on is not None and ends_on is not None
    return plan.starts_on, ends_on


def scope_for(principal: Principal, plan: ActivityPlan) -> Scope:
    """The scope of an activity the caller schedules: its own street below the
    district. The station's street is checked by the service (registry)."""
    level = level_of(principal)
    if level == OrganiserLevel.DISTRICT:
        return Scope(level, None)
    if principal.street_id is None:
        raise PermissionDenied(f"a {principal.role.value} token without a street organises nothing")
    station = plan.station_id if level == OrganiserLevel.STATION else None
    return Scope(level, principal.street_id, station)


def require_organiser(principal: Principal, scope: Scope, doing: str) -> None:
    """Refuse unless the caller organises activities of `scope`."""
    if scope.level == OrganiserLevel.DISTRICT:
        if principal.role == Role.STANDING_COMMITTEE_OFFICE:
            return
        raise PermissionDenied(
            f"role {principal.role.value} may not {doing}: a district activity is "
            "the standing committee office's"
        )
    if principal.role in STREET_ORGANISERS and principal.street_id == scope.street_id:
        return
    raise PermissionDenied(
        f"role {principal.role.value} may not {doing}: the activity belongs to "
        f"street {scope.street_id}; its street committee or station staff organise it"
    )


def may_read(principal: Principal, scope: Scope, invited_deputy: bool) -> bool:
    """Staff of the activity's street and the district read it; a deputy
    reads the activities they are invited to, and every district activity."""
    if principal.role in (Role.STANDING_COMMITTEE_OFFICE, Role.ADMIN, Role.SYSTEM):
        return True
    if principal.role in STREET_ORGANISERS:
        return scope.street_id is not None and principal.street_id == scope.street_id
    if principal.role == Role.DEPUTY:
        return invited_deputy or scope.level == OrganiserLevel.DISTRICT
    return False


@dataclass(frozen=True)
class Invitee:
    """What the registry tells of a deputy named in an invitation."""

    deputy_id: int
    street_id: int | None
    active: bool


def check_invitees(scope: Scope, invitees: list[Invitee], last_day: date, today: date) -> None:
    """Refuse an invitation naming a deputy outside the organiser's scope or
    no longer serving, or an activity already over (nothing is invited)."""
    if today > last_day:
        raise FailedPrecondition(
            f"the activity ended on {last_day.isoformat()}: no more invitations"
        )
    problems = Violations()
    for index, invitee in enumerate(invitees):
        where = f"deputy_ids[{index}]"
        if not invitee.active:
            problems.add(where, f"deputy {invitee.deputy_id} no longer serves")
        elif scope.level != OrganiserLevel.DISTRICT and invitee.street_id != scope.street_id:
            problems.add(
                where,
                f"deputy {invitee.deputy_id} is not a deputy of street {scope.street_id}"
                " (the organiser invites its own street's deputies)",
            )
    if problems:
        raise PermissionDenied(
            "the invitation names deputies outside the organiser's scope",
            problems.items,
        )


def check_sign_up(
    principal: Principal, deputy_id: int, invited: bool, first_day: date, today: date
) -> None:
    """An invited deputy signs up for themself, until the first day."""
    if principal.role != Role.DEPUTY or principal.deputy_id != deputy_id:
        raise PermissionDenied("only the invited deputy signs up, for themself")
    if not invited:
        raise PermissionDenied(f"deputy {deputy_id} is not invited to this activity")
    if today > first_day:
        raise FailedPrecondition(
            f"sign-up closed when the activity began on {first_day.isoformat()}"
        )


def check_attendance(
    entries: dict[int, str],
    invited: set[int],
    recorded: dict[int, str],
    first_day: date,
    today: date,
) -> dict[int, Attendance]:
    """The entries to store (deputy id -> attendance), without those already
    recorded alike. Refused whole when an entry is unknown, names a deputy
    not invited, or contradicts what is recorded; or before the first day."""
    if today < first_day:
        raise FailedPrecondition(
            f"attendance is recorded from the activity's first day, {first_day.isoformat()}"
        )
    if not entries:
        raise FailedPrecondition("no attendance given: name each deputy and their attendance")
    problems, contradicted = Violations(), Violations()
    new: dict[int, Attendance] = {}
    allowed = [a.value for a in Attendance]
    for deputy_id, value in sorted(entries.items()):
        where = f"entries[{deputy_id}]"
        if value not in allowed:
            problems.one_of(where, value, allowed)
        elif deputy_id not in invited:
            problems.add(where, f"deputy {deputy_id} was not invited")
        elif deputy_id in recorded and recorded[deputy_id] != value:
            contradicted.add(
                where,
                f"deputy {deputy_id}'s attendance is recorded already as {recorded[deputy_id]}",
            )
        elif deputy_id not in recorded:
            new[deputy_id] = Attendance(value)
    problems.raise_if_any("the attendance cannot be recorded")
    if contradicted:
        raise FailedPrecondition("attendance once recorded is final", contradicted.items)
    return new
