"""The referral letter's workflow (转办函), as a pure state machine.

A letter is an immutable value. Every action takes the letter, the actor and
the time, checks who may act and whether the letter is at that point, and
returns a `Transition`: the new letter and the events to record (the
service stores both in one unit of work). A refused action raises and
returns nothing, so the letter it was given is unchanged:
- `PermissionDenied` when the actor may never take that action on this
  letter (the message names who may);
- `FailedPrecondition` when the actor may, but not now (the message names
  what the letter awaits);
- `InvalidArgument` naming the field when the action's own input is wrong.

The stages::

    open_letter
        |
        v
    JURISDICTION <------------------------------------------+----------+
      |  street                              district       | refused  | returned
      v                                         |           |          |
    DEPUTY_SIGN_OFF  (skipped without a deputy) |           |          |
      | signed            refused -> JURISDICTION           |          |
      v                                         v           |          |
    DEPUTY_DIRECTOR_SIGN_OFF                  REVIEW -------|----------+
      | signed      refused -> DEPUTY_SIGN_OFF  | accepted  |    (working body)
      v             (or JURISDICTION)           v           |
    DIRECTOR_SIGN_OFF                         DISPATCH      |
      | signed      refused -> DEPUTY_DIRECTOR  | sent to the government office
      |                                         v
      |  hop: to the street office            ASSIGNMENT
      |                                         | lead and co-handling departments
      +--------------------+--------------------+
                           v
                  AWAITING_RECEIPT <----------------------------+
                           | the handling unit acknowledges     |
                           v (the legal clock starts)           |
                        IN_HAND   (extension: requested,        |
                           |       approved or refused)         |
                           | answered in writing                | dissatisfied, reopened
                           v (hop back to the street committee, | (once)
                        ANSWERED   copied to the standing       |
                           |       committee office)            |
                           | fed back to deputy and constituent |
                           v                                    |
                        FED_BACK ---- each rates once ----------+
                           | every rating in
                           v
                        CLOSED

Decisions the article leaves open, made here:
- a refused sign-off sends the letter back one step (the deputy's refusal,
  and the deputy director's on a letter without a deputy, back to the
  jurisdiction decision, where the street committee may send it to the
  district instead); the sign-off before the refusing one is void and is
  given again; the working body's return also goes to the jurisdiction
  decision;
- the hops between the district's bodies are received when the receiving
  unit acts on the letter; only the handling unit and the co-handling
  departments acknowledge receipt themselves (the receipt starts the legal
  clock, whose dates are `referral.deadlines`' business);
- a dissatisfied rating reopens the letter only when the rater asks for it
  (`reopen=True`), once per letter: the same handling unit gets it again,
  acknowledges it again and answers again, and both are asked to rate the
  new answer; co-handling departments are not asked again;
- answering with an extension pending withdraws the request;
- time never goes back: an action dated before the letter's last change
  is refused (`InvalidArgument` on `at`);
- nobody acts in another's name: an administrator takes no action here,
  and the platform itself only opens letters (from an opinion handed on).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from kit.auth import Role
from kit.errors import FailedPrecondition, PermissionDenied, Violations, invalid
from referral.units import (
    GOVERNMENT_OFFICE,
    STANDING_COMMITTEE_OFFICE,
    WORKING_BODY,
    Actor,
    Position,
    Unit,
    department,
    street_committee,
    street_office,
)

MAX_COMMENT = 500
MAX_ANSWER = 5000
MAX_ATTACHMENTS = 20
# An attachment is referred to by its content's SHA-256, in hex.
CONTENT_HASH = re.compile(r"^[0-9a-f]{64}$")


class Stage(StrEnum):
    JURISDICTION = "jurisdiction"
    DEPUTY_SIGN_OFF = "deputy_sign_off"
    DEPUTY_DIRECTOR_SIGN_OFF = "deputy_director_sign_off"
    DIRECTOR_SIGN_OFF = "director_sign_off"
    REVIEW = "review"
    DISPATCH = "dispatch"
    ASSIGNMENT = "assignment"
    AWAITING_RECEIPT = "awaiting_receipt"
    IN_HAND = "in_hand"
    ANSWERED = "answered"
    FED_BACK = "fed_back"
    CLOSED = "closed"


# What a letter at each stage waits for, for messages and pages.
AWAITS: dict[Stage, str] = {
    Stage.JURISDICTION: "the street committee's decision on jurisdiction",
    Stage.DEPUTY_SIGN_OFF: "the deputy's sign-off",
    Stage.DEPUTY_DIRECTOR_SIGN_OFF: "the street committee's deputy director's sign-off",
    Stage.DIRECTOR_SIGN_OFF: "the street committee's director's sign-off",
    Stage.REVIEW: "the working body's review",
    Stage.DISPATCH: "the standing committee office's dispatch to the government office",
    Stage.ASSIGNMENT: "the government office's assignment to departments",
    Stage.AWAITING_RECEIPT: "the handling unit's receipt",
    Stage.IN_HAND: "the handling unit's written answer",
    Stage.ANSWERED: "the street committee's feedback to the deputy and the constituent",
    Stage.FED_BACK: "the ratings of the answer",
    Stage.CLOSED: "nothing: it is closed",
}

open_stages: frozenset[Stage] = frozenset(Stage) - {Stage.CLOSED}
STREET_STAGES = frozenset(
    {Stage.DEPUTY_SIGN_OFF, Stage.DEPUTY_DIRECTOR_SIGN_OFF, Stage.DIRECTOR_SIGN_OFF}
)
DISTRICT_STAGES = frozenset({Stage.REVIEW, Stage.DISPATCH, Stage.ASSIGNMENT})
# Stages at which a unit handles the letter (it has been sent to one).
HANDLED_STAGES = frozenset(
    {Stage.AWAITING_RECEIPT, Stage.IN_HAND, Stage.ANSWERED, Stage.FED_BACK, Stage.CLOSED}
)


class Route(StrEnum):
    STREET = "street"  # within the street's powers: the street office handles it
    DISTRICT = "district"  # the working body, the government office, a department


class Signer(StrEnum):
    DEPUTY = "deputy"
    DEPUTY_DIRECTOR = "deputy_director"
    DIRECTOR = "director"


SIGN_OFF_STAGE = {
    Signer.DEPUTY: Stage.DEPUTY_SIGN_OFF,
    Signer.DEPUTY_DIRECTOR: Stage.DEPUTY_DIRECTOR_SIGN_OFF,
    Signer.DIRECTOR: Stage.DIRECTOR_SIGN_OFF,
}
SIGNER_LABELS = {
    Signer.DEPUTY: "the deputy's",
    Signer.DEPUTY_DIRECTOR: "the deputy director's",
    Signer.DIRECTOR: "the director's",
}


class Rater(StrEnum):
    DEPUTY = "deputy"
    CONSTITUENT = "constituent"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


class Decision(StrEnum):
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"  # answered while pending


# Hops' stage names.
HOP_TO_STREET_OFFICE = "to_street_office"
HOP_TO_REVIEW = "to_review"
HOP_RETURNED = "returned"
HOP_TO_DISPATCH = "to_dispatch"
HOP_TO_GOVERNMENT = "to_government_office"
HOP_CO_HANDLING = "co_handling"
HOP_TO_LEAD = "to_lead_department"
HOP_ANSWER = "answer"
HOP_REOPENED = "reopened"

# Events' kinds (the actions, and the facts they entail).
OPENED = "opened"
JURISDICTION_DECIDED = "jurisdiction_decided"
SIGNED_OFF = "signed_off"
SIGN_OFF_REFUSED = "sign_off_refused"
SENT = "sent"
REVIEW_ACCEPTED = "review_accepted"
RETURNED = "returned"
ASSIGNED = "assigned"
RECEIVED = "received"
ANSWERED = "answered"
COPIED = "copied"
FED_BACK = "fed_back"
RATED = "rated"
REOPENED = "reopened"
EXTENSION_REQUESTED = "extension_requested"
EXTENSION_DECIDED = "extension_decided"
CLOSED = "closed"


@dataclass(frozen=True)
class Hop:
    """One hand-off: the letter sent from a unit to another."""

    from_unit: Unit
    to_unit: Unit
    sent_at: datetime
    stage: str
    received_at: datetime | None = None


@dataclass(frozen=True)
class SignOff:
    signer: Signer
    by: Actor
    at: datetime
    comment: str
    refused: bool = False


@dataclass(frozen=True)
class Answer:
    by: Actor
    at: datetime
    text: str
    attachments: tuple[str, ...]  # content hashes


@dataclass(frozen=True)
class Rating:
    rater: Rater
    by: Actor
    at: datetime
    satisfaction: Satisfaction
    round: int  # the answer it rates: 1, or 2 after a reopening


@dataclass(frozen=True)
class Extension:
    by: Actor
    requested_at: datetime
    reason: str
    round: int
    decision: Decision | None = None  # None while pending
    decided_by: Actor | None = None
    decided_at: datetime | None = None
    comment: str = ""
    until: date | None = None  # the last day asked for (checked by referral.deadlines)


@dataclass(frozen=True)
class Event:
    """What happened, for the letter's trail and the outbox."""

    kind: str
    at: datetime
    by: Actor
    stage: Stage  # the letter's stage after it
    detail: str = ""  # a comment, a reason, a decision
    unit: Unit | None = None  # the unit it was sent or copied to


