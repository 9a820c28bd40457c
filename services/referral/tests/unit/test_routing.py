"""The referral letter's workflow, without I/O: both routes from opening to
closing, every refusal (out of turn, wrong person, wrong street, wrong
unit, wrong input), and random sequences of actions by random actors that
never reach an invalid letter and never change a letter they are refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from kit.auth import Principal, Role
from kit.errors import DomainError, FailedPrecondition, InvalidArgument, PermissionDenied
from referral import routing as r
from referral import state
from referral.routing import Letter, Rater, Route, Satisfaction, Stage, Transition
from referral.units import (
    GOVERNMENT_OFFICE,
    STANDING_COMMITTEE_OFFICE,
    WORKING_BODY,
    Actor,
    Position,
    Unit,
    UnitKind,
    department,
    street_committee,
    street_office,
)

T0 = datetime(2027, 3, 15, 9, 0, tzinfo=UTC)
HASH = "ab" * 32

COMMITTEE = Actor(Role.STREET_COMMITTEE, street_id=1, sub="committee-1")
DEPUTY_DIRECTOR = Actor(
    Role.STREET_COMMITTEE, street_id=1, position=Position.DEPUTY_DIRECTOR, sub="dd-1"
)
DIRECTOR = Actor(Role.STREET_COMMITTEE, street_id=1, position=Position.DIRECTOR, sub="dir-1")
OTHER_COMMITTEE = Actor(Role.STREET_COMMITTEE, street_id=2, sub="committee-2")
OTHER_DIRECTOR = Actor(Role.STREET_COMMITTEE, street_id=2, position=Position.DIRECTOR)
DEPUTY = Actor(Role.DEPUTY, deputy_id=7, sub="deputy-7")
OTHER_DEPUTY = Actor(Role.DEPUTY, deputy_id=8, sub="deputy-8")
STAFF = Actor(Role.STATION_STAFF, street_id=1)
STREET_OFFICE = Actor(Role.DEPARTMENT, street_id=1, sub="office-1")
OTHER_STREET_OFFICE = Actor(Role.DEPARTMENT, street_id=2)
WB = Actor(Role.WORKING_BODY)
SCO = Actor(Role.STANDING_COMMITTEE_OFFICE)
GOV = Actor(Role.GOVERNMENT_OFFICE)
LEAD = Actor(Role.DEPARTMENT, department_id=5, sub="dept-5")
CO_6 = Actor(Role.DEPARTMENT, department_id=6)
CO_7 = Actor(Role.DEPARTMENT, department_id=7)
ADMIN = Actor(Role.ADMIN)
CONSTITUENT = Actor(Role.CONSTITUENT)
SYSTEM = Actor(Role.SYSTEM)


class Clock:
    """One hour later at each call."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(hours=1)
        return self.now


def opened(deputy_id: int | None = 7, *, constituent: bool = True) -> Letter:
    return r.open_letter(
        SYSTEM,
        T0,
        street_id=1,
        deputy_id=deputy_id,
        category="property",
        community_id=11,
        constituent=constituent,
    ).letter


def play(letter: Letter, *steps: Callable[[Letter, datetime], Transition]) -> Letter:
    clock = Clock(letter.updated_at)
    for step in steps:
        letter = step(letter, clock()).letter
        check_invariants(letter)
    return letter


# Steps of the paths, to play in order.
def to_street(letter: Letter, at: datetime) -> Transition:
    return r.decide_jurisdiction(letter, COMMITTEE, at, Route.STREET)


def to_district(letter: Letter, at: datetime) -> Transition:
    return r.decide_jurisdiction(letter, COMMITTEE, at, Route.DISTRICT)


def signed_by(actor: Actor) -> Callable[[Letter, datetime], Transition]:
    return lambda letter, at: r.sign_off(letter, actor, at, "同意")


def acknowledged_by(actor: Actor) -> Callable[[Letter, datetime], Transition]:
    return lambda letter, at: r.acknowledge(letter, actor, at)


def answered_by(actor: Actor) -> Callable[[Letter, datetime], Transition]:
    return lambda letter, at: r.answer(letter, actor, at, "已整改", [HASH])


def accepted(letter: Letter, at: datetime) -> Transition:
    return r.review(letter, WB, at, accept=True)


def dispatched(letter: Letter, at: datetime) -> Transition:
    return r.dispatch(letter, SCO, at)


def assigned(letter: Letter, at: datetime) -> Transition:
    return r.assign(letter, GOV, at, lead=5, co_handlers=[6, 7])


def fed_back(letter: Letter, at: datetime) -> Transition:
    return r.feed_back(letter, COMMITTEE, at, "已电话告知")


def rated(
    actor: Actor, rater: Rater, satisfaction: Satisfaction, *, reopen: bool = False
) -> Callable[[Letter, datetime], Transition]:
    return lambda letter, at: r.rate(
        letter, actor, at, rater=rater, satisfaction=satisfaction, reopen=reopen
    )


SIGNED = (to_street, signed_by(DEPUTY), signed_by(DEPUTY_DIRECTOR), signed_by(DIRECTOR))
AT_THE_STREET_OFFICE = (*SIGNED, acknowledged_by(STREET_OFFICE))
AT_THE_DEPARTMENT = (to_district, accepted, dispatched, assigned, acknowledged_by(LEAD))
FED_BACK_BY_THE_STREET = (*AT_THE_STREET_OFFICE, answered_by(STREET_OFFICE), fed_back)


# ---------------------------------------------------------------- the street route


