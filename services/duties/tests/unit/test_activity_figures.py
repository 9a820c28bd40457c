"""Activity figures by kind, street and district for a year."""

from __future__ import annotations

from duties import activity_figures
from duties.activity_figures import ActivityRow


def test_counts_by_kind_street_and_district() -> None:
    rows = [
        ActivityRow("training", 1, 2026, ("attended", "attended", "absent_with_leave")),
        ActivityRow("training", 2, 2026, ("attended", None)),
        ActivityRow("inspection", None, 2026, ("attended", "absent", "attended")),
        ActivityRow("forum", 1, 2025, ("attended",)),  # another year
    ]
    figures = activity_figures.count(rows, 2026)
    assert figures.district["training"].activities == 2
    assert figures.district["training"].person_times == 3
    assert figures.district["training"].invited == 5
    assert figures.district["inspection"].person_times == 2
    assert figures.district["inspection"].absent == 1
    assert figures.district["forum"].activities == 0
    total = figures.district_total
    assert (total.activities, total.invited, total.person_times) == (3, 8, 5)
    assert total.absent_with_leave == 1
    # The district's own inspection counts for no street.
    assert set(figures.by_street) == {1, 2}
    assert figures.street_total(1).person_times == 2
    assert figures.by_street[2]["training"].invited == 2


def test_one_streets_figures() -> None:
    rows = [
        ActivityRow("training", 1, 2026, ("attended",)),
        ActivityRow("forum", 2, 2026, ("attended", "attended")),
        ActivityRow("inspection", None, 2026, ("attended",)),
    ]
    figures = activity_figures.count(rows, 2026, street_id=2)
    assert figures.district_total.person_times == 2
    assert set(figures.by_street) == {2}
