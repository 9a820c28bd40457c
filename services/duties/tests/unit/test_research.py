"""Research: proposal, grant against the street's budget line, report, acknowledgement."""

from __future__ import annotations

import pytest

from duties import research
from duties.research import BudgetLine, Proposal
from kit.auth import Principal, Role
from kit.errors import FailedPrecondition, InvalidArgument, PermissionDenied

DEPUTY = Principal(sub="d7", role=Role.DEPUTY, deputy_id=7)
COMMITTEE = Principal(sub="c1", role=Role.STREET_COMMITTEE, street_id=1, unit_id=11)
OTHER_COMMITTEE = Principal(sub="c2", role=Role.STREET_COMMITTEE, street_id=2, unit_id=12)
OFFICE = Principal(sub="o", role=Role.STANDING_COMMITTEE_OFFICE)
LINE = BudgetLine(
    id=5, unit_id=11, street_id=1, year=2026, operations=True, active=True, amount_yuan=30_000
)


def grant(amount: int, granted: int = 0, line: BudgetLine = LINE, **changes: object) -> int:
    values: dict[str, object] = {
        "street_id": 1,
        "state": "proposed",
        "year": 2026,
        "amount_requested_yuan": 20_000,
    }
    values |= changes
    principal = values.pop("principal", COMMITTEE)
    return research.check_grant(
        principal,  # type: ignore[arg-type]
        amount_yuan=amount,
        line=line,
        granted_yuan=granted,
        **values,  # type: ignore[arg-type]
    )


def test_a_deputy_proposes_for_themself_with_every_problem_named() -> None:
    good = Proposal("老旧小区加装电梯调研", "走访三个社区", 8_000, 2026)
    research.check_proposal(DEPUTY, 7, good, 2026)
    with pytest.raises(PermissionDenied):
        research.check_proposal(DEPUTY, 8, good, 2026)
    with pytest.raises(PermissionDenied):
        research.check_proposal(COMMITTEE, 7, good, 2026)
    with pytest.raises(InvalidArgument) as raised:
        research.check_proposal(DEPUTY, 7, Proposal("", " ", 0, 2024), 2026)
    assert [v.field for v in raised.value.violations] == [
        "title",
        "plan",
        "amount_requested_yuan",
        "year",
    ]


def test_the_remaining_amount_is_the_line_less_its_grants() -> None:
    assert research.remaining_yuan(LINE, 0) == 30_000
    assert research.remaining_yuan(LINE, 22_500) == 7_500
    assert research.remaining_yuan(LINE, 31_000) == 0


def test_a_grant_up_to_the_remaining_amount_and_not_a_yuan_more() -> None:
    assert grant(10_000, granted=20_000) == 0
    with pytest.raises(FailedPrecondition, match="exceeds budget line 5's remaining 9999 yuan"):
        grant(10_000, granted=20_001)


def test_a_grant_is_positive_and_at_most_what_was_requested() -> None:
    with pytest.raises(InvalidArgument, match="amount_yuan"):
        grant(0)
    with pytest.raises(InvalidArgument, match="more than the 20000 yuan requested"):
        grant(20_001)


def test_only_the_deputys_street_committee_grants_from_its_own_operations_line() -> None:
    with pytest.raises(PermissionDenied, match="street 1"):
        grant(1_000, principal=OTHER_COMMITTEE)
    with pytest.raises(PermissionDenied):
        grant(1_000, principal=OFFICE)
    with pytest.raises(PermissionDenied, match="unit 12's, not street 1's"):
        grant(1_000, line=BudgetLine(5, 12, 2, 2026, True, True, 30_000))
    with pytest.raises(PermissionDenied, match="not street 1's"):
        grant(1_000, line=BudgetLine(5, 13, None, 2026, True, True, 30_000))
    with pytest.raises(InvalidArgument) as raised:
        grant(1_000, line=BudgetLine(5, 11, 1, 2025, False, False, 30_000))
    assert [v.description for v in raised.value.violations] == [
        "budget line 5 is deactivated",
        "budget line 5 is for 2025, not 2026",
        "budget line 5 is a personnel line",
    ]
    with pytest.raises(FailedPrecondition, match="is approved"):
        grant(1_000, state="approved")


def test_decline_report_and_acknowledge_in_their_order() -> None:
    research.check_decline(COMMITTEE, 1, "proposed", "题目与上次重复")
    with pytest.raises(InvalidArgument, match="reason"):
        research.check_decline(COMMITTEE, 1, "proposed", " ")
    research.check_report(DEPUTY, 7, "approved", "调研报告正文")
    with pytest.raises(FailedPrecondition, match="only a approved one"):
        research.check_report(DEPUTY, 7, "proposed", "调研报告正文")
    with pytest.raises(PermissionDenied):
        research.check_report(
            Principal(sub="d8", role=Role.DEPUTY, deputy_id=8), 7, "approved", "x"
        )
    research.check_acknowledge(OFFICE, "reported")
    with pytest.raises(PermissionDenied):
        research.check_acknowledge(COMMITTEE, "reported")
    with pytest.raises(FailedPrecondition):
        research.check_acknowledge(OFFICE, "acknowledged")


def test_who_reads_research() -> None:
    assert research.may_read(DEPUTY, 7, 1)
    assert not research.may_read(DEPUTY, 8, 1)
    assert research.may_read(COMMITTEE, 8, 1)
    assert not research.may_read(OTHER_COMMITTEE, 8, 1)
    assert research.may_read(OFFICE, 8, 1)