def test_the_street_route_from_opening_to_closing() -> None:
    letter = opened()
    assert letter.stage is Stage.JURISDICTION and letter.holder == street_committee(1)
    letter = play(letter, *SIGNED)
    assert letter.stage is Stage.AWAITING_RECEIPT
    assert [(s.signer, s.by, s.comment) for s in letter.sign_offs] == [
        (r.Signer.DEPUTY, DEPUTY, "同意"),
        (r.Signer.DEPUTY_DIRECTOR, DEPUTY_DIRECTOR, "同意"),
        (r.Signer.DIRECTOR, DIRECTOR, "同意"),
    ]
    [hop] = letter.hops
    assert (hop.from_unit, hop.to_unit, hop.stage, hop.received_at) == (
        street_committee(1),
        street_office(1),
        "to_street_office",
        None,
    )
    assert letter.holder == letter.handler == street_office(1)
    assert letter.received_at is None

    received_at = T0 + timedelta(days=1)
    moved = r.acknowledge(letter, STREET_OFFICE, received_at)
    letter = moved.letter
    assert letter.stage is Stage.IN_HAND and letter.received_at == received_at
    assert [(e.kind, e.stage) for e in moved.events] == [("received", Stage.IN_HAND)]

    letter = play(letter, answered_by(STREET_OFFICE))
    assert letter.stage is Stage.ANSWERED and letter.holder == street_committee(1)
    assert letter.answers[0].text == "已整改" and letter.answers[0].attachments == (HASH,)

    letter = play(letter, fed_back)
    assert letter.stage is Stage.FED_BACK
    letter = play(letter, rated(DEPUTY, Rater.DEPUTY, Satisfaction.SATISFIED))
    assert letter.stage is Stage.FED_BACK
    moved = rated(CONSTITUENT, Rater.CONSTITUENT, Satisfaction.BASICALLY_SATISFIED)(
        letter, letter.updated_at
    )
    assert moved.letter.stage is Stage.CLOSED
    assert [e.kind for e in moved.events] == ["rated", "closed"]
    assert r.stage_of(moved.letter) not in r.open_stages


def test_each_sign_off_records_who_when_and_the_comment_and_the_office_gets_it_last() -> None:
    letter = play(opened(), to_street)
    at = T0 + timedelta(days=2)
    moved = r.sign_off(letter, DEPUTY, at, "  请街道尽快处理  ")
    assert moved.letter.sign_offs[-1] == r.SignOff(r.Signer.DEPUTY, DEPUTY, at, "请街道尽快处理")
    assert moved.letter.stage is Stage.DEPUTY_DIRECTOR_SIGN_OFF
    moved = r.sign_off(play(moved.letter, signed_by(DEPUTY_DIRECTOR)), DIRECTOR, at + timedelta(1))
    assert [(e.kind, e.unit) for e in moved.events] == [
        ("signed_off", None),
        ("sent", street_office(1)),
    ]


def test_a_letter_without_a_deputy_skips_the_deputys_sign_off_and_rating() -> None:
    letter = play(opened(None), to_street)
    assert letter.stage is Stage.DEPUTY_DIRECTOR_SIGN_OFF
    letter = play(
        letter,
        signed_by(DEPUTY_DIRECTOR),
        signed_by(DIRECTOR),
        acknowledged_by(STREET_OFFICE),
        answered_by(STREET_OFFICE),
        fed_back,
        rated(COMMITTEE, Rater.CONSTITUENT, Satisfaction.SATISFIED),
    )
    assert letter.stage is Stage.CLOSED
    with pytest.raises(FailedPrecondition, match="no deputy"):
        rated(DEPUTY, Rater.DEPUTY, Satisfaction.SATISFIED)(letter, letter.updated_at)


def test_with_nobody_to_rate_the_feedback_closes_the_letter() -> None:
    letter = play(opened(None, constituent=False), *SIGNED[:1], *SIGNED[2:])
    letter = play(letter, acknowledged_by(STREET_OFFICE), answered_by(STREET_OFFICE))
    moved = r.feed_back(letter, COMMITTEE, letter.updated_at)
    assert moved.letter.stage is Stage.CLOSED
    assert [e.kind for e in moved.events] == ["fed_back", "closed"]


@pytest.mark.parametrize(
    ("steps", "refuser", "back"),
    [
        ((to_street,), DEPUTY, Stage.JURISDICTION),
        ((to_street, signed_by(DEPUTY)), DEPUTY_DIRECTOR, Stage.DEPUTY_SIGN_OFF),
        (SIGNED[:3], DIRECTOR, Stage.DEPUTY_DIRECTOR_SIGN_OFF),
    ],
)
def test_a_refused_sign_off_goes_back_one_step_with_its_reason(
    steps: tuple[Callable[[Letter, datetime], Transition], ...], refuser: Actor, back: Stage
) -> None:
    letter = play(opened(), *steps)
    moved = r.refuse_sign_off(letter, refuser, letter.updated_at, "材料不全")
    assert moved.letter.stage is back
    assert moved.letter.sign_offs[-1].refused and moved.letter.sign_offs[-1].comment == "材料不全"
    assert [(e.kind, e.detail) for e in moved.events] == [("sign_off_refused", "材料不全")]
    assert (moved.letter.route is None) == (back is Stage.JURISDICTION)