@dataclass(frozen=True)
class Letter:
    street_id: int
    deputy_id: int | None  # the deputy who handed it on; None when staff raised it
    category: str
    community_id: int | None
    opened_at: datetime
    updated_at: datetime
    # Whether a constituent raised it: someone to feed back to, who rates.
    constituent: bool = True
    stage: Stage = Stage.JURISDICTION
    route: Route | None = None
    sign_offs: tuple[SignOff, ...] = ()
    hops: tuple[Hop, ...] = ()
    handler: Unit | None = None  # the street office or the lead department
    co_handlers: tuple[Unit, ...] = ()
    answers: tuple[Answer, ...] = ()
    ratings: tuple[Rating, ...] = ()
    extensions: tuple[Extension, ...] = ()
    round: int = 1  # 2 once reopened

    @property
    def committee(self) -> Unit:
        return street_committee(self.street_id)

    @property
    def holder(self) -> Unit:
        """Who has the letter: the last hop's receiver; before the first hop
        the street committee, where it is opened."""
        return self.hops[-1].to_unit if self.hops else self.committee

    @property
    def received_at(self) -> datetime | None:
        """When the handling unit acknowledged this round's letter (the
        legal clock's start); None before."""
        for hop in reversed(self.hops):
            if hop.to_unit == self.handler and hop.stage != HOP_CO_HANDLING:
                return hop.received_at
        return None

    @property
    def supervisor(self) -> Unit | None:
        """Who decides the handling unit's extension requests."""
        if self.route is Route.STREET:
            return self.committee
        if self.route is Route.DISTRICT:
            return STANDING_COMMITTEE_OFFICE
        return None

    @property
    def pending_extension(self) -> Extension | None:
        last = self.extensions[-1] if self.extensions else None
        return last if last is not None and last.decision is None else None

    @property
    def raters_due(self) -> tuple[Rater, ...]:
        return (Rater.DEPUTY,) * (self.deputy_id is not None) + (
            Rater.CONSTITUENT,
        ) * self.constituent

    def rating_of(self, rater: Rater, round: int | None = None) -> Rating | None:
        wanted = self.round if round is None else round
        return next((r for r in self.ratings if r.rater is rater and r.round == wanted), None)

    def receipt_of(self, unit: Unit) -> datetime | None:
        """When `unit` acknowledged its latest hop; None when it has not."""
        for hop in reversed(self.hops):
            if hop.to_unit == unit:
                return hop.received_at
        return None


