"""Visits: the street committee's own deputies, an archive with follow-ups."""

from __future__ import annotations

from datetime import date

import pytest

from duties import visits
from duties.visits import VisitNote
from kit.auth import Principal, Role
from kit.errors import FailedPrecondition, InvalidArgument, PermissionDenied, Violations

COMMITTEE = Principal(sub="c1", role=Role.STREET_COMMITTEE, street_id=1)
OTHER_COMMITTEE = Principal(sub="c2", role=Role.STREET_COMMITTEE, street_id=2)
OFFICE = Principal(sub="o", role=Role.STANDING_COMMITTEE_OFFICE)
DEPUTY = Principal(sub="d7", role=Role.DEPUTY, deputy_id=7)
TODAY = date(2026, 6, 1)
NOTE = VisitNote(date(2026, 5, 20), ("王主任", "李干事"), "林和小学", "学校周边交通拥堵")


def test_a_committee_visits_its_own_streets_serving_deputies() -> None:
    visits.check_visit(COMMITTEE, 1, True, NOTE, TODAY)
    with pytest.raises(PermissionDenied, match="deputy of street 1"):
        visits.check_visit(OTHER_COMMITTEE, 1, True, NOTE, TODAY)
    with pytest.raises(PermissionDenied, match="no street"):
        visits.check_visit(COMMITTEE, None, True, NOTE, TODAY)
    for principal in (OFFICE, DEPUTY):
        with pytest.raises(PermissionDenied, match="street committee does"):
            visits.check_visit(principal, 1, True, NOTE, TODAY)
    with pytest.raises(FailedPrecondition, match="no longer serves"):
        visits.check_visit(COMMITTEE, 1, False, NOTE, TODAY)


def test_a_visit_note_names_every_problem() -> None:
    note = VisitNote(date(2026, 6, 2), ("王主任", " "), "", "x" * 20_001)
    with pytest.raises(InvalidArgument) as raised:
        visits.check_visit(COMMITTEE, 1, True, note, TODAY)
    assert [v.field for v in raised.value.violations] == [
        "visited_on",
        "visitors[1]",
        "place",
        "raised",
    ]
    with pytest.raises(InvalidArgument) as raised:
        visits.check_visit(COMMITTEE, 1, True, VisitNote(TODAY, (), "林和小学", ""), TODAY)
    assert [v.field for v in raised.value.violations] == ["visitors"]
    old = VisitNote(date(2024, 12, 31), ("王",), "x", "")
    with pytest.raises(InvalidArgument) as raised:
        visits.check_visit(COMMITTEE, 1, True, old, TODAY)
    assert [v.field for v in raised.value.violations] == ["visited_on"]


def test_an_answer_is_added_once() -> None:
    visits.check_answer(False, "已协调交警部门")
    with pytest.raises(FailedPrecondition, match="answered already"):
        visits.check_answer(True, "另一个答复")
    with pytest.raises(InvalidArgument, match="answer"):
        visits.check_answer(False, "  ")


def test_who_reads_a_visit_and_who_was_not_visited() -> None:
    assert visits.may_read(DEPUTY, 7, 1)
    assert not visits.may_read(DEPUTY, 8, 1)
    assert visits.may_read(COMMITTEE, 8, 1)
    assert not visits.may_read(OTHER_COMMITTEE, 8, 1)
    assert visits.may_read(OFFICE, 8, 1)
    assert visits.not_visited([3, 1, 2, 5], [2, 9]) == [1, 3, 5]


def test_a_day_that_is_no_date_is_named_with_the_notes_other_problems() -> None:
    problems = Violations()
    problems.add("visited_on", "'2026-02-30' is not a date (YYYY-MM-DD)")
    note = VisitNote(None, (), "林和小学", "")
    with pytest.raises(InvalidArgument) as raised:
        visits.check_visit(COMMITTEE, 1, True, note, TODAY, problems)
    assert [(v.field, v.description) for v in raised.value.violations] == [
        ("visited_on", "'2026-02-30' is not a date (YYYY-MM-DD)"),
        ("visitors", "name at least one visitor"),
    ]