def test_after_a_refusal_the_step_before_signs_again_and_the_district_may_take_it() -> None:
    letter = play(opened(), *SIGNED[:3])
    letter = r.refuse_sign_off(letter, DIRECTOR, letter.updated_at, "请副主任复核").letter
    with pytest.raises(FailedPrecondition, match="deputy director's sign-off, not the director's"):
        r.sign_off(letter, DIRECTOR, letter.updated_at)
    letter = play(letter, signed_by(DEPUTY_DIRECTOR))
    assert letter.stage is Stage.DIRECTOR_SIGN_OFF

    no_deputy = play(opened(None), to_street)
    back = r.refuse_sign_off(no_deputy, DEPUTY_DIRECTOR, no_deputy.updated_at, "超出街道职权")
    assert back.letter.stage is Stage.JURISDICTION
    assert play(back.letter, to_district).stage is Stage.REVIEW


def test_a_refusal_needs_a_reason() -> None:
    letter = play(opened(), to_street)
    with pytest.raises(InvalidArgument) as refused:
        r.refuse_sign_off(letter, DEPUTY, letter.updated_at, "  ")
    assert [v.field for v in refused.value.violations] == ["reason"]


# ---------------------------------------------------------------- the district route


def test_the_district_route_with_a_lead_and_co_handlers() -> None:
    letter = play(opened(), to_district)
    assert letter.stage is Stage.REVIEW and letter.holder == WORKING_BODY
    letter = play(letter, accepted)
    assert letter.stage is Stage.DISPATCH and letter.holder == STANDING_COMMITTEE_OFFICE
    assert letter.hops[0].received_at == letter.updated_at  # the working body acted on it
    letter = play(letter, dispatched)
    assert letter.stage is Stage.ASSIGNMENT and letter.holder == GOVERNMENT_OFFICE
    moved = r.assign(letter, GOV, letter.updated_at, lead=5, co_handlers=[6, 7])
    letter = moved.letter
    assert letter.stage is Stage.AWAITING_RECEIPT
    assert letter.holder == letter.handler == department(5)
    assert letter.co_handlers == (department(6), department(7))
    assert [(e.detail, e.unit) for e in moved.events] == [
        ("to_lead_department", department(5)),
        ("co_handling", department(6)),
        ("co_handling", department(7)),
    ]
    assert [h.stage for h in letter.hops] == [
        "to_review",
        "to_dispatch",
        "to_government_office",
        "co_handling",
        "co_handling",
        "to_lead_department",
    ]

    letter = play(letter, acknowledged_by(CO_6))
    assert letter.stage is Stage.AWAITING_RECEIPT and letter.received_at is None
    assert letter.receipt_of(department(6)) == letter.updated_at
    letter = play(letter, acknowledged_by(LEAD))
    assert letter.stage is Stage.IN_HAND and letter.received_at == letter.updated_at
    letter = play(letter, acknowledged_by(CO_7))
    assert letter.receipt_of(department(7)) is not None

    moved = r.answer(letter, LEAD, letter.updated_at, "已协调处理", [HASH, "cd" * 32])
    assert [(e.kind, e.unit) for e in moved.events] == [
        ("answered", street_committee(1)),
        ("copied", STANDING_COMMITTEE_OFFICE),
    ]
    letter = play(
        moved.letter,
        fed_back,
        rated(DEPUTY, Rater.DEPUTY, Satisfaction.SATISFIED),
        rated(CONSTITUENT, Rater.CONSTITUENT, Satisfaction.SATISFIED),
    )
    assert letter.stage is Stage.CLOSED


def test_the_working_body_returns_a_letter_to_the_street_committee_with_a_reason() -> None:
    letter = play(opened(), to_district)
    moved = r.review(letter, WB, letter.updated_at, accept=False, reason="属街道职权范围")
    letter = moved.letter
    assert letter.stage is Stage.JURISDICTION and letter.route is None
    assert letter.hops[-1].stage == "returned" and letter.holder == street_committee(1)
    assert [(e.kind, e.detail) for e in moved.events] == [("returned", "属街道职权范围")]
    letter = play(letter, *SIGNED)
    assert letter.holder == street_office(1)
    assert letter.hops[-2].received_at is not None  # the committee acted on the returned letter
    with pytest.raises(InvalidArgument, match="reason"):
        r.review(play(opened(), to_district), WB, T0 + timedelta(days=1), accept=False)


def test_a_dissatisfied_rating_reopens_the_letter_once() -> None:
    letter = play(opened(), *AT_THE_DEPARTMENT, answered_by(LEAD), fed_back)
    first_receipt = letter.received_at
    reopening = rated(DEPUTY, Rater.DEPUTY, Satisfaction.DISSATISFIED, reopen=True)
    moved = reopening(letter, letter.updated_at)
    letter = moved.letter
    assert [e.kind for e in moved.events] == ["rated", "reopened"]
    assert letter.stage is Stage.AWAITING_RECEIPT and letter.round == 2
    assert letter.holder == letter.handler == department(5)
    assert letter.received_at is None and first_receipt is not None
    # The same unit acknowledges again (a new receipt: a new legal clock) and answers again.
    letter = play(letter, acknowledged_by(LEAD))
    assert letter.received_at == letter.updated_at != first_receipt
    letter = play(letter, answered_by(LEAD), fed_back)
    assert len(letter.answers) == 2

    with pytest.raises(FailedPrecondition, match="reopened once already"):
        reopening(letter, letter.updated_at)
    letter = play(
        letter,
        rated(DEPUTY, Rater.DEPUTY, Satisfaction.DISSATISFIED),
        rated(CONSTITUENT, Rater.CONSTITUENT, Satisfaction.BASICALLY_SATISFIED),
    )
    assert letter.stage is Stage.CLOSED
    assert [(x.rater, x.round) for x in letter.ratings] == [
        (Rater.DEPUTY, 1),
        (Rater.DEPUTY, 2),
        (Rater.CONSTITUENT, 2),
    ]