class Transition(NamedTuple):
    letter: Letter
    events: tuple[Event, ...]


def stage_of(letter: Letter) -> Stage:
    return letter.stage


def open_by_stage(letters: Iterable[Letter]) -> dict[Stage, int]:
    """How many of `letters` are open at each stage (every open stage named)."""
    counts = Counter(stage_of(letter) for letter in letters)
    return {stage: counts.get(stage, 0) for stage in Stage if stage in open_stages}


# ---------------------------------------------------------------- checks


def _no_proxy(actor: Actor) -> None:
    if actor.role is Role.ADMIN:
        raise PermissionDenied("an administrator may not act on a referral letter in anyone's name")


def _only(actor: Actor, unit: Unit, doing: str) -> None:
    _no_proxy(actor)
    if actor.unit != unit:
        raise PermissionDenied(f"only {unit} may {doing}; {actor} may not")


def _awaiting(letter: Letter, stages: Iterable[Stage], doing: str) -> None:
    if letter.stage not in frozenset(stages):
        raise FailedPrecondition(
            f"the letter awaits {AWAITS[letter.stage]}: it cannot be {doing} now"
        )


def _clock(letter: Letter, at: datetime) -> None:
    if at.tzinfo is None:
        raise invalid("at", "needs a time zone")
    if at < letter.updated_at:
        raise invalid("at", f"is before the letter's last change ({letter.updated_at.isoformat()})")


