"""The demo year's self-chosen research (自主选题调研): in every street two
deputies propose a topic, their street committee funds it from the street's
operations budget line (one street in five declines its second topic, with
a reason), the funded deputies report, and the standing committee office
acknowledges most reports.

A grant reads the budget line from the registry with the approving street
committee's own token (`ActivityUseCases.approve`): the registry shows lines
to staff only and decides what each caller may see. The loader has no
person's token, so it is given `CommitteeTokens`: the development issuer's
tokens for each street's committee (`demo:street-committee-<street>`),
signed with the platform's development secret, which the registry verifies
like any other. They exist only where the development issuer is enabled
(the local run, the tests' platforms; never in production, where
`kit.auth.DevIssuer` refuses to start): elsewhere the research is not
loaded, and the command says so. Nothing bypasses the registry's rules or
the service's: the line is listed and read as that committee, and the
grant is checked against it as any committee's would be.

Every step goes through `ActivityUseCases` with the demo's clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from duties import activity_models as m
from duties.activity_demo import (
    OFFICE,
    DemoClock,
    at,
    by_street,
    day_at,
    demo_clock,
    demo_deputy,
    demo_year,
    holds_any,
    street_committee,
)
from duties.activity_service import ActivityUseCases
from duties.registry import DeputyFacts
from kit.auth import AuthSettings, DevIssuer, Principal
from liaison.duties.v1 import activities_pb2 as pb

SEED = 20261129
TOPICS = (
    ("老旧小区加装电梯推进情况调研", "走访三个社区，座谈居民和物业，梳理审批和资金难点。"),
    ("社区居家养老服务需求调研", "问卷调查二百户长者家庭，走访长者饭堂和日间照料中心。"),
    ("辖内中小学周边交通安全调研", "实地查看上下学高峰时段交通，听取学校和交警意见。"),
    ("城中村消防安全隐患调研", "会同街道安监办抽查出租屋，整理隐患清单。"),
    ("垃圾分类投放点设置情况调研", "走访十个小区投放点，收集居民和保洁员意见。"),
    ("社区停车资源共享调研", "调查商业楼宇夜间空置车位，提出错时共享方案。"),
)
REPORT = "调研报告：共走访{n}个点位，形成问题清单和三条建议，已提交常委会。"
DECLINE = "本年度街道已安排同类调研，建议与相关代表联合开展"


class CommitteeTokens:
    """`authorization` values of the development issuer's tokens for the
    streets' committees; `DevIssuer` raises `AuthConfigurationError` where
    the development issuer is not enabled."""

    def __init__(self, auth: AuthSettings) -> None:
        self.issuer = DevIssuer(auth)

    def __call__(self, committee: Principal) -> str:
        claims: dict[str, Any] = {
            "sub": committee.sub,
            "role": committee.role.value,
            "name": committee.name,
        }
        if committee.street_id is not None:
            claims["street_id"] = committee.street_id
        return f"Bearer {self.issuer.sign(claims, ttl=600)}"


# The street's operations line of a year as the bearer may list it (None: none).
FindLine = Callable[[int, int, str], int | None]


@dataclass(frozen=True)
class Loaded:
    proposed: int
    approved: int
    declined: int
    reported: int
    acknowledged: int
    streets_without_a_line: int


def has_demo(use_cases: ActivityUseCases) -> bool:
    return holds_any(use_cases.db, m.Research)


def load_demo(
    use_cases: ActivityUseCases,
    deputies: list[DeputyFacts],
    today: date,
    *,
    bearer: Callable[[Principal], str],
    find_line: FindLine,
) -> Loaded:
    """Load the research of the year of `today` (`activity_demo.demo_year`),
    over `use_cases`, whose clock is the demo's while it loads; `bearer`
    gives a committee's `authorization` value, `find_line` its street's line."""
    with demo_clock(use_cases, today) as clock:
        return _load(use_cases, clock, deputies, bearer, find_line)


def _load(
    use_cases: ActivityUseCases,
    clock: DemoClock,
    deputies: list[DeputyFacts],
    bearer: Callable[[Principal], str],
    find_line: FindLine,
) -> Loaded:
    rng = random.Random(SEED)
    today = clock.now.date()
    first, last = demo_year(today)
    proposed = approved = declined = reported = acknowledged = lineless = 0
    for street_id, ids in by_street(deputies).items():
        committee = street_committee(street_id)
        token = bearer(committee)
        line_id = find_line(street_id, first.year, token)
        if line_id is None:
            lineless += 1
            continue
        for n, deputy_id in enumerate(sorted(rng.sample(ids, min(2, len(ids))))):
            deputy = demo_deputy(deputy_id)
            title, plan = rng.choice(TOPICS)
            requested = rng.randrange(5_000, 20_001, 1_000)
            day = day_at(first, last, rng.uniform(0.05, 0.5))
            clock.now = at(day, 9)
            research = use_cases.propose(
                pb.ProposeResearchRequest(
                    title=title, plan=plan, amount_requested_yuan=requested, year=first.year
                ),
                deputy,
            )
            proposed += 1
            clock.now = at(day + timedelta(days=7), 10)
            if n == 1 and street_id % 5 == 0:
                use_cases.decline(
                    pb.DeclineResearchRequest(id=research.id, reason=DECLINE), committee
                )
                declined += 1
                continue
            use_cases.approve(
                pb.ApproveResearchRequest(
                    id=research.id, budget_line_id=line_id, amount_yuan=requested
                ),
                committee,
                token,
            )
            approved += 1
            report_day = min(day_at(first, last, rng.uniform(0.6, 0.95)), last)
            clock.now = at(report_day, 15)
            use_cases.report(
                pb.ReportResearchRequest(id=research.id, text=REPORT.format(n=rng.randint(4, 12))),
                deputy,
            )
            reported += 1
            if rng.random() < 0.7:
                clock.now = at(report_day + timedelta(days=2), 10)
                use_cases.acknowledge(pb.AcknowledgeResearchRequest(id=research.id), OFFICE)
                acknowledged += 1
    return Loaded(proposed, approved, declined, reported, acknowledged, lineless)