# ---------------------------------------------------------------- extensions


def test_an_extension_is_requested_then_approved_or_refused_by_the_supervisor() -> None:
    street = play(opened(), *AT_THE_STREET_OFFICE)
    moved = r.request_extension(street, STREET_OFFICE, street.updated_at, "需协调多个部门")
    assert moved.letter.pending_extension is not None
    with pytest.raises(FailedPrecondition, match="pending already"):
        r.request_extension(moved.letter, STREET_OFFICE, street.updated_at, "再延")
    with pytest.raises(PermissionDenied, match="the street committee of street 1"):
        r.decide_extension(moved.letter, SCO, street.updated_at, approve=True)
    approved = r.decide_extension(moved.letter, COMMITTEE, street.updated_at, approve=True).letter
    assert approved.pending_extension is None
    assert approved.extensions[-1].decision is r.Decision.APPROVED
    assert approved.extensions[-1].decided_by == COMMITTEE

    district = play(opened(), *AT_THE_DEPARTMENT)
    asked = r.request_extension(district, LEAD, district.updated_at, "需立项").letter
    with pytest.raises(PermissionDenied, match="standing committee office"):
        r.decide_extension(asked, COMMITTEE, district.updated_at, approve=False, comment="否")
    with pytest.raises(InvalidArgument, match="comment"):
        r.decide_extension(asked, SCO, district.updated_at, approve=False)
    refused = r.decide_extension(asked, SCO, district.updated_at, approve=False, comment="期限已足")
    assert refused.letter.extensions[-1].decision is r.Decision.REFUSED
    assert refused.events[0].detail == "refused: 期限已足"
    with pytest.raises(FailedPrecondition, match="no extension request is pending"):
        r.decide_extension(refused.letter, SCO, district.updated_at, approve=True)
    # Once refused, another may be asked for.
    again = r.request_extension(refused.letter, LEAD, district.updated_at, "确需延期")
    assert again.letter.pending_extension is not None


def test_answering_withdraws_a_pending_extension() -> None:
    letter = play(opened(), *AT_THE_STREET_OFFICE)
    letter = r.request_extension(letter, STREET_OFFICE, letter.updated_at, "需协调").letter
    letter = play(letter, answered_by(STREET_OFFICE))
    assert letter.pending_extension is None
    assert letter.extensions[-1].decision is r.Decision.WITHDRAWN


# ---------------------------------------------------------------- refusals


def refused(
    error: type[DomainError],
    steps: tuple[Callable[[Letter, datetime], Transition], ...],
    action: Callable[[Letter, datetime], Transition],
    message: str,
    deputy_id: int | None = 7,
) -> tuple[object, ...]:
    return (error, steps, action, message, deputy_id)