def _text(v: Violations, field: str, text: str, limit: int, *, required: bool) -> str:
    value = text.strip()
    if required and not value:
        v.add(field, "is required")
    elif len(value) > limit:
        v.add(field, f"is longer than {limit} characters")
    elif any(ord(c) < 32 and c not in "\n\t" for c in value):
        v.add(field, "holds a control character")
    return value


def _one_text(field: str, text: str, limit: int, *, required: bool) -> str:
    v = Violations()
    value = _text(v, field, text, limit, required=required)
    v.raise_if_any(f"the {field} is not valid")
    return value


def _received_by_holder(letter: Letter, at: datetime) -> tuple[Hop, ...]:
    """The hops, with the last one received now if the holder had not yet:
    the receiving unit acting on the letter is its receipt."""
    if not letter.hops or letter.hops[-1].received_at is not None:
        return letter.hops
    return (*letter.hops[:-1], dataclasses.replace(letter.hops[-1], received_at=at))


def _move(letter: Letter, at: datetime, **changes: Any) -> Letter:
    return dataclasses.replace(letter, updated_at=at, **changes)


# ---------------------------------------------------------------- opening


def open_letter(
    actor: Actor,
    at: datetime,
    *,
    street_id: int,
    deputy_id: int | None,
    category: str,
    community_id: int | None,
    constituent: bool = True,
) -> Transition:
    """A letter for an opinion handed on (the platform, on the opinion's
    event) or raised by the street's staff."""
    _no_proxy(actor)
    if actor.role is not Role.SYSTEM and not (
        actor.role in (Role.STREET_COMMITTEE, Role.STATION_STAFF) and actor.street_id == street_id
    ):
        raise PermissionDenied(
            f"only the staff of street {street_id} or the platform may open its letters; "
            f"{actor} may not"
        )
    v = Violations()
    if street_id < 1:
        v.add("street_id", "is required")
    if deputy_id is not None and deputy_id < 1:
        v.add("deputy_id", "is not a deputy's id")
    if community_id is not None and community_id < 1:
        v.add("community_id", "is not a community's id")
    _text(v, "category", category, 64, required=True)
    if at.tzinfo is None:
        v.add("at", "needs a time zone")
    v.raise_if_any("the letter cannot be opened")
    letter = Letter(
        street_id=street_id,
        deputy_id=deputy_id,
        category=category.strip(),
        community_id=community_id,
        opened_at=at,
        updated_at=at,
        constituent=constituent,
    )
    return Transition(letter, (Event(OPENED, at, actor, letter.stage),))


# ---------------------------------------------------------------- the street committee


def decide_jurisdiction(letter: Letter, actor: Actor, at: datetime, route: Route) -> Transition:
    """The street committee of the letter's street: within the street's
    powers (the sign-offs follow) or the district's (to the working body)."""
    _only(actor, letter.committee, "decide a letter's jurisdiction")
    _awaiting(letter, [Stage.JURISDICTION], "given a jurisdiction")
    _clock(letter, at)
    hops = _received_by_holder(letter, at)
    decided = Event(JURISDICTION_DECIDED, at, actor, Stage.JURISDICTION, route.value)
    if route is Route.DISTRICT:
        hop = Hop(letter.committee, WORKING_BODY, at, HOP_TO_REVIEW)
        after = _move(letter, at, route=route, stage=Stage.REVIEW, hops=(*hops, hop))
        return Transition(
            after,
            (
                dataclasses.replace(decided, stage=Stage.REVIEW),
                Event(SENT, at, actor, Stage.REVIEW, HOP_TO_REVIEW, WORKING_BODY),
            ),
        )
    stage = (
        Stage.DEPUTY_SIGN_OFF if letter.deputy_id is not None else Stage.DEPUTY_DIRECTOR_SIGN_OFF
    )
    after = _move(letter, at, route=route, stage=stage, hops=hops)
    return Transition(after, (dataclasses.replace(decided, stage=stage),))


