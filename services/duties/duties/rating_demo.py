"""The demo year's constituents' ratings of deputies: most deputies rated by
a few constituents (`demo:constituent-<n>`), mostly satisfied, a few with a
comment; one comment abusive, reported by another constituent and hidden by
the deputy's street committee, with its reason.

Every step goes through `DutyRecords` (rate, report, moderate) as the
people who take it would, with the demo's clock, days of the demo's year.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

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
from duties.record_models import DeputyRating
from duties.record_service import DutyRecords
from duties.registry import DeputyFacts
from kit.auth import Principal, Role
from liaison.duties.v1 import record_pb2 as pb

SEED = 20261130
CONSTITUENTS = 600
RATINGS_PER_DEPUTY = (0, 1, 1, 2, 2, 3)
COMMENTED = 0.12
COMMENTS = {
    pb.DEPUTY_RATING_LEVEL_SATISFIED: (
        "代表经常来社区，有事找得到人",
        "加装电梯的事多亏代表帮忙反映",
        "接待选民很耐心，点赞",
    ),
    pb.DEPUTY_RATING_LEVEL_BASICALLY_SATISFIED: (
        "反映的问题有回音，但办理有点慢",
        "希望多公布建议办理进度",
    ),
    pb.DEPUTY_RATING_LEVEL_DISSATISFIED: ("一年没见过代表来社区", "反映的停车问题至今没有答复"),
}
ABUSIVE = "这个代表就是个摆设，骗子，滚下台！"
REPORT_REASON = "含侮辱性言辞"
HIDE_REASON = "评论含人身攻击内容，不予公开；评价等级仍计入统计"


@dataclass(frozen=True)
class Loaded:
    ratings: int
    comments: int
    hidden_rating: int


def has_demo(records: DutyRecords) -> bool:
    return holds_any(records.db, DeputyRating)


def constituent(n: int) -> Principal:
    return Principal(sub=f"demo:constituent-{n}", role=Role.CONSTITUENT, name="演示选民")


def _level(rng: random.Random) -> int:
    draw = rng.random()
    if draw < 0.75:
        return pb.DEPUTY_RATING_LEVEL_SATISFIED
    if draw < 0.93:
        return pb.DEPUTY_RATING_LEVEL_BASICALLY_SATISFIED
    return pb.DEPUTY_RATING_LEVEL_DISSATISFIED


def load_demo(records: DutyRecords, deputies: list[DeputyFacts], today: date) -> Loaded:
    """Load the ratings of the year of `today` (`activity_demo.demo_year`),
    over `records`, whose clock is the demo's while it loads."""
    with demo_clock(records, today) as clock:
        return _load(records, clock, deputies, today)


def _load(
    records: DutyRecords, clock: DemoClock, deputies: list[DeputyFacts], today: date
) -> Loaded:
    rng = random.Random(SEED)
    first, last = demo_year(today)
    streets = by_street(deputies)
    everyone = sorted(i for ids in streets.values() for i in ids)
    if not everyone:
        raise ValueError("the demo's ratings need at least one deputy")
    ratings = comments = 0
    for deputy_id in everyone:
        raters = rng.sample(range(1, CONSTITUENTS + 1), rng.choice(RATINGS_PER_DEPUTY))
        for rater in sorted(raters):
            level = _level(rng)
            comment = rng.choice(COMMENTS[level]) if rng.random() < COMMENTED else ""
            clock.now = at(day_at(first, last, rng.random()), rng.randint(8, 21))
            records.rate(
                pb.RateDeputyRequest(deputy_id=deputy_id, level=level, comment=comment),  # type: ignore[arg-type]
                constituent(rater),
            )
            ratings += 1
            comments += bool(comment)
    # The abusive comment, from a constituent who rated no one else.
    target = everyone[len(everyone) // 3]
    street_of = {d.id: d.street_id for d in deputies}
    clock.now = at(day_at(first, last, 0.7), 20)
    abusive = records.rate(
        pb.RateDeputyRequest(
            deputy_id=target, level=pb.DEPUTY_RATING_LEVEL_DISSATISFIED, comment=ABUSIVE
        ),
        constituent(CONSTITUENTS + 1),
    )
    clock.now = at(day_at(first, last, 0.7), 22)
    records.report(
        pb.ReportRatingCommentRequest(rating_id=abusive.id, reason=REPORT_REASON),
        constituent(CONSTITUENTS + 2),
    )
    clock.now = at(day_at(first, last, 0.71), 9)
    records.moderate(
        pb.ModerateRatingCommentRequest(
            rating_id=abusive.id, action=pb.COMMENT_MODERATION_HIDE, reason=HIDE_REASON
        ),
        street_committee(street_of[target]),
    )
    return Loaded(ratings + 1, comments + 1, int(abusive.id))
