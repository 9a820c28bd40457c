"""Activities: who organises, invites, signs up and records attendance, and when."""

from __future__ import annotations

from datetime import date

import pytest

from duties import activities
from duties.activities import ActivityPlan, Invitee, OrganiserLevel, Scope
from kit.auth import Principal, Role
from kit.errors import FailedPrecondition, InvalidArgument, PermissionDenied, Violations

COMMITTEE = Principal(sub="c1", role=Role.STREET_COMMITTEE, street_id=1)
OTHER_COMMITTEE = Principal(sub="c2", role=Role.STREET_COMMITTEE, street_id=2)
STATION = Principal(sub="s1", role=Role.STATION_STAFF, street_id=1)
OFFICE = Principal(sub="o", role=Role.STANDING_COMMITTEE_OFFICE)
ADMIN = Principal(sub="a", role=Role.ADMIN)
DEPUTY = Principal(sub="d7", role=Role.DEPUTY, deputy_id=7)
DAY = date(2026, 5, 12)


def plan(**changes: object) -> ActivityPlan:
    values: dict[str, object] = {
        "kind": "training",
        "title": "代表履职培训",
        "starts_on": DAY,
        "ends_on": None,
        "place": "林和街道代表之家",
        "organiser": "林和街道人大工委",
    }
    return ActivityPlan(**(values | changes))  # type: ignore[arg-type]


def test_each_organiser_has_its_level_and_others_organise_nothing() -> None:
    assert activities.level_of(COMMITTEE) == OrganiserLevel.STREET
    assert activities.level_of(STATION) == OrganiserLevel.STATION
    assert activities.level_of(OFFICE) == OrganiserLevel.DISTRICT
    for principal in (ADMIN, DEPUTY, Principal(sub="x", role=Role.CONSTITUENT)):
        with pytest.raises(PermissionDenied, match="may not organise"):
            activities.level_of(principal)


def test_a_plan_names_every_problem_at_once() -> None:
    with pytest.raises(InvalidArgument) as raised:
        activities.check_plan(
            plan(kind="picnic", title=" ", place="", ends_on=date(2026, 5, 1)),
            OrganiserLevel.STATION,
        )
    fields = [v.field for v in raised.value.violations]
    assert fields == ["kind", "title", "place", "ends_on", "station_id"]


def test_a_one_day_activity_ends_on_its_first_day_and_a_long_one_is_refused() -> None:
    assert activities.check_plan(plan(), OrganiserLevel.STREET) == (DAY, DAY)
    assert activities.check_plan(plan(ends_on=date(2026, 5, 14)), OrganiserLevel.STREET) == (
        DAY,
        date(2026, 5, 14),
    )
    with pytest.raises(InvalidArgument, match="cannot be scheduled"):
        activities.check_plan(plan(ends_on=date(2026, 6, 12)), OrganiserLevel.STREET)


def test_scope_is_the_callers_street_below_the_district() -> None:
    assert activities.scope_for(COMMITTEE, plan()) == Scope(OrganiserLevel.STREET, 1)
    assert activities.scope_for(STATION, plan(station_id=4)) == Scope(OrganiserLevel.STATION, 1, 4)
    assert activities.scope_for(OFFICE, plan()) == Scope(OrganiserLevel.DISTRICT, None)


def test_the_organiser_is_the_streets_staff_or_for_the_district_the_office() -> None:
    street = Scope(OrganiserLevel.STATION, 1, 4)
    activities.require_organiser(COMMITTEE, street, "invite")
    activities.require_organiser(STATION, street, "invite")
    for principal in (OTHER_COMMITTEE, OFFICE, ADMIN, DEPUTY):
        with pytest.raises(PermissionDenied, match="belongs to street 1"):
            activities.require_organiser(principal, street, "invite")
    district = Scope(OrganiserLevel.DISTRICT, None)
    activities.require_organiser(OFFICE, district, "invite")
    with pytest.raises(PermissionDenied, match="standing committee office"):
        activities.require_organiser(COMMITTEE, district, "invite")