def _signer(letter: Letter, actor: Actor) -> Signer:
    _no_proxy(actor)
    if actor.role is Role.DEPUTY and letter.deputy_id is not None:
        if actor.deputy_id == letter.deputy_id:
            return Signer.DEPUTY
    elif actor.unit == letter.committee and actor.position is Position.DEPUTY_DIRECTOR:
        return Signer.DEPUTY_DIRECTOR
    elif actor.unit == letter.committee and actor.position is Position.DIRECTOR:
        return Signer.DIRECTOR
    deputy = f"deputy {letter.deputy_id}, then " if letter.deputy_id is not None else ""
    raise PermissionDenied(
        f"only {deputy}the deputy director and the director of {letter.committee} "
        f"sign this letter off; {actor} may not"
    )


def _check_turn(letter: Letter, signer: Signer) -> None:
    if letter.stage in STREET_STAGES and letter.stage is not SIGN_OFF_STAGE[signer]:
        raise FailedPrecondition(
            f"the letter awaits {AWAITS[letter.stage]}, not {SIGNER_LABELS[signer]}"
        )
    _awaiting(letter, [SIGN_OFF_STAGE[signer]], "signed off")


def sign_off(letter: Letter, actor: Actor, at: datetime, comment: str = "") -> Transition:
    """The deputy, the deputy director and the director, in this order, add
    their comments; after the director's the street committee sends the
    letter to the street office."""
    signer = _signer(letter, actor)
    _check_turn(letter, signer)
    _clock(letter, at)
    comment = _one_text("comment", comment, MAX_COMMENT, required=False)
    signed = (*letter.sign_offs, SignOff(signer, actor, at, comment))
    if signer is Signer.DEPUTY:
        nxt = Stage.DEPUTY_DIRECTOR_SIGN_OFF
    elif signer is Signer.DEPUTY_DIRECTOR:
        nxt = Stage.DIRECTOR_SIGN_OFF
    else:
        office = street_office(letter.street_id)
        hop = Hop(letter.committee, office, at, HOP_TO_STREET_OFFICE)
        after = _move(
            letter,
            at,
            sign_offs=signed,
            stage=Stage.AWAITING_RECEIPT,
            handler=office,
            hops=(*letter.hops, hop),
        )
        return Transition(
            after,
            (
                Event(SIGNED_OFF, at, actor, after.stage, comment),
                Event(SENT, at, actor, after.stage, HOP_TO_STREET_OFFICE, office),
            ),
        )
    after = _move(letter, at, sign_offs=signed, stage=nxt)
    return Transition(after, (Event(SIGNED_OFF, at, actor, nxt, comment),))


def refuse_sign_off(letter: Letter, actor: Actor, at: datetime, reason: str) -> Transition:
    """A signer refuses with a reason: the letter goes back one step (see the
    module's notes)."""
    signer = _signer(letter, actor)
    _check_turn(letter, signer)
    _clock(letter, at)
    reason = _one_text("reason", reason, MAX_COMMENT, required=True)
    refused = (*letter.sign_offs, SignOff(signer, actor, at, reason, refused=True))
    back = {
        Signer.DEPUTY: Stage.JURISDICTION,
        Signer.DEPUTY_DIRECTOR: (
            Stage.DEPUTY_SIGN_OFF if letter.deputy_id is not None else Stage.JURISDICTION
        ),
        Signer.DIRECTOR: Stage.DEPUTY_DIRECTOR_SIGN_OFF,
    }[signer]
    route = None if back is Stage.JURISDICTION else letter.route
    after = _move(letter, at, sign_offs=refused, stage=back, route=route)
    return Transition(after, (Event(SIGN_OFF_REFUSED, at, actor, back, reason),))


# ---------------------------------------------------------------- the district


