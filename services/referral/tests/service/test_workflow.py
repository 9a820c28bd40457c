"""The letter's workflow served over gRPC, on PostgreSQL: each action by
whose turn it is, stored with its trail entry and its `letter_moved`
events in one commit; the legal deadline set at the handling unit's
receipt and moved by an approved extension; a refused action (out of turn,
by the wrong unit, bad input, past the legal limit) changes nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import grpc
import pytest

from kit.workdays import SHANGHAI
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import referral_pb2 as pb
from referral.service import OPENER

pytestmark = [pytest.mark.postgres]

STREET = 1
DEPUTY = 1  # the demo deputy's id
HOUSING, TRANSPORT = 52, 53  # the demo department's id, and another
_ids = itertools.count(500_000)

COMMITTEE = "street-committee"
DEPUTY_DIRECTOR = "street-deputy-director"
DIRECTOR = "street-director"
STREET_OFFICE = "street-office"
OTHER_DEPARTMENT = {"sub": "test:transport", "role": "department", "unit_id": TRANSPORT}


def test_the_street_route_from_opening_to_closing(api: Any, open_letter: Any) -> None:
    letter_id = open_letter()
    events = api.moved_events()
    got = api.as_(COMMITTEE).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_STREET)
    )
    assert got.stage == pb.LETTER_STAGE_DEPUTY_SIGN_OFF
    assert got.route == pb.ROUTE_STREET
    assert got.HasField("stage_due_at")  # the sign-offs' clock runs

    got = api.as_("deputy").SignOff(pb.SignOffRequest(letter_id=letter_id, comment="情况属实"))
    assert got.stage == pb.LETTER_STAGE_DEPUTY_DIRECTOR_SIGN_OFF
    got = api.as_(DEPUTY_DIRECTOR).SignOff(pb.SignOffRequest(letter_id=letter_id, comment="同意"))
    got = api.as_(DIRECTOR).SignOff(pb.SignOffRequest(letter_id=letter_id, comment="请办理"))
    assert got.stage == pb.LETTER_STAGE_AWAITING_RECEIPT
    assert [s.signer for s in got.sign_offs] == ["deputy", "deputy_director", "director"]
    assert got.handler.kind == pb.UNIT_KIND_STREET_OFFICE and got.handler.id == STREET
    assert not got.HasField("deadline")

    got = api.as_(STREET_OFFICE).AcknowledgeLetter(pb.AcknowledgeLetterRequest(letter_id=letter_id))
    assert got.stage == pb.LETTER_STAGE_IN_HAND
    assert got.HasField("deadline")
    received = got.deadline.received_at.ToDatetime()
    last_day = date.fromisoformat(got.deadline.last_day)
    # Three calendar months on: the corresponding day, or later when a day off.
    months = (last_day.year - received.year) * 12 + last_day.month - received.month
    assert months == 3 or (months == 4 and last_day.day <= 10)

    file = api.as_(STREET_OFFICE).UploadAttachment(
        pb.UploadAttachmentRequest(
            letter_id=letter_id, filename="维修记录.txt", content_type="text/plain", content=b"ok"
        )
    )
    got = api.as_(STREET_OFFICE).AnswerLetter(
        pb.AnswerLetterRequest(
            letter_id=letter_id, text="已安排维修，本月内完成", attachments=[file.sha256]
        )
    )
    assert got.stage == pb.LETTER_STAGE_ANSWERED
    got = api.as_(COMMITTEE).FeedBack(pb.FeedBackRequest(letter_id=letter_id, comment="已电话告知"))
    assert got.stage == pb.LETTER_STAGE_FED_BACK
    got = api.as_("deputy").RateAnswer(
        pb.RateAnswerRequest(
            letter_id=letter_id, rater=pb.RATER_DEPUTY, satisfaction=pb.SATISFACTION_SATISFIED
        )
    )
    assert got.stage == pb.LETTER_STAGE_FED_BACK
    got = api.as_(COMMITTEE).RateAnswer(
        pb.RateAnswerRequest(
            letter_id=letter_id,
            rater=pb.RATER_CONSTITUENT,
            satisfaction=pb.SATISFACTION_BASICALLY_SATISFIED,
        )
    )
    assert got.stage == pb.LETTER_STAGE_CLOSED
    # One letter_moved per fact: jurisdiction, 3 sign-offs, the hop sent,
    # receipt, answer, copy, feedback, 2 ratings, closed.
    assert api.moved_events() - events == 12
    assert api.trail_length(letter_id) == 13  # and the opening
    check = api.as_("admin").VerifyTrail(pb.VerifyTrailRequest(letter_id=letter_id))
    assert check.intact and check.entries == 13


def test_a_letter_moved_names_the_raisers_account_only(api: Any, open_letter: Any) -> None:
    """The account of who raised it online travels with the letter's moves
    (a pseudonymous subject, for their notifications); never a name."""
    mine = open_letter(raiser_sub="test:raiser")
    api.as_(COMMITTEE).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=mine, route=pb.ROUTE_STREET)
    )
    payload = api.last_payload("letter_moved")
    assert payload["letter"]["id"] == str(mine) and payload["raiser_sub"] == "test:raiser"
    anonymous = open_letter()
    api.as_(COMMITTEE).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=anonymous, route=pb.ROUTE_STREET)
    )
    assert "raiser_sub" not in api.last_payload("letter_moved")


def test_the_district_route_with_an_extension_and_a_reopening(api: Any, open_letter: Any) -> None:
    letter_id = open_letter()
    api.as_(COMMITTEE).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_DISTRICT)
    )
    api.as_("working-body").ReviewLetter(pb.ReviewLetterRequest(letter_id=letter_id, accept=True))
    api.as_("standing-committee-office").DispatchLetter(
        pb.DispatchLetterRequest(letter_id=letter_id)
    )
    got = api.as_("government-office").AssignLetter(
        pb.AssignLetterRequest(
            letter_id=letter_id, lead_department_id=HOUSING, co_handler_ids=[TRANSPORT]
        )
    )
    assert got.handler.id == HOUSING and [u.id for u in got.co_handlers] == [TRANSPORT]
    # The co-handler reads and acknowledges it; the legal clock waits for the lead.
    got = api.as_(OTHER_DEPARTMENT).AcknowledgeLetter(
        pb.AcknowledgeLetterRequest(letter_id=letter_id)
    )
    assert got.stage == pb.LETTER_STAGE_AWAITING_RECEIPT and not got.HasField("deadline")
    got = api.as_("department").AcknowledgeLetter(pb.AcknowledgeLetterRequest(letter_id=letter_id))
    first_last_day = date.fromisoformat(got.deadline.last_day)

    # Past six months from receipt: refused, naming the field and the limit.
    error = api.unchanged(
        letter_id,
        lambda: api.as_("department").RequestExtension(
            pb.RequestExtensionRequest(
                letter_id=letter_id, reason="需要协调", requested_last_day="2099-01-01"
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "legal limit" in api.field_errors(error)["requested_last_day"]
    error = api.unchanged(
        letter_id,
        lambda: api.as_("department").RequestExtension(
            pb.RequestExtensionRequest(
                letter_id=letter_id, reason="需要协调", requested_last_day="soon"
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "requested_last_day" in api.field_errors(error)
    until = date(
        first_last_day.year + (first_last_day.month == 12), first_last_day.month % 12 + 1, 1
    )
    got = api.as_("department").RequestExtension(
        pb.RequestExtensionRequest(
            letter_id=letter_id, reason="需要多部门协调", requested_last_day=until.isoformat()
        )
    )
    assert got.extensions[-1].decision == ""
    # The street committee does not supervise the district's route.
    api.unchanged(
        letter_id,
        lambda: api.as_(COMMITTEE).DecideExtension(
            pb.DecideExtensionRequest(letter_id=letter_id, approve=True)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    got = api.as_("standing-committee-office").DecideExtension(
        pb.DecideExtensionRequest(letter_id=letter_id, approve=True, comment="同意延期")
    )
    assert got.deadline.extended
    assert date.fromisoformat(got.deadline.last_day) >= until > first_last_day

    api.as_("department").AnswerLetter(pb.AnswerLetterRequest(letter_id=letter_id, text="已答复"))
    api.as_(COMMITTEE).FeedBack(pb.FeedBackRequest(letter_id=letter_id))
    got = api.as_("deputy").RateAnswer(
        pb.RateAnswerRequest(
            letter_id=letter_id,
            rater=pb.RATER_DEPUTY,
            satisfaction=pb.SATISFACTION_DISSATISFIED,
            reopen=True,
        )
    )
    # Reopened: the same unit again, a new receipt and a new deadline to come.
    assert got.stage == pb.LETTER_STAGE_AWAITING_RECEIPT and got.round == 2
    assert got.handler.id == HOUSING and not got.HasField("deadline")
    got = api.as_("department").AcknowledgeLetter(pb.AcknowledgeLetterRequest(letter_id=letter_id))
    assert got.HasField("deadline") and not got.deadline.extended
    api.as_("department").AnswerLetter(pb.AnswerLetterRequest(letter_id=letter_id, text="再次答复"))
    api.as_(COMMITTEE).FeedBack(pb.FeedBackRequest(letter_id=letter_id))
    # Reopening twice: refused, nothing changed.
    error = api.unchanged(
        letter_id,
        lambda: api.as_("deputy").RateAnswer(
            pb.RateAnswerRequest(
                letter_id=letter_id,
                rater=pb.RATER_DEPUTY,
                satisfaction=pb.SATISFACTION_DISSATISFIED,
                reopen=True,
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "reopened once already" in error.details()
    assert api.as_("admin").VerifyTrail(pb.VerifyTrailRequest(letter_id=letter_id)).intact


def test_refused_actions_name_the_problem_and_change_nothing(api: Any, open_letter: Any) -> None:
    letter_id = open_letter()
    # Signing off before the jurisdiction is decided.
    error = api.unchanged(
        letter_id,
        lambda: api.as_("deputy").SignOff(pb.SignOffRequest(letter_id=letter_id)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "jurisdiction" in error.details()
    # Rating before an answer.
    api.unchanged(
        letter_id,
        lambda: api.as_("deputy").RateAnswer(
            pb.RateAnswerRequest(
                letter_id=letter_id, rater=pb.RATER_DEPUTY, satisfaction=pb.SATISFACTION_SATISFIED
            )
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    # No route, no rater: the field is named.
    error = api.unchanged(
        letter_id,
        lambda: api.as_(COMMITTEE).DecideJurisdiction(
            pb.DecideJurisdictionRequest(letter_id=letter_id)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "route" in api.field_errors(error)
    api.as_(COMMITTEE).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_STREET)
    )
    # Out of turn: the director before the deputy and the deputy director.
    error = api.unchanged(
        letter_id,
        lambda: api.as_(DIRECTOR).SignOff(pb.SignOffRequest(letter_id=letter_id)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "the deputy's sign-off" in error.details()
    # A street committee member without a position signs nothing off.
    api.unchanged(
        letter_id,
        lambda: api.as_(COMMITTEE).SignOff(pb.SignOffRequest(letter_id=letter_id)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    # Another deputy may not even read it.
    other = {"sub": "test:deputy-9", "role": "deputy", "deputy_id": 9}
    error = api.unchanged(
        letter_id,
        lambda: api.as_(other).SignOff(pb.SignOffRequest(letter_id=letter_id)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert "may not read" in error.details()
    # A comment too long.
    error = api.unchanged(
        letter_id,
        lambda: api.as_("deputy").SignOff(
            pb.SignOffRequest(letter_id=letter_id, comment="长" * 501)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "comment" in api.field_errors(error)
    # A refusal needs a reason; with one, the letter goes back a step.
    api.unchanged(
        letter_id,
        lambda: api.as_("deputy").RefuseSignOff(pb.RefuseSignOffRequest(letter_id=letter_id)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    got = api.as_("deputy").RefuseSignOff(
        pb.RefuseSignOffRequest(letter_id=letter_id, reason="应由区里办理")
    )
    assert got.stage == pb.LETTER_STAGE_JURISDICTION
    api.refused(
        lambda: api.as_("deputy").SignOff(pb.SignOffRequest(letter_id=2**62)),
        grpc.StatusCode.NOT_FOUND,
    )


def test_a_department_sees_and_answers_only_what_it_handles(api: Any, to_assignment: Any) -> None:
    letter_id = to_assignment()
    # Before assignment, no department may read it.
    api.unchanged(
        letter_id,
        lambda: api.as_("department").AcknowledgeLetter(
            pb.AcknowledgeLetterRequest(letter_id=letter_id)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    api.as_("government-office").AssignLetter(
        pb.AssignLetterRequest(letter_id=letter_id, lead_department_id=HOUSING)
    )
    mine = api.as_("department").ListLetters(pb.ListLettersRequest())
    assert letter_id in [letter.id for letter in mine.letters]
    assert all(
        letter.handler.id == HOUSING or HOUSING in [u.id for u in letter.co_handlers]
        for letter in mine.letters
    )
    theirs = api.as_(OTHER_DEPARTMENT).ListLetters(pb.ListLettersRequest())
    assert letter_id not in [letter.id for letter in theirs.letters]
    # Answering a letter the department does not hold.
    api.unchanged(
        letter_id,
        lambda: api.as_(OTHER_DEPARTMENT).AnswerLetter(
            pb.AnswerLetterRequest(letter_id=letter_id, text="答复")
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    # Answering before acknowledging receipt.
    error = api.unchanged(
        letter_id,
        lambda: api.as_("department").AnswerLetter(
            pb.AnswerLetterRequest(letter_id=letter_id, text="答复")
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "receipt" in error.details()


ACTIONS_BY_ROLE = [
    ("street-committee", grpc.StatusCode.OK),
    ("station-staff", grpc.StatusCode.PERMISSION_DENIED),
    ("deputy", grpc.StatusCode.PERMISSION_DENIED),
    ("working-body", grpc.StatusCode.PERMISSION_DENIED),
    ("standing-committee-office", grpc.StatusCode.PERMISSION_DENIED),
    ("government-office", grpc.StatusCode.PERMISSION_DENIED),
    ("department", grpc.StatusCode.PERMISSION_DENIED),
    ("admin", grpc.StatusCode.PERMISSION_DENIED),
    ("constituent", grpc.StatusCode.PERMISSION_DENIED),
    (
        {"sub": "test:sc2", "role": "street_committee", "street_id": 2},
        grpc.StatusCode.PERMISSION_DENIED,
    ),
]


@pytest.mark.parametrize(("who", "code"), ACTIONS_BY_ROLE)
def test_only_the_street_committee_of_its_street_decides_jurisdiction(
    api: Any, open_letter: Any, who: Any, code: grpc.StatusCode
) -> None:
    letter_id = open_letter()
    call = lambda: api.as_(who).DecideJurisdiction(  # noqa: E731
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_STREET)
    )
    if code is grpc.StatusCode.OK:
        assert call().stage == pb.LETTER_STAGE_DEPUTY_SIGN_OFF
    else:
        api.unchanged(letter_id, call, code)
    api.refused(
        lambda: api.anonymous.DecideJurisdiction(
            pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_STREET)
        ),
        grpc.StatusCode.UNAUTHENTICATED,
    )


def test_anyone_with_the_tracking_code_follows_the_letter_but_not_its_content(
    api: Any, open_letter: Any
) -> None:
    letter_id = open_letter()
    api.as_(COMMITTEE).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_STREET)
    )
    api.as_("deputy").SignOff(pb.SignOffRequest(letter_id=letter_id, comment="内部意见"))
    code = api.as_("admin").GetLetter(pb.GetLetterRequest(id=letter_id)).tracking_code
    found = api.anonymous.TrackLetters(
        pb.TrackLettersRequest(tracking_codes=[code.lower(), "TH-2026-999999999"])
    )
    assert [x.tracking_code for x in found.letters] == [code]
    public = found.letters[0]
    assert public.stage == pb.LETTER_STAGE_DEPUTY_DIRECTOR_SIGN_OFF
    assert [s.signer for s in public.sign_offs] == ["deputy"]
    text = str(public)
    assert "老旧小区" not in text and "内部意见" not in text and "请街道研究" not in text
    error = api.refused(
        lambda: api.anonymous.TrackLetters(pb.TrackLettersRequest(tracking_codes=["1; drop"])),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "tracking_codes" in api.field_errors(error)


def test_the_constituent_who_raised_it_online_follows_and_rates_the_answer(api: Any) -> None:
    facts = rev.OpinionFacts(
        id=900_001,
        tracking_code="TH-2026-900001",
        category=opb.OPINION_CATEGORY_PROPERTY,
        content="楼道灯坏了",
        community_id=3,
        street_id=1,
        station_id=2,
    )
    with api.db.unit_of_work() as uow:
        opened = api.referral.open_from_opinion(uow, OPENER, facts, "", "demo:constituent")
    letter_id = opened.id
    someone_else = {"sub": "test:another-constituent", "role": "constituent"}
    assert letter_id in [
        x.id for x in api.as_("constituent").ListLetters(pb.ListLettersRequest()).letters
    ]
    assert api.as_(someone_else).ListLetters(pb.ListLettersRequest()).letters == []
    api.unchanged(
        letter_id,
        lambda: api.as_(someone_else).GetLetter(pb.GetLetterRequest(id=letter_id)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    api.as_(COMMITTEE).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_STREET)
    )
    # No deputy took it: the deputy director signs first.
    for who in (DEPUTY_DIRECTOR, DIRECTOR):
        api.as_(who).SignOff(pb.SignOffRequest(letter_id=letter_id))
    api.as_(STREET_OFFICE).AcknowledgeLetter(pb.AcknowledgeLetterRequest(letter_id=letter_id))
    api.as_(STREET_OFFICE).AnswerLetter(pb.AnswerLetterRequest(letter_id=letter_id, text="已修好"))
    api.as_(COMMITTEE).FeedBack(pb.FeedBackRequest(letter_id=letter_id))
    rating = pb.RateAnswerRequest(
        letter_id=letter_id,
        rater=pb.RATER_CONSTITUENT,
        satisfaction=pb.SATISFACTION_DISSATISFIED,
        reopen=True,
    )
    # Another constituent may not; nor may the constituent rate as the deputy.
    api.unchanged(
        letter_id,
        lambda: api.as_(someone_else).RateAnswer(rating),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    as_deputy = pb.RateAnswerRequest(
        letter_id=letter_id, rater=pb.RATER_DEPUTY, satisfaction=pb.SATISFACTION_SATISFIED
    )
    api.unchanged(
        letter_id,
        lambda: api.as_("constituent").RateAnswer(as_deputy),
        grpc.StatusCode.FAILED_PRECONDITION,  # no deputy handed it on
    )
    got = api.as_("constituent").RateAnswer(rating)
    assert got.stage == pb.LETTER_STAGE_AWAITING_RECEIPT and got.round == 2


def test_the_years_figures_count_letters_without_a_record_or_a_person(
    api: Any, open_letter: Any
) -> None:
    year = datetime.now(UTC).astimezone(SHANGHAI).year
    ask = pb.GetLetterFiguresRequest(year=year, street_id=STREET)
    before = api.anonymous.GetLetterFigures(ask)
    letter_id = open_letter()
    api.as_(COMMITTEE).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_DISTRICT)
    )
    api.as_("working-body").ReviewLetter(pb.ReviewLetterRequest(letter_id=letter_id, accept=True))
    api.as_("standing-committee-office").DispatchLetter(
        pb.DispatchLetterRequest(letter_id=letter_id)
    )
    api.as_("government-office").AssignLetter(
        pb.AssignLetterRequest(letter_id=letter_id, lead_department_id=HOUSING)
    )
    api.as_("department").AcknowledgeLetter(pb.AcknowledgeLetterRequest(letter_id=letter_id))
    api.as_("department").AnswerLetter(pb.AnswerLetterRequest(letter_id=letter_id, text="已答复"))
    after = api.anonymous.GetLetterFigures(ask)
    assert after.totals.received == before.totals.received + 1
    assert after.totals.referred == before.totals.referred + 1
    assert after.totals.answered == before.totals.answered + 1
    (housing,) = [h for h in after.by_handler if h.unit.id == HOUSING]
    assert housing.unit.kind == pb.UNIT_KIND_DEPARTMENT and housing.counts.answered >= 1
    assert (
        len(after.by_month) == 12
        and sum(m.received for m in after.by_month) == after.totals.received
    )
    assert {s.stage for s in after.open_by_stage} >= {
        pb.LETTER_STAGE_JURISDICTION,
        pb.LETTER_STAGE_IN_HAND,
    }
    assert "老旧小区" not in str(after) and "TH-" not in str(after)
    error = api.refused(
        lambda: api.anonymous.GetLetterFigures(pb.GetLetterFiguresRequest()),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "year" in api.field_errors(error)


def test_a_letter_goes_only_to_active_departments_of_the_registry(
    api: Any, open_letter: Any
) -> None:
    letter_id = open_letter()
    api.as_(COMMITTEE).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_DISTRICT)
    )
    api.as_("working-body").ReviewLetter(pb.ReviewLetterRequest(letter_id=letter_id, accept=True))
    api.as_("standing-committee-office").DispatchLetter(
        pb.DispatchLetterRequest(letter_id=letter_id)
    )
    for lead, co, field, words in (
        (999, [], "lead_department_id", "no unit"),
        (9, [], "lead_department_id", "not a department"),
        (HOUSING, [70], "co_handler_ids", "no longer active"),
    ):
        error = api.unchanged(
            letter_id,
            lambda lead=lead, co=co: api.as_("government-office").AssignLetter(  # type: ignore[misc]
                pb.AssignLetterRequest(
                    letter_id=letter_id, lead_department_id=lead, co_handler_ids=co
                )
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        assert words in api.field_errors(error)[field]
