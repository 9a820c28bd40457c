"""Audiences: who of an event is told, from what the event carries."""

from __future__ import annotations

import pytest

from liaison.duties.v1 import activity_events_pb2 as aev
from liaison.duties.v1 import ballot_events_pb2 as bev
from liaison.duties.v1 import ballots_pb2 as bpb
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import rota_pb2
from liaison.referral.v1 import events_pb2 as fev
from liaison.referral.v1 import referral_pb2 as fpb
from notifications import audiences


def test_the_booker_is_the_signed_in_account_or_nobody() -> None:
    booker = audiences.audience("booker")
    signed_in = rev.BookingConfirmed(booking_id=1, owner_sub="demo:constituent")
    assert booker.addresses("reception.booking_confirmed", signed_in) == ("user:demo:constituent",)
    assert booker.addresses("reception.booking_confirmed", rev.BookingConfirmed(booking_id=2)) == ()
    # The reminder the day before tells the same account.
    due = rev.BookingReminderDue(booking_id=1, owner_sub="demo:constituent")
    assert booker.addresses("reception.booking_reminder_due", due) == ("user:demo:constituent",)


def test_the_session_deputies_are_the_rota_s_once_each() -> None:
    rota = rota_pb2.SessionRota(
        session_id=5,
        deputies=[
            rota_pb2.RotaDeputy(deputy_id=3, lead=True),
            rota_pb2.RotaDeputy(deputy_id=7),
            rota_pb2.RotaDeputy(deputy_id=3),
        ],
    )
    found = audiences.audience("session_deputies").addresses(
        "reception.rota_published", rev.RotaPublished(rota=rota)
    )
    assert found == ("deputy:3", "deputy:7")


def test_the_invited_deputies_are_those_the_invitation_names_once_each() -> None:
    invited = aev.ActivityInvitationSent(activity_id=4, street_id=1, deputy_ids=[3, 9, 3, 0])
    found = audiences.audience("invited_deputies").addresses(
        "duties.activity_invitation_sent", invited
    )
    assert found == ("deputy:3", "deputy:9")
    assert [a.name for a in audiences.audiences_for("duties.activity_invitation_sent")] == [
        "invited_deputies"
    ]


def test_a_report_meeting_tells_its_deputy_its_street_committee_and_station_staff() -> None:
    scheduled = bev.ReportMeetingScheduled(
        meeting=bpb.ReportMeeting(id=8, deputy_id=3, street_id=2, held_on="2026-12-15"),
        station_id=5,
    )
    found = {
        name: audiences.audience(name).addresses("duties.report_meeting_scheduled", scheduled)
        for name in ("deputy", "street_committee", "station_staff")
    }
    # A station's staff read their street's mailbox: a token names no station.
    assert found == {
        "deputy": ("deputy:3",),
        "street_committee": ("role:street_committee@street:2",),
        "station_staff": ("role:station_staff@street:2",),
    }


@pytest.mark.parametrize(
    ("kind", "unit_id", "address"),
    [
        (fpb.UNIT_KIND_STREET_COMMITTEE, 4, "role:street_committee@street:4"),
        (fpb.UNIT_KIND_STREET_OFFICE, 4, "role:department@street:4"),
        (fpb.UNIT_KIND_DEPARTMENT, 52, "role:department@unit:52"),
        (fpb.UNIT_KIND_WORKING_BODY, 0, "role:working_body"),
        (fpb.UNIT_KIND_STANDING_COMMITTEE_OFFICE, 0, "role:standing_committee_office"),
        (fpb.UNIT_KIND_GOVERNMENT_OFFICE, 0, "role:government_office"),
    ],
)
def test_a_referral_unit_is_its_office_s_mailbox(kind: int, unit_id: int, address: str) -> None:
    assert audiences.unit_address(fpb.Unit(kind=kind, id=unit_id)) == [address]  # type: ignore[arg-type]


def test_a_letter_s_move_tells_the_unit_it_names_and_its_supervisor_when_overdue() -> None:
    moved = fev.LetterMoved(
        kind="assigned",
        unit=fpb.Unit(kind=fpb.UNIT_KIND_DEPARTMENT, id=52),
        letter=fpb.Letter(
            id=9,
            street_id=1,
            deputy_id=1,
            handler=fpb.Unit(kind=fpb.UNIT_KIND_DEPARTMENT, id=53),
        ),
    )
    assert audiences.audience("letter_unit").addresses("referral.letter_moved", moved) == (
        "role:department@unit:52",
    )
    assert audiences.audience("handling_unit").addresses("referral.letter_moved", moved) == (
        "role:department@unit:53",
    )
    assert audiences.audience("deputy").addresses("referral.letter_moved", moved) == ("deputy:1",)
    overdue = fev.LetterOverdue(
        supervisor=fpb.Unit(kind=fpb.UNIT_KIND_STANDING_COMMITTEE_OFFICE),
        handler=fpb.Unit(kind=fpb.UNIT_KIND_STREET_OFFICE, id=1),
    )
    assert audiences.audience("supervisors").addresses("referral.letter_overdue", overdue) == (
        "role:standing_committee_office",
    )


def test_an_audience_applies_only_to_its_event_types() -> None:
    assert audiences.audience("booker").applies_to("reception.booking_confirmed")
    assert not audiences.audience("booker").applies_to("referral.letter_moved")
    with pytest.raises(ValueError, match="does not apply to referral.letter_moved"):
        audiences.audience("booker").addresses("referral.letter_moved", fev.LetterMoved())
    with pytest.raises(audiences.UnknownAudience, match="'voters' is not an audience"):
        audiences.audience("voters")
    assert {a.name for a in audiences.audiences_for("referral.letter_overdue")} >= {
        "letter_unit",
        "supervisors",
        "street_committee",
    }