REFUSALS = [
    # out of turn
    refused(
        FailedPrecondition,
        SIGNED[:2],
        signed_by(DIRECTOR),
        "the letter awaits the street committee's deputy director's sign-off, not the director's",
    ),
    refused(
        FailedPrecondition,
        (to_street,),
        signed_by(DEPUTY_DIRECTOR),
        "awaits the deputy's sign-off, not the deputy director's",
    ),
    refused(FailedPrecondition, (), signed_by(DEPUTY), "awaits the street committee's decision"),
    refused(FailedPrecondition, (to_street,), to_street, "cannot be given a jurisdiction now"),
    refused(FailedPrecondition, (to_street,), accepted, "awaits the deputy's sign-off"),
    refused(FailedPrecondition, (to_district,), dispatched, "awaits the working body's review"),
    refused(FailedPrecondition, (to_district, accepted), assigned, "awaits the standing"),
    refused(
        FailedPrecondition,
        SIGNED,
        answered_by(STREET_OFFICE),
        "awaits the handling unit's receipt",
    ),
    refused(
        FailedPrecondition,
        AT_THE_STREET_OFFICE,
        acknowledged_by(STREET_OFFICE),
        "awaits the handling unit's written answer",
    ),
    refused(FailedPrecondition, AT_THE_STREET_OFFICE, fed_back, "written answer"),
    refused(
        FailedPrecondition,
        (*AT_THE_STREET_OFFICE, answered_by(STREET_OFFICE)),
        rated(DEPUTY, Rater.DEPUTY, Satisfaction.SATISFIED),
        "awaits the street committee's feedback",
    ),
    refused(
        FailedPrecondition,
        AT_THE_STREET_OFFICE,
        rated(CONSTITUENT, Rater.CONSTITUENT, Satisfaction.SATISFIED),
        "only an answer fed back is rated",
    ),
    refused(
        FailedPrecondition,
        (*FED_BACK_BY_THE_STREET, rated(DEPUTY, Rater.DEPUTY, Satisfaction.SATISFIED)),
        rated(DEPUTY, Rater.DEPUTY, Satisfaction.DISSATISFIED),
        "the deputy has rated this answer already",
    ),
    refused(
        FailedPrecondition,
        (to_district, accepted, dispatched),
        acknowledged_by(LEAD),
        "no unit handles it yet",
    ),
    refused(
        FailedPrecondition,
        (*AT_THE_DEPARTMENT, acknowledged_by(CO_6)),
        acknowledged_by(CO_6),
        "department 6 acknowledged the letter already",
    ),
    refused(
        FailedPrecondition,
        (*AT_THE_DEPARTMENT,),
        lambda letter, at: r.decide_extension(letter, SCO, at, approve=True),
        "no extension request is pending",
    ),
    refused(
        FailedPrecondition,
        (),
        lambda letter, at: r.decide_extension(letter, COMMITTEE, at, approve=True),
        "the letter awaits the street committee's decision on jurisdiction: no extension",
    ),
    # wrong person
    refused(PermissionDenied, (to_street,), signed_by(OTHER_DEPUTY), "only deputy 7, then"),
    refused(PermissionDenied, (to_street,), signed_by(COMMITTEE), "the deputy director and the"),
    refused(
        PermissionDenied,
        (to_street,),
        signed_by(DEPUTY),
        "only the deputy director and the director",
        None,
    ),
    refused(
        PermissionDenied,
        FED_BACK_BY_THE_STREET,
        rated(OTHER_DEPUTY, Rater.DEPUTY, Satisfaction.SATISFIED),
        "only deputy 7 may give the deputy's rating",
    ),
    refused(
        PermissionDenied,
        FED_BACK_BY_THE_STREET,
        rated(DEPUTY, Rater.CONSTITUENT, Satisfaction.SATISFIED),
        "only the constituent, or the street committee of street 1",
    ),
    refused(PermissionDenied, (to_district,), lambda x, at: r.dispatch(x, WB, at), "only the st"),
    refused(
        PermissionDenied,
        (to_district, accepted, dispatched),
        lambda x, at: r.assign(x, SCO, at, lead=5),
        "only the district government office may assign",
    ),  # fmt: skip
    refused(
        PermissionDenied,
        (to_district,),
        lambda x, at: r.review(x, SCO, at, accept=True),
        "only the district congress's working body",
    ),  # fmt: skip
    refused(
        PermissionDenied,
        (*AT_THE_STREET_OFFICE, answered_by(STREET_OFFICE)),
        lambda letter, at: r.feed_back(letter, STAFF, at),
        "only the street committee of street 1 may feed an answer back",
    ),
    refused(
        PermissionDenied,
        (to_street,),
        lambda letter, at: r.acknowledge(letter, GOV, at),
        "only the unit handling the letter",
    ),
    # wrong street
    refused(
        PermissionDenied,
        (),
        lambda letter, at: r.decide_jurisdiction(letter, OTHER_COMMITTEE, at, Route.STREET),
        "only the street committee of street 1 may decide",
    ),
    refused(PermissionDenied, SIGNED[:3], signed_by(OTHER_DIRECTOR), "street 2 may not"),
    refused(
        PermissionDenied,
        SIGNED,
        acknowledged_by(OTHER_STREET_OFFICE),
        "only the street office of street 1, which handles the letter",
    ),
    # a department that does not hold the letter
    refused(
        PermissionDenied,
        AT_THE_DEPARTMENT,
        answered_by(CO_6),
        "only department 5, which handles the letter, may answer",
    ),
    refused(
        PermissionDenied,
        AT_THE_DEPARTMENT,
        answered_by(Actor(Role.DEPARTMENT, department_id=9)),
        "department 9 may not",
    ),
    refused(
        PermissionDenied,
        AT_THE_DEPARTMENT,
        acknowledged_by(Actor(Role.DEPARTMENT, department_id=9)),
        "only department 5",
    ),
    refused(
        PermissionDenied,
        AT_THE_DEPARTMENT,
        lambda letter, at: r.request_extension(letter, CO_7, at, "需要"),
        "only department 5",
    ),
    # nobody in another's name
    refused(PermissionDenied, (to_street,), signed_by(ADMIN), "administrator"),
    refused(
        PermissionDenied,
        (),
        lambda letter, at: r.decide_jurisdiction(letter, ADMIN, at, Route.STREET),
        "administrator",
    ),
    refused(PermissionDenied, AT_THE_DEPARTMENT, answered_by(ADMIN), "administrator"),
    # wrong input
    refused(
        InvalidArgument,
        (to_district, accepted, dispatched),
        lambda letter, at: r.assign(letter, GOV, at, lead=5, co_handlers=[6, 5]),
        "the letter cannot be assigned",
    ),
    refused(
        InvalidArgument,
        AT_THE_STREET_OFFICE,
        lambda letter, at: r.answer(letter, STREET_OFFICE, at, "答复", ["not-a-hash"]),
        "the answer is not valid",
    ),
    refused(
        InvalidArgument,
        FED_BACK_BY_THE_STREET,
        rated(DEPUTY, Rater.DEPUTY, Satisfaction.SATISFIED, reopen=True),
        "only a dissatisfied rating may reopen",
    ),
    refused(
        InvalidArgument,
        (to_street,),
        lambda letter, at: r.sign_off(letter, DEPUTY, letter.updated_at - timedelta(1)),
        "before the letter's last change",
    ),
]


@pytest.mark.parametrize(("error", "steps", "action", "message", "deputy_id"), REFUSALS)
def test_a_refused_action_says_why_and_changes_nothing(
    error: type[DomainError],
    steps: tuple[Callable[[Letter, datetime], Transition], ...],
    action: Callable[[Letter, datetime], Transition],
    message: str,
    deputy_id: int | None,
) -> None:
    letter = play(opened(deputy_id), *steps)
    before = copy.deepcopy(letter)
    with pytest.raises(error) as refusal:
        action(letter, letter.updated_at + timedelta(minutes=5))
    assert type(refusal.value) is error
    assert message in refusal.value.message
    assert letter == before


