"""The year's letter figures from letters' rows: counts by street, handling
unit and month, days to answer, satisfaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from referral import figures
from referral.figures import Row

NOW = datetime(2026, 6, 30, tzinfo=UTC)
T = datetime(2026, 1, 31, 17, tzinfo=UTC)  # 1 February, 01:00 in Shanghai
HOUSING = ("department", 52)
OFFICE = ("street_office", 1)


def row(stage: str, **changes: object) -> Row:
    values: dict[str, object] = {
        "street_id": 1,
        "stage": stage,
        "route": "district",
        "handler": HOUSING,
        "opened_at": T,
        "received_at": T + timedelta(days=2),
        "answered_at": None,
        "due_at": T + timedelta(days=92),
    }
    return Row(**(values | changes))  # type: ignore[arg-type]


def test_counts_by_street_handler_month_and_stage() -> None:
    rows = [
        row("jurisdiction", route=None, handler=None, received_at=None, due_at=None),
        row("in_hand"),  # due in May: overdue at the end of June
        row("in_hand", due_at=NOW + timedelta(days=3)),
        row("awaiting_receipt", received_at=None, due_at=None, street_id=2),
        row("answered", answered_at=T + timedelta(days=12)),
        row("closed", answered_at=T + timedelta(days=32), ratings=(("deputy", "satisfied"),)),
        row(
            "closed",
            route="street",
            handler=OFFICE,
            answered_at=T + timedelta(days=7),
            ratings=(("deputy", "dissatisfied"), ("constituent", "basically_satisfied")),
        ),
    ]
    got = figures.count(rows, NOW)
    t = got.totals
    assert (t.received, t.referred, t.answered, t.in_hand, t.overdue, t.closed) == (
        7,
        5,
        3,
        3,
        1,
        2,
    )
    assert got.by_street[2].received == 1 and got.by_street[1].received == 6
    assert got.by_handler[HOUSING].received == 5 and got.by_handler[OFFICE].answered == 1
    assert sorted(got.days_by_handler[HOUSING]) == [10.0, 30.0]
    assert got.received_by_month == {"2026-02": 7}  # Shanghai's month, not UTC's January
    assert got.answered_by_month == {"2026-02": 2, "2026-03": 1}
    assert got.open_by_stage == {
        "jurisdiction": 1,
        "in_hand": 2,
        "awaiting_receipt": 1,
        "answered": 1,
    }
    assert got.satisfaction == {"satisfied": 1, "dissatisfied": 1, "basically_satisfied": 1}


def test_quantiles_by_nearest_rank() -> None:
    assert figures.quantile([], 0.5) == 0.0
    days = [float(d) for d in range(1, 11)]
    assert figures.quantile(days, 0.5) == 5.0
    assert figures.quantile(days, 0.9) == 9.0
    assert figures.quantile([3.14159], 0.9) == 3.1