def review(
    letter: Letter, actor: Actor, at: datetime, *, accept: bool, reason: str = ""
) -> Transition:
    """The working body accepts the letter (to the standing committee office)
    or returns it to the street committee with a reason."""
    _only(actor, WORKING_BODY, "review a letter")
    _awaiting(letter, [Stage.REVIEW], "reviewed")
    _clock(letter, at)
    reason = _one_text("reason", reason, MAX_COMMENT, required=not accept)
    hops = _received_by_holder(letter, at)
    if accept:
        hop = Hop(WORKING_BODY, STANDING_COMMITTEE_OFFICE, at, HOP_TO_DISPATCH)
        after = _move(letter, at, stage=Stage.DISPATCH, hops=(*hops, hop))
        return Transition(
            after, (Event(REVIEW_ACCEPTED, at, actor, after.stage, reason, hop.to_unit),)
        )
    hop = Hop(WORKING_BODY, letter.committee, at, HOP_RETURNED)
    after = _move(letter, at, stage=Stage.JURISDICTION, route=None, hops=(*hops, hop))
    return Transition(after, (Event(RETURNED, at, actor, after.stage, reason, hop.to_unit),))


def dispatch(letter: Letter, actor: Actor, at: datetime) -> Transition:
    """The standing committee office sends the letter to the government office."""
    _only(actor, STANDING_COMMITTEE_OFFICE, "send a letter to the government office")
    _awaiting(letter, [Stage.DISPATCH], "sent to the government office")
    _clock(letter, at)
    hop = Hop(STANDING_COMMITTEE_OFFICE, GOVERNMENT_OFFICE, at, HOP_TO_GOVERNMENT)
    after = _move(letter, at, stage=Stage.ASSIGNMENT, hops=(*_received_by_holder(letter, at), hop))
    return Transition(
        after, (Event(SENT, at, actor, after.stage, HOP_TO_GOVERNMENT, GOVERNMENT_OFFICE),)
    )


def assign(
    letter: Letter, actor: Actor, at: datetime, *, lead: int, co_handlers: Sequence[int] = ()
) -> Transition:
    """The government office hands the letter to one lead department and any
    co-handling departments (distinct, the lead not among them)."""
    _only(actor, GOVERNMENT_OFFICE, "assign a letter to departments")
    _awaiting(letter, [Stage.ASSIGNMENT], "assigned")
    _clock(letter, at)
    v = Violations()
    if lead < 1:
        v.add("lead", "is not a department's id")
    if any(d < 1 for d in co_handlers):
        v.add("co_handlers", "holds something that is not a department's id")
    if len(set(co_handlers)) != len(co_handlers):
        v.add("co_handlers", "names a department twice")
    if lead in co_handlers:
        v.add("co_handlers", f"names the lead department ({lead})")
    v.raise_if_any("the letter cannot be assigned")
    hops = _received_by_holder(letter, at)
    co = tuple(department(d) for d in co_handlers)
    lead_unit = department(lead)
    # The lead's hop comes last: the letter's holder is the lead department.
    sent = (
        *(Hop(GOVERNMENT_OFFICE, unit, at, HOP_CO_HANDLING) for unit in co),
        Hop(GOVERNMENT_OFFICE, lead_unit, at, HOP_TO_LEAD),
    )
    after = _move(
        letter,
        at,
        stage=Stage.AWAITING_RECEIPT,
        handler=lead_unit,
        co_handlers=co,
        hops=(*hops, *sent),
    )
    # The lead first, then the co-handlers as named.
    events = tuple(
        Event(ASSIGNED, at, actor, after.stage, hop.stage, hop.to_unit)
        for hop in (sent[-1], *sent[:-1])
    )
    return Transition(after, events)


# ---------------------------------------------------------------- the handling unit


def _handling(letter: Letter, actor: Actor, doing: str, *, co: bool = False) -> None:
    """Only the unit handling the letter (or, with `co`, a co-handling one)."""
    _no_proxy(actor)
    if actor.role is not Role.DEPARTMENT:
        raise PermissionDenied(f"only the unit handling the letter may {doing}; {actor} may not")
    if letter.handler is None:
        raise FailedPrecondition(
            f"the letter awaits {AWAITS[letter.stage]}: no unit handles it yet"
        )
    allowed = (letter.handler, *letter.co_handlers) if co else (letter.handler,)
    if actor.unit not in allowed:
        raise PermissionDenied(
            f"only {letter.handler}, which handles the letter, may {doing}; {actor} may not"
        )