def test_a_co_handler_may_not_be_the_lead_or_named_twice() -> None:
    letter = play(opened(), to_district, accepted, dispatched)
    for co, problem in (
        ([5], "names the lead department (5)"),
        ([6, 6], "names a department twice"),
    ):
        with pytest.raises(InvalidArgument) as refused:
            r.assign(letter, GOV, letter.updated_at, lead=5, co_handlers=co)
        assert [(v.field, v.description) for v in refused.value.violations] == [
            ("co_handlers", problem)
        ]


def open_as(actor: Actor, at: datetime = T0) -> Letter:
    return r.open_letter(
        actor, at, street_id=1, deputy_id=7, category="transport", community_id=None
    ).letter


def test_opening_is_for_the_streets_staff_and_the_platform() -> None:
    for actor in (SYSTEM, STAFF, COMMITTEE):
        assert open_as(actor).stage is Stage.JURISDICTION
    for actor in (OTHER_COMMITTEE, DEPUTY, WB, ADMIN, CONSTITUENT):
        with pytest.raises(PermissionDenied):
            open_as(actor)
    with pytest.raises(InvalidArgument) as refused:
        r.open_letter(
            SYSTEM,
            T0.replace(tzinfo=None),
            street_id=0,
            deputy_id=-1,
            category=" ",
            community_id=None,
        )
    fields = {v.field for v in refused.value.violations}
    assert fields == {"street_id", "deputy_id", "category", "at"}


def test_actors_from_principals_and_their_units() -> None:
    dept = Principal(sub="d", role=Role.DEPARTMENT, unit_id=5)
    assert Actor.from_principal(dept).unit == department(5)
    office = Principal(sub="o", role=Role.DEPARTMENT, street_id=3)
    assert Actor.from_principal(office).unit == street_office(3)
    chair = Actor.from_principal(
        Principal(sub="c", role=Role.STREET_COMMITTEE, street_id=3), position=Position.DIRECTOR
    )
    assert chair.unit == street_committee(3) and str(chair) == (
        "the director of the street committee of street 3"
    )
    assert Actor.from_principal(Principal(sub="x", role=Role.DEPUTY, deputy_id=4)).unit is None
    with pytest.raises(ValueError):
        Unit(UnitKind.DEPARTMENT)
    with pytest.raises(ValueError):
        Unit(UnitKind.WORKING_BODY, 1)


def test_letters_open_by_stage() -> None:
    letters = [
        opened(),
        opened(),
        play(opened(), to_district),
        play(
            opened(),
            *FED_BACK_BY_THE_STREET,
            *[
                rated(DEPUTY, Rater.DEPUTY, Satisfaction.SATISFIED),
                rated(CONSTITUENT, Rater.CONSTITUENT, Satisfaction.SATISFIED),
            ],
        ),  # fmt: skip
    ]
    counts = r.open_by_stage(letters)
    assert counts[Stage.JURISDICTION] == 2 and counts[Stage.REVIEW] == 1
    assert sum(counts.values()) == 3 and Stage.CLOSED not in counts
    assert set(counts) == r.open_stages
    assert Stage.CLOSED not in r.open_stages and len(r.open_stages) == len(Stage) - 1


# ---------------------------------------------------------------- invariants


HOLDERS: dict[Stage, Callable[[Letter], object]] = {
    Stage.JURISDICTION: lambda letter: letter.committee,
    Stage.DEPUTY_SIGN_OFF: lambda letter: letter.committee,
    Stage.DEPUTY_DIRECTOR_SIGN_OFF: lambda letter: letter.committee,
    Stage.DIRECTOR_SIGN_OFF: lambda letter: letter.committee,
    Stage.REVIEW: lambda letter: WORKING_BODY,
    Stage.DISPATCH: lambda letter: STANDING_COMMITTEE_OFFICE,
    Stage.ASSIGNMENT: lambda letter: GOVERNMENT_OFFICE,
    Stage.AWAITING_RECEIPT: lambda letter: letter.handler,
    Stage.IN_HAND: lambda letter: letter.handler,
    Stage.ANSWERED: lambda letter: letter.committee,
    Stage.FED_BACK: lambda letter: letter.committee,
    Stage.CLOSED: lambda letter: letter.committee,
}
S = Stage
# The diagram's arrows (a stage may also stay where it is).
MOVES = {
    (S.JURISDICTION, S.DEPUTY_SIGN_OFF),
    (S.JURISDICTION, S.DEPUTY_DIRECTOR_SIGN_OFF),
    (S.JURISDICTION, S.REVIEW),
    (S.DEPUTY_SIGN_OFF, S.DEPUTY_DIRECTOR_SIGN_OFF),
    (S.DEPUTY_SIGN_OFF, S.JURISDICTION),
    (S.DEPUTY_DIRECTOR_SIGN_OFF, S.DIRECTOR_SIGN_OFF),
    (S.DEPUTY_DIRECTOR_SIGN_OFF, S.DEPUTY_SIGN_OFF),
    (S.DEPUTY_DIRECTOR_SIGN_OFF, S.JURISDICTION),
    (S.DIRECTOR_SIGN_OFF, S.AWAITING_RECEIPT),
    (S.DIRECTOR_SIGN_OFF, S.DEPUTY_DIRECTOR_SIGN_OFF),
    (S.REVIEW, S.DISPATCH),
    (S.REVIEW, S.JURISDICTION),
    (S.DISPATCH, S.ASSIGNMENT),
    (S.ASSIGNMENT, S.AWAITING_RECEIPT),
    (S.AWAITING_RECEIPT, S.IN_HAND),
    (S.IN_HAND, S.ANSWERED),
    (S.ANSWERED, S.FED_BACK),
    (S.ANSWERED, S.CLOSED),
    (S.FED_BACK, S.CLOSED),
    (S.FED_BACK, S.AWAITING_RECEIPT),
}
ANSWERED_STAGES = {S.ANSWERED, S.FED_BACK, S.CLOSED}


