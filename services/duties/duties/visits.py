"""The street committee's visits to its deputies (走访), as pure rules.

Each street committee visits every deputy of its street at least once a
year, at the deputy's workplace, and keeps the record as an archive: the
visit (when, who visited, where, what the deputy raised) is written once;
follow-ups are appended later, and each follow-up's answer is added once.
Nothing is edited or deleted.

Readers: the visited deputy, their street's committee, the district
offices (standing committee office; an administrator).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from kit.auth import Principal, Role
from kit.errors import FailedPrecondition, PermissionDenied, Violations, invalid

PLACE_MAX = 200
VISITOR_MAX = 50
VISITORS_MAX = 10
TEXT_MAX = 20_000


@dataclass(frozen=True)
class VisitNote:
    visited_on: date | None
    visitors: tuple[str, ...]  # committee staff's names
    place: str  # the deputy's workplace
    raised: str  # what the deputy raised


def require_committee_of(principal: Principal, street_id: int | None, doing: str) -> None:
    """The street committee of `street_id`, and no one else, writes its visits."""
    if principal.role != Role.STREET_COMMITTEE:
        raise PermissionDenied(
            f"role {principal.role.value} may not {doing}: the deputy's street committee does"
        )
    if street_id is None or principal.street_id != street_id:
        raise PermissionDenied(
            f"a street committee of street {principal.street_id} may not {doing}: "
            f"the deputy is a deputy of {f'street {street_id}' if street_id else 'no street'}"
        )


def check_visit(
    principal: Principal,
    deputy_street_id: int | None,
    deputy_active: bool,
    note: VisitNote,
    today: date,
    problems: Violations | None = None,
) -> None:
    """A visit the caller may record: its own street's serving deputy, on a
    day not in the future; every problem of the note at once, with those
    already in `problems` (a day that is no date)."""
    require_committee_of(principal, deputy_street_id, "record a visit to this deputy")
    if not deputy_active:
        raise FailedPrecondition("the deputy no longer serves: no visit is recorded")
    problems = problems if problems is not None else Violations()
    if not any(v.field == "visited_on" for v in problems.items):
        _check_day(problems, note.visited_on, today)
    names = [v.strip() for v in note.visitors]
    if not any(names):
        problems.add("visitors", "name at least one visitor")
    elif len(names) > VISITORS_MAX:
        problems.add("visitors", f"at most {VISITORS_MAX} visitors")
    for index, name in enumerate(names):
        if not name:
            problems.add(f"visitors[{index}]", "is empty")
        elif len(name) > VISITOR_MAX:
            problems.add(f"visitors[{index}]", f"is longer than {VISITOR_MAX} characters")
    if not note.place.strip():
        problems.add("place", "is required (the deputy's workplace)")
    elif len(note.place) > PLACE_MAX:
        problems.add("place", f"is longer than {PLACE_MAX} characters")
    if len(note.raised) > TEXT_MAX:
        problems.add("raised", f"is longer than {TEXT_MAX} characters")
    problems.raise_if_any("the visit cannot be recorded")


def _check_day(problems: Violations, visited_on: date | None, today: date) -> None:
    if visited_on is None:
        problems.add("visited_on", "is required")
    elif visited_on > today:
        problems.add("visited_on", "is in the future: record a visit once made")
    elif visited_on.year < today.year - 1:
        problems.add("visited_on", "is more than a year back")


def check_text(field: str, text: str) -> None:
    if not text.strip():
        raise invalid(field, "is required")
    if len(text) > TEXT_MAX:
        raise invalid(field, f"is longer than {TEXT_MAX} characters")


def check_answer(answered: bool, text: str) -> None:
    """A follow-up's answer is added once."""
    check_text("answer", text)
    if answered:
        raise FailedPrecondition(
            "the follow-up is answered already: the archive keeps the first answer"
        )


def may_read(principal: Principal, deputy_id: int, street_id: int | None) -> bool:
    if principal.role in (Role.STANDING_COMMITTEE_OFFICE, Role.ADMIN, Role.SYSTEM):
        return True
    if principal.role == Role.STREET_COMMITTEE:
        return street_id is not None and principal.street_id == street_id
    return principal.role == Role.DEPUTY and principal.deputy_id == deputy_id


def not_visited(deputy_ids: Iterable[int], visited: Iterable[int]) -> list[int]:
    """The street's deputies without a visit in the year, in id order."""
    return sorted(set(deputy_ids) - set(visited))