def acknowledge(letter: Letter, actor: Actor, at: datetime) -> Transition:
    """The handling unit (or a co-handling department) acknowledges receipt;
    the handling unit's receipt starts the legal clock."""
    _handling(letter, actor, "acknowledge receipt", co=True)
    _clock(letter, at)
    unit = actor.unit
    is_lead = unit == letter.handler
    if is_lead:
        _awaiting(letter, [Stage.AWAITING_RECEIPT], "acknowledged by its handling unit")
        index = max(
            i for i, h in enumerate(letter.hops) if h.to_unit == unit and h.stage != HOP_CO_HANDLING
        )
    else:
        _awaiting(letter, [Stage.AWAITING_RECEIPT, Stage.IN_HAND], "acknowledged by a co-handler")
        index = max(i for i, h in enumerate(letter.hops) if h.to_unit == unit)
        if letter.hops[index].received_at is not None:
            raise FailedPrecondition(f"{unit} acknowledged the letter already")
    hop = dataclasses.replace(letter.hops[index], received_at=at)
    hops = (*letter.hops[:index], hop, *letter.hops[index + 1 :])
    stage = Stage.IN_HAND if is_lead else letter.stage
    after = _move(letter, at, hops=hops, stage=stage)
    return Transition(after, (Event(RECEIVED, at, actor, stage, hop.stage, unit),))


def answer(
    letter: Letter, actor: Actor, at: datetime, text: str, attachments: Sequence[str] = ()
) -> Transition:
    """The handling unit answers in writing, to the street committee; the
    answer is copied to the standing committee office."""
    _handling(letter, actor, "answer the letter")
    _awaiting(letter, [Stage.IN_HAND], "answered")
    _clock(letter, at)
    v = Violations()
    text = _text(v, "text", text, MAX_ANSWER, required=True)
    if len(attachments) > MAX_ATTACHMENTS:
        v.add("attachments", f"holds more than {MAX_ATTACHMENTS} files")
    if any(not CONTENT_HASH.match(a) for a in attachments):
        v.add("attachments", "holds something that is not a SHA-256 content hash (64 hex digits)")
    v.raise_if_any("the answer is not valid")
    extensions = letter.extensions
    pending = letter.pending_extension
    if pending is not None:
        withdrawn = dataclasses.replace(pending, decision=Decision.WITHDRAWN, decided_at=at)
        extensions = (*extensions[:-1], withdrawn)
    assert letter.handler is not None
    hop = Hop(letter.handler, letter.committee, at, HOP_ANSWER)
    after = _move(
        letter,
        at,
        stage=Stage.ANSWERED,
        answers=(*letter.answers, Answer(actor, at, text, tuple(dict.fromkeys(attachments)))),
        extensions=extensions,
        hops=(*letter.hops, hop),
    )
    events = (
        Event(ANSWERED, at, actor, after.stage, "", letter.committee),
        Event(COPIED, at, actor, after.stage, "", STANDING_COMMITTEE_OFFICE),
    )
    return Transition(after, events)


def request_extension(
    letter: Letter, actor: Actor, at: datetime, reason: str, until: date | None = None
) -> Transition:
    """The handling unit asks for more time (one request pending at a time),
    until the last day `until` (which the service checks against the legal
    limit)."""
    _handling(letter, actor, "ask for an extension")
    _awaiting(letter, [Stage.IN_HAND], "given an extension")
    if letter.pending_extension is not None:
        raise FailedPrecondition("an extension request is pending already: await its decision")
    _clock(letter, at)
    reason = _one_text("reason", reason, MAX_COMMENT, required=True)
    request = Extension(actor, at, reason, letter.round, until=until)
    after = _move(letter, at, extensions=(*letter.extensions, request))
    return Transition(after, (Event(EXTENSION_REQUESTED, at, actor, after.stage, reason),))


def decide_extension(
    letter: Letter, actor: Actor, at: datetime, *, approve: bool, comment: str = ""
) -> Transition:
    """The supervising body (the street committee for the street route, the
    standing committee office for the district's) decides the request."""
    _no_proxy(actor)
    if letter.supervisor is not None:
        _only(actor, letter.supervisor, "decide an extension request")
    pending = letter.pending_extension
    if pending is None:
        raise FailedPrecondition(
            f"the letter awaits {AWAITS[letter.stage]}: no extension request is pending"
        )
    _clock(letter, at)
    comment = _one_text("comment", comment, MAX_COMMENT, required=not approve)
    decision = Decision.APPROVED if approve else Decision.REFUSED
    decided = dataclasses.replace(
        pending, decision=decision, decided_by=actor, decided_at=at, comment=comment
    )
    after = _move(letter, at, extensions=(*letter.extensions[:-1], decided))
    detail = f"{decision.value}: {comment}" if comment else decision.value
    return Transition(after, (Event(EXTENSION_DECIDED, at, actor, after.stage, detail),))