def check_invariants(letter: Letter) -> None:
    # Every letter the rules make is stored and read back as it was.
    stored = state.dump(letter)
    assert json.loads(json.dumps(stored)) == stored
    assert state.load(stored) == letter
    stage = letter.stage
    assert (letter.route is None) == (stage is S.JURISDICTION)
    if stage in r.STREET_STAGES:
        assert letter.route is Route.STREET
    if stage in r.DISTRICT_STAGES:
        assert letter.route is Route.DISTRICT
    if letter.deputy_id is None:
        assert stage is not S.DEPUTY_SIGN_OFF
        assert all(s.signer is not r.Signer.DEPUTY for s in letter.sign_offs)

    # Who handles it, and who holds it.
    assert (letter.handler is not None) == (stage in r.HANDLED_STAGES)
    if letter.handler is not None:
        if letter.route is Route.STREET:
            assert letter.handler == street_office(letter.street_id) and not letter.co_handlers
        else:
            assert letter.handler.kind is UnitKind.DEPARTMENT
        assert letter.handler not in letter.co_handlers
        assert len(set(letter.co_handlers)) == len(letter.co_handlers)
    else:
        assert not letter.co_handlers
    assert letter.holder == HOLDERS[stage](letter)

    # The hops: a chain from unit to unit in time; co-handlers branch off.
    holder, last_sent = letter.committee, letter.opened_at
    for hop in letter.hops:
        assert hop.sent_at >= last_sent
        assert hop.received_at is None or hop.received_at >= hop.sent_at
        last_sent = hop.sent_at
        if hop.stage == "co_handling":
            assert hop.from_unit == GOVERNMENT_OFFICE and hop.to_unit in letter.co_handlers
            continue
        assert hop.from_unit == holder
        holder = hop.to_unit
    assert all(h.received_at is not None for h in letter.hops[:-1] if h.stage != "co_handling")
    assert holder == letter.holder
    assert (letter.received_at is not None) == (stage in {S.IN_HAND, *ANSWERED_STAGES})

    # The sign-offs, replayed: each in turn, a refusal one step back, and
    # the chain complete once the street office has the letter.
    chain = [r.Signer.DEPUTY] * (letter.deputy_id is not None) + [
        r.Signer.DEPUTY_DIRECTOR,
        r.Signer.DIRECTOR,
    ]
    done = 0
    for s in letter.sign_offs:
        assert done < len(chain) and s.signer is chain[done]
        done = done - 1 if s.refused else done + 1
        done = max(done, 0)
    if letter.route is Route.STREET:
        expected = {S.DEPUTY_SIGN_OFF: 0, S.DEPUTY_DIRECTOR_SIGN_OFF: len(chain) - 2}
        expected[S.DIRECTOR_SIGN_OFF] = len(chain) - 1
        assert done == expected.get(stage, len(chain))
    else:
        assert done == 0
    for s in letter.sign_offs:
        if s.signer is r.Signer.DEPUTY:
            assert s.by.deputy_id == letter.deputy_id
        else:
            assert s.by.unit == letter.committee and s.by.position == s.signer.value

    # Answers, ratings, reopening.
    assert letter.round in (1, 2)
    assert len(letter.answers) == letter.round - (stage not in ANSWERED_STAGES)
    if letter.round == 2 or letter.answers:
        assert letter.handler is not None
    rated = [(x.rater, x.round) for x in letter.ratings]
    assert len(set(rated)) == len(rated)
    assert all(x.round <= letter.round for x in letter.ratings)
    if stage not in {S.FED_BACK, S.CLOSED}:
        assert all(x.round < letter.round for x in letter.ratings)
    if letter.round == 2:
        assert any(
            x.round == 1 and x.satisfaction is Satisfaction.DISSATISFIED for x in letter.ratings
        )
    assert all(x.rater in letter.raters_due for x in letter.ratings)
    if stage is S.CLOSED:
        assert all(letter.rating_of(x) is not None for x in letter.raters_due)

    # Extensions: one pending at most, the last, while the unit handles it.
    pending = [e for e in letter.extensions if e.decision is None]
    assert len(pending) <= 1
    if pending:
        assert letter.extensions[-1] is pending[0] and stage is S.IN_HAND
    assert letter.updated_at >= letter.opened_at


# ---------------------------------------------------------------- random actors


ACTORS = [
    COMMITTEE,
    OTHER_COMMITTEE,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    OTHER_DIRECTOR,
    DEPUTY,
    OTHER_DEPUTY,
    STAFF,
    STREET_OFFICE,
    OTHER_STREET_OFFICE,
    WB,
    SCO,
    GOV,
    LEAD,
    CO_6,
    CO_7,
    Actor(Role.DEPARTMENT, department_id=9),
    ADMIN,
    CONSTITUENT,
    SYSTEM,
]
Action = Callable[[Letter, Actor, datetime], Transition]


def rating_by_anyone(rater: Rater, satisfaction: Satisfaction, reopen: bool) -> Action:
    return lambda letter, actor, at: rated(actor, rater, satisfaction, reopen=reopen)(letter, at)


