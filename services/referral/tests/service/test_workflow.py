"""The letter's workflow served over gRPC, on PostgreSQL: each action by
whose turn it is, stored with its trail entry and its `letter_moved`
events in one commit; the legal deadline set at the handling unit's
receipt and moved by an approved extension; a refused action (out of turn,
by the wrong unit, bad input, past the legal limit) changes nothing."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import grpc
import pytest

from liaison.referral.v1 import referral_pb2 as pb

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

    got = api.as_(STREET_OFFICE).AnswerLetter(
        pb.AnswerLetterRequest(
            letter_id=letter_id, text="已安排维修，本月内完成", attachments=["a" * 64]
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
