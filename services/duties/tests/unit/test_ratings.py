"""Ratings' rules without I/O: who moderates, comment checks, the counts."""

from __future__ import annotations

import pytest

from duties.ratings import (
    MAX_COMMENT,
    LevelCounts,
    check_year,
    clean_text,
    may_moderate,
    require_moderator,
)
from kit.auth import Principal, Role
from kit.errors import PermissionDenied, Violations


def who(role: Role, street: int | None = None) -> Principal:
    return Principal(sub=f"u-{role.value}", role=role, street_id=street)


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [
        (who(Role.STREET_COMMITTEE, 4), True),
        (who(Role.STREET_COMMITTEE, 5), False),
        (who(Role.STANDING_COMMITTEE_OFFICE), True),
        (who(Role.ADMIN), True),
        (who(Role.STATION_STAFF, 4), False),
        (who(Role.DEPUTY, 4), False),
        (who(Role.CONSTITUENT), False),
        (who(Role.WORKING_BODY), False),
    ],
)
def test_who_moderates_a_deputy_of_street_4(caller: Principal, allowed: bool) -> None:
    assert may_moderate(caller, 4) is allowed


def test_a_refused_moderator_is_told_which_deputy() -> None:
    with pytest.raises(PermissionDenied, match="deputy 12"):
        require_moderator(who(Role.STREET_COMMITTEE, 5), 12, 4)


def test_a_comment_is_trimmed_and_limited() -> None:
    v = Violations()
    assert clean_text(v, "comment", "  好  ", MAX_COMMENT, required=False) == "好"
    assert not v
    clean_text(v, "comment", "x" * (MAX_COMMENT + 1), MAX_COMMENT, required=False)
    clean_text(v, "reason", "  ", 100, required=True)
    clean_text(v, "comment", "a\x00b", MAX_COMMENT, required=False)
    check_year(v, "year", 1999)
    assert [(i.field, i.description) for i in v.items] == [
        ("comment", f"is longer than {MAX_COMMENT} characters"),
        ("reason", "is required"),
        ("comment", "holds control characters"),
        ("year", "must be a year between 2000 and 2100"),
    ]


def test_counts_and_the_satisfied_share() -> None:
    counts = LevelCounts.of({"satisfied": 3, "basically_satisfied": 1, "dissatisfied": 4})
    assert counts.total == 8
    assert counts.satisfied_share == 0.5
    assert LevelCounts().satisfied_share == 0.0