ACTIONS: dict[str, Action] = {
    "street": lambda x, a, at: r.decide_jurisdiction(x, a, at, Route.STREET),
    "district": lambda x, a, at: r.decide_jurisdiction(x, a, at, Route.DISTRICT),
    "sign": lambda x, a, at: r.sign_off(x, a, at, "同意"),
    "refuse": lambda x, a, at: r.refuse_sign_off(x, a, at, "不同意"),
    "refuse_without_reason": lambda x, a, at: r.refuse_sign_off(x, a, at, ""),
    "accept": lambda x, a, at: r.review(x, a, at, accept=True),
    "return": lambda x, a, at: r.review(x, a, at, accept=False, reason="退回"),
    "dispatch": lambda x, a, at: r.dispatch(x, a, at),
    "assign": lambda x, a, at: r.assign(x, a, at, lead=5, co_handlers=[6, 7]),
    "assign_alone": lambda x, a, at: r.assign(x, a, at, lead=6),
    "assign_lead_as_co": lambda x, a, at: r.assign(x, a, at, lead=5, co_handlers=[5]),
    "acknowledge": lambda x, a, at: r.acknowledge(x, a, at),
    "answer": lambda x, a, at: r.answer(x, a, at, "答复", [HASH]),
    "answer_nothing": lambda x, a, at: r.answer(x, a, at, ""),
    "extend": lambda x, a, at: r.request_extension(x, a, at, "需延期"),
    "approve": lambda x, a, at: r.decide_extension(x, a, at, approve=True),
    "refuse_extension": lambda x, a, at: r.decide_extension(
        x, a, at, approve=False, comment="不同意"
    ),
    "feed_back": lambda x, a, at: r.feed_back(x, a, at),
    **{
        f"rate_{rater}_{satisfaction}_{reopen}": rating_by_anyone(rater, satisfaction, reopen)
        for rater in Rater
        for satisfaction in Satisfaction
        for reopen in (False, True)
    },
}
PAIRS = [(action, actor) for action in ACTIONS.values() for actor in ACTORS]
RATINGS = [name for name in ACTIONS if name.startswith("rate_")]
# The actions that may move a letter on from each stage, and some with
# wrong input: a guide for the walk, so that it gets deep in few tries; the
# rules decide, not the guide.
GUIDE: dict[Stage, list[str]] = {
    S.JURISDICTION: ["street", "district"],
    S.DEPUTY_SIGN_OFF: ["sign", "refuse", "refuse_without_reason"],
    S.DEPUTY_DIRECTOR_SIGN_OFF: ["sign", "refuse"],
    S.DIRECTOR_SIGN_OFF: ["sign", "refuse"],
    S.REVIEW: ["accept", "return"],
    S.DISPATCH: ["dispatch"],
    S.ASSIGNMENT: ["assign_lead_as_co", "assign", "assign_alone"],
    S.AWAITING_RECEIPT: ["acknowledge"],
    S.IN_HAND: ["answer_nothing", "answer", "extend", "approve", "refuse_extension", "acknowledge"],
    S.ANSWERED: ["feed_back"],
    S.FED_BACK: RATINGS,
    S.CLOSED: [],
}


def guided(letter: Letter, start: int) -> list[tuple[Action, Actor]]:
    """The guide's pairs for the letter's stage, from the `start`th on."""
    pairs = [(ACTIONS[name], actor) for name in GUIDE[letter.stage] for actor in ACTORS]
    if not pairs:
        return []
    start %= len(pairs)
    return pairs[start:] + pairs[:start]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([7, None]),
    st.booleans(),
    st.data(),
)
def test_random_actions_by_random_actors_keep_the_letter_valid(
    deputy_id: int | None, constituent: bool, data: st.DataObject
) -> None:
    letter = opened(deputy_id, constituent=constituent)
    check_invariants(letter)
    at = T0
    for _ in range(data.draw(st.integers(1, 60), label="steps")):
        # Mostly forward in time, sometimes (refused) back.
        at += timedelta(minutes=data.draw(st.integers(-30, 3 * 24 * 60), label="minutes"))
        start = data.draw(st.integers(0, len(PAIRS) - 1), label="pair")
        # Half the steps take the first of the guide's pairs that succeeds,
        # so that the walk gets deep; the rest take any pair at random.
        forward = data.draw(st.booleans(), label="forward")
        order = guided(letter, start) if forward else [PAIRS[start]]
        before = copy.deepcopy(letter)
        for action, actor in order:
            try:
                moved = action(letter, actor, at)
            except (PermissionDenied, FailedPrecondition, InvalidArgument):
                assert letter == before
                continue
            assert moved.events and moved.events[-1].stage is moved.letter.stage
            assert all(e.at == at and e.by == actor for e in moved.events)
            assert moved.letter.updated_at == at
            assert letter.stage == moved.letter.stage or (
                (letter.stage, moved.letter.stage) in MOVES
            )
            letter = moved.letter
            check_invariants(letter)
            break
    event(f"ended at {letter.stage.value}, round {letter.round}")


def test_the_guided_walk_reaches_every_stage_and_closes() -> None:
    """The guide leads somewhere: walks from different starts visit every
    stage, so the property test's letters get past the first steps."""
    seen: set[Stage] = set()
    for deputy_id in (7, None):
        for start in range(0, 200, 3):
            letter = opened(deputy_id)
            at = T0
            for _ in range(30):
                at += timedelta(hours=1)
                for action, actor in guided(letter, start):
                    try:
                        letter = action(letter, actor, at).letter
                    except DomainError:
                        continue
                    seen.add(letter.stage)
                    break
    assert seen | {Stage.JURISDICTION} == set(Stage)
