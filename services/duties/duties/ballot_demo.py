"""The demo year's duty reports to voters (述职) and their secret ballots:
the deputies the report plan has report this year (a third of the
district; where no plan holds the year, every third deputy of a street, by
id, from the first), each at a meeting their street committee
schedules, with questions answered on the spot; the ballot is opened at the
meeting, codes are issued to the voters present, most of them vote, and the
ballot is closed and published the next day.

Most ballots are mostly satisfied, a few mostly basically satisfied; one
deputy's share falls below the re-nomination share (flagged), and one
ballot has fewer papers than the minimum turnout, so its result is withheld.
The thresholds are the service's own (`Ballots.rules`), so the demo shows
both whatever they are set to.

Every step goes through `Ballots` as the people who take it would, with
the demo's clock; votes through `cast_vote` with the codes issued.
Voters present are a dozen to twenty a meeting: each vote is its own
transaction, as it is for a voter, and `make up` loads the demo at its
first start.

Deterministic for a given year and registry, except what the ballot itself
draws at random (the codes, the order papers are kept in).
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from duties import ballot_models as m
from duties.activity_demo import (
    DemoClock,
    at,
    by_street,
    day_at,
    demo_clock,
    demo_year,
    holds_any,
    street_committee,
)
from duties.ballots import Ballots
from duties.registry import DeputyFacts
from kit.auth import Principal
from liaison.duties.v1 import ballots_pb2 as pb

SEED = 20261128
REPORTING_EVERY = 3  # a third of the deputies report each year
QUESTIONS = (
    ("您去年提出的加装电梯建议办理得怎么样了？", "已纳入街道年度计划，今年完成了三个小区的加装。"),
    ("社区停车难的问题有没有反映上去？", "已在代表建议中提出，区交通部门正在规划错时共享停车。"),
    ("长者饭堂的价格能不能再优惠一些？", "已与街道沟通，七十岁以上老人可享受补贴价。"),
    ("您一年参加了几次联络站接待活动？", "全年进站接待选民六次，收集意见建议二十余条。"),
    ("学校周边交通安全怎么保障？", "已推动增设上下学时段护学岗和减速设施。"),
)
COMMENTS = (
    "希望代表多到社区走走，听听群众意见",
    "履职认真，接待选民耐心细致",
    "建议办理情况要及时向选民反馈",
    "辛苦了，继续努力",
)
# Of a ballot's papers: satisfied, basically satisfied (the rest dissatisfied).
MOSTLY_SATISFIED = (0.8, 0.15)
MOSTLY_BASICALLY = (0.3, 0.6)


@dataclass(frozen=True)
class Loaded:
    meetings: int
    papers: int
    flagged_deputy: int
    withheld_ballot: int


def has_demo(ballots: Ballots) -> bool:
    return holds_any(ballots.db, m.ReportMeeting)


def reporting(deputies: list[DeputyFacts], planned: Collection[int] = ()) -> list[int]:
    """The active deputies who report this year: those `planned` (the report
    plan's for the year), or, with no plan, every third of each street by id."""
    if planned:
        return sorted(d.id for d in deputies if d.active and d.id in set(planned))
    return sorted(
        deputy_id
        for ids in by_street(deputies).values()
        for n, deputy_id in enumerate(ids)
        if n % REPORTING_EVERY == 0
    )


def load_demo(
    ballots: Ballots,
    deputies: list[DeputyFacts],
    today: date,
    *,
    planned: Collection[int] = (),
) -> Loaded:
    """Load the report meetings of the year of `today` (`activity_demo.demo_year`)
    of the deputies `planned` to report in it (`reporting`), over `ballots`,
    whose clock is the demo's while it loads."""
    due = reporting(deputies, planned)
    with demo_clock(ballots, today) as clock:
        return _load(ballots, clock, deputies, today, due)


def _load(
    ballots: Ballots, clock: DemoClock, deputies: list[DeputyFacts], today: date, due: list[int]
) -> Loaded:
    rng = random.Random(SEED)
    first, last = demo_year(today)
    if len(due) < 3:
        raise ValueError("the demo's ballots need at least three deputies due to report")
    street_of = {d.id: d.street_id for d in deputies}
    flagged_deputy, withheld_deputy = due[len(due) // 2], due[-1]
    rules = ballots.rules
    papers = 0
    withheld_ballot = 0
    for n, deputy_id in enumerate(due):
        held_on = day_at(first, last, rng.uniform(0.15, 0.95))
        if deputy_id == withheld_deputy:
            # Fewer papers than the minimum turnout: the result is withheld.
            cast = max(rules.min_turnout - 4, 1) if rules.min_turnout > 1 else 0
            present = cast + 2
            choices = _choices(rng, cast, MOSTLY_SATISFIED)
        elif deputy_id == flagged_deputy:
            present = max(18, rules.min_turnout + 4)
            cast = present - 2
            choices = _below(cast, rules.reelection_share)
        else:
            present = max(rng.randint(12, 20), rules.min_turnout + 3)
            cast = present - rng.randint(0, 2)
            split = MOSTLY_BASICALLY if n % 8 == 5 else MOSTLY_SATISFIED
            choices = _choices(rng, cast, split)
        ballot_id = _hold(
            ballots,
            clock,
            rng,
            street_committee(street_of[deputy_id]),
            deputy_id,
            held_on,
            present,
            choices,
        )
        papers += len(choices)
        if deputy_id == withheld_deputy:
            withheld_ballot = ballot_id
    return Loaded(len(due), papers, flagged_deputy, withheld_ballot)


def _choices(rng: random.Random, cast: int, split: tuple[float, float]) -> list[int]:
    satisfied, basically = split
    out = []
    for _ in range(cast):
        draw = rng.random()
        if draw < satisfied:
            out.append(pb.BALLOT_CHOICE_SATISFIED)
        elif draw < satisfied + basically:
            out.append(pb.BALLOT_CHOICE_BASICALLY_SATISFIED)
        else:
            out.append(pb.BALLOT_CHOICE_DISSATISFIED)
    return out


def _below(cast: int, share: float) -> list[int]:
    """`cast` choices whose satisfied + basically satisfied share is strictly
    below `share` (none, when `share` is 0 and nothing can be below it)."""
    good = int(share * cast)
    if good and good / cast >= share:
        good -= 1
    satisfied = good // 2
    return (
        [pb.BALLOT_CHOICE_SATISFIED] * satisfied
        + [pb.BALLOT_CHOICE_BASICALLY_SATISFIED] * (good - satisfied)
        + [pb.BALLOT_CHOICE_DISSATISFIED] * (cast - good)
    )


def _hold(
    ballots: Ballots,
    clock: DemoClock,
    rng: random.Random,
    committee: Principal,
    deputy_id: int,
    held_on: date,
    present: int,
    choices: list[int],
) -> int:
    """Schedule, hold (answers, ballot, codes, votes), close and publish; the
    ballot's id."""
    clock.now = at(held_on - timedelta(days=14))
    meeting = ballots.schedule(
        pb.ScheduleReportMeetingRequest(
            deputy_id=deputy_id, held_on=held_on.isoformat(), venue="社区代表联络站"
        ),
        committee,
    )
    clock.now = at(held_on, 15)
    asked = rng.sample(QUESTIONS, 2)
    ballots.record_answers(
        pb.RecordAnswersRequest(
            id=meeting.id,
            questions=[pb.ReportQuestion(question=q, answer=a) for q, a in asked],
        ),
        committee,
    )
    ballot = ballots.open_ballot(meeting.id, committee)
    codes = ballots.issue_codes(
        pb.IssueBallotCodesRequest(ballot_id=ballot.id, count=present),
        committee,
    ).codes
    for code, choice in zip(codes, choices, strict=False):
        comment = rng.choice(COMMENTS) if rng.random() < 0.1 else ""
        ballots.cast_vote(
            pb.CastVoteRequest(ballot_id=ballot.id, code=code, choice=choice, comment=comment)  # type: ignore[arg-type]
        )
    clock.now = at(held_on, 17)
    ballots.close(ballot.id, committee)
    clock.now = at(held_on + timedelta(days=1), 10)
    ballots.publish(ballot.id, committee)
    return int(ballot.id)