# ---------------------------------------------------------------- feedback and ratings


def _closed_if_rated(letter: Letter, at: datetime, actor: Actor) -> Transition:
    if all(letter.rating_of(r) is not None for r in letter.raters_due):
        after = _move(letter, at, stage=Stage.CLOSED)
        return Transition(after, (Event(CLOSED, at, actor, Stage.CLOSED),))
    return Transition(letter, ())


def feed_back(letter: Letter, actor: Actor, at: datetime, comment: str = "") -> Transition:
    """The street committee feeds the answer back to the deputy and the
    constituent; with nobody to rate it, the letter is closed."""
    _only(actor, letter.committee, "feed an answer back")
    _awaiting(letter, [Stage.ANSWERED], "fed back")
    _clock(letter, at)
    comment = _one_text("comment", comment, MAX_COMMENT, required=False)
    fed = _move(letter, at, stage=Stage.FED_BACK, hops=_received_by_holder(letter, at))
    closed = _closed_if_rated(fed, at, actor)
    return Transition(
        closed.letter, (Event(FED_BACK, at, actor, fed.stage, comment), *closed.events)
    )


def _may_rate(letter: Letter, actor: Actor, rater: Rater) -> None:
    _no_proxy(actor)
    if rater is Rater.DEPUTY:
        if letter.deputy_id is None:
            raise FailedPrecondition(
                "no deputy handed this letter on: there is no deputy to rate it"
            )
        if actor.role is not Role.DEPUTY or actor.deputy_id != letter.deputy_id:
            raise PermissionDenied(
                f"only deputy {letter.deputy_id} may give the deputy's rating; {actor} may not"
            )
        return
    if not letter.constituent:
        raise FailedPrecondition("no constituent raised this letter: there is nobody to rate it")
    # The constituent rates online (the service checks it is the one who
    # raised the opinion), or tells the street committee, which records it.
    if actor.role is not Role.CONSTITUENT and actor.unit != letter.committee:
        raise PermissionDenied(
            f"only the constituent, or {letter.committee} for them, may give the constituent's "
            f"rating; {actor} may not"
        )


def rate(
    letter: Letter,
    actor: Actor,
    at: datetime,
    *,
    rater: Rater,
    satisfaction: Satisfaction,
    reopen: bool = False,
) -> Transition:
    """The deputy or the constituent rates the answer, once each; a
    dissatisfied rater may ask to reopen the letter, once per letter."""
    _may_rate(letter, actor, rater)
    _awaiting(letter, [Stage.FED_BACK], "rated (only an answer fed back is rated)")
    if letter.rating_of(rater) is not None:
        raise FailedPrecondition(f"the {rater.value} has rated this answer already")
    if reopen and satisfaction is not Satisfaction.DISSATISFIED:
        raise invalid("reopen", "only a dissatisfied rating may reopen the letter")
    if reopen and letter.round > 1:
        raise FailedPrecondition(
            "the letter was reopened once already: it cannot be reopened again"
        )
    _clock(letter, at)
    rating = Rating(rater, actor, at, satisfaction, letter.round)
    rated = _move(letter, at, ratings=(*letter.ratings, rating))
    event = Event(RATED, at, actor, rated.stage, f"{rater.value}: {satisfaction.value}")
    if not reopen:
        closed = _closed_if_rated(rated, at, actor)
        return Transition(closed.letter, (event, *closed.events))
    assert letter.handler is not None
    hop = Hop(letter.committee, letter.handler, at, HOP_REOPENED)
    after = _move(
        rated, at, stage=Stage.AWAITING_RECEIPT, round=letter.round + 1, hops=(*letter.hops, hop)
    )
    return Transition(
        after,
        (
            dataclasses.replace(event, stage=after.stage),
            Event(REOPENED, at, actor, after.stage, HOP_REOPENED, letter.handler),
        ),
    )