def test_a_street_organiser_invites_only_serving_deputies_of_its_street() -> None:
    street = Scope(OrganiserLevel.STREET, 1)
    activities.check_invitees(street, [Invitee(7, 1, True)], DAY, DAY)
    with pytest.raises(PermissionDenied) as raised:
        activities.check_invitees(
            street, [Invitee(7, 1, True), Invitee(8, 2, True), Invitee(9, 1, False)], DAY, DAY
        )
    assert [(v.field, v.description) for v in raised.value.violations] == [
        (
            "deputy_ids[1]",
            "deputy 8 is not a deputy of street 1 (the organiser invites its own street's deputies)",
        ),
        ("deputy_ids[2]", "deputy 9 no longer serves"),
    ]
    # The district invites any street's deputies.
    activities.check_invitees(Scope(OrganiserLevel.DISTRICT, None), [Invitee(8, 2, True)], DAY, DAY)


def test_no_invitation_after_the_last_day() -> None:
    with pytest.raises(FailedPrecondition, match="ended on 2026-05-12"):
        activities.check_invitees(
            Scope(OrganiserLevel.STREET, 1), [Invitee(7, 1, True)], DAY, date(2026, 5, 13)
        )


def test_only_the_invited_deputy_signs_up_until_the_first_day() -> None:
    activities.check_sign_up(DEPUTY, 7, True, DAY, DAY)
    with pytest.raises(PermissionDenied, match="for themself"):
        activities.check_sign_up(DEPUTY, 8, True, DAY, DAY)
    with pytest.raises(PermissionDenied, match="for themself"):
        activities.check_sign_up(COMMITTEE, 7, True, DAY, DAY)
    with pytest.raises(PermissionDenied, match="not invited"):
        activities.check_sign_up(DEPUTY, 7, False, DAY, DAY)
    with pytest.raises(FailedPrecondition, match="sign-up closed"):
        activities.check_sign_up(DEPUTY, 7, True, DAY, date(2026, 5, 13))


def test_attendance_from_the_first_day_for_invited_deputies_and_final_once_recorded() -> None:
    invited = {7, 8, 9}
    with pytest.raises(FailedPrecondition, match="from the activity's first day"):
        activities.check_attendance({7: "attended"}, invited, {}, DAY, date(2026, 5, 11))
    new = activities.check_attendance(
        {7: "attended", 8: "absent_with_leave", 9: "absent"}, invited, {9: "absent"}, DAY, DAY
    )
    assert new == {7: "attended", 8: "absent_with_leave"}
    with pytest.raises(InvalidArgument) as raised:
        activities.check_attendance({7: "late", 10: "attended"}, invited, {}, DAY, DAY)
    assert [v.field for v in raised.value.violations] == ["entries[7]", "entries[10]"]
    with pytest.raises(FailedPrecondition, match="final") as final:
        activities.check_attendance({7: "absent"}, invited, {7: "attended"}, DAY, DAY)
    assert "recorded already as attended" in final.value.violations[0].description
    with pytest.raises(FailedPrecondition, match="no attendance given"):
        activities.check_attendance({}, invited, {}, DAY, DAY)


def test_who_reads_an_activity() -> None:
    street = Scope(OrganiserLevel.STREET, 1)
    assert activities.may_read(COMMITTEE, street, False)
    assert activities.may_read(STATION, street, False)
    assert not activities.may_read(OTHER_COMMITTEE, street, False)
    assert activities.may_read(OFFICE, street, False)
    assert activities.may_read(DEPUTY, street, True)
    assert not activities.may_read(DEPUTY, street, False)
    assert activities.may_read(DEPUTY, Scope(OrganiserLevel.DISTRICT, None), False)
    assert not activities.may_read(Principal(sub="x", role=Role.CONSTITUENT), street, True)


def test_a_day_that_is_no_date_is_named_with_the_plans_other_problems() -> None:
    problems = Violations()
    problems.add("starts_on", "'2026-13-01' is not a date (YYYY-MM-DD)")
    with pytest.raises(InvalidArgument) as raised:
        activities.check_plan(plan(starts_on=None, title=""), OrganiserLevel.STREET, problems)
    assert [(v.field, v.description) for v in raised.value.violations] == [
        ("starts_on", "'2026-13-01' is not a date (YYYY-MM-DD)"),
        ("title", "is required"),
    ]
