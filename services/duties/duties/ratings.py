"""Constituents' online ratings of deputies: the rules, without I/O.

A signed-in constituent rates a deputy once a year (the year of the day the
rating is given, Asia/Shanghai): satisfied / basically satisfied /
dissatisfied (满意、基本满意、不满意), with an optional comment. The public
sees counts by level per year and the comments that are published (not
hidden by moderation), never who rated. Anyone signed in may report a
comment as abusive, once per rating; the staff who moderate (the street
committee of the deputy's street, the standing committee office, admins)
hide or restore it with a reason.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kit.auth import Principal, Role
from kit.errors import PermissionDenied, Violations

MAX_COMMENT = 500
MAX_REASON = 500
FIRST_YEAR = 2000
LAST_YEAR = 2100


class Level(enum.StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class Moderation(enum.StrEnum):
    HIDE = "hide"
    RESTORE = "restore"


MODERATORS = (Role.STREET_COMMITTEE, Role.STANDING_COMMITTEE_OFFICE, Role.ADMIN)


def clean_text(v: Violations, field: str, text: str, limit: int, *, required: bool) -> str:
    """`text` trimmed, or a violation naming `field`."""
    text = text.strip()
    if required and not text:
        v.add(field, "is required")
    elif len(text) > limit:
        v.add(field, f"is longer than {limit} characters")
    elif any(ord(c) < 32 and c not in "\n\t" for c in text):
        v.add(field, "holds control characters")
    return text


def check_year(v: Violations, field: str, year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        v.add(field, f"must be a year between {FIRST_YEAR} and {LAST_YEAR}")


def may_moderate(who: Principal, deputy_street_id: int | None) -> bool:
    """Whether `who` moderates the ratings of a deputy of that street."""
    if who.role in (Role.STANDING_COMMITTEE_OFFICE, Role.ADMIN):
        return True
    return (
        who.role is Role.STREET_COMMITTEE
        and deputy_street_id is not None
        and who.street_id == deputy_street_id
    )


def require_moderator(who: Principal, deputy_id: int, deputy_street_id: int | None) -> None:
    if not may_moderate(who, deputy_street_id):
        mine = f" of street {who.street_id}" if who.street_id else ""
        raise PermissionDenied(
            f"a {who.role.value}{mine} may not moderate the ratings of deputy {deputy_id}"
        )


@dataclass(frozen=True)
class LevelCounts:
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0

    @property
    def total(self) -> int:
        return self.satisfied + self.basically_satisfied + self.dissatisfied

    @property
    def satisfied_share(self) -> float:
        """Satisfied and basically satisfied, of all (0 when none)."""
        return (self.satisfied + self.basically_satisfied) / self.total if self.total else 0.0

    @classmethod
    def of(cls, counts: dict[str, int]) -> LevelCounts:
        return cls(**{level.value: int(counts.get(level.value, 0)) for level in Level})
