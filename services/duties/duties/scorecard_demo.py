"""The demo year's report plan and learning materials: the cycle holding
this year (cycles of the term from 2026) planned for the registry's active
deputies, the district's learning materials and one for each street, and
two thirds of the deputies having read the first (deterministically, by
id). Loaded through the use cases, as the platform (kit.auth's system
principal), so the events and audit entries are the real ones."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from duties.learning_service import Learning
from duties.report_plan import cycle_first_year
from duties.report_plan_service import ReportPlans
from duties.scorecard import shanghai_today
from duties.scorecard_models import MaterialRow, ReportPlanRow
from kit.auth import Principal, Role
from kit.db import Database
from liaison.duties.v1 import scorecard_pb2 as pb

TERM_FIRST_YEAR = 2026
DISTRICT_MATERIALS = [
    pb.PublishMaterialRequest(
        title="《中华人民共和国全国人民代表大会和地方各级人民代表大会代表法》",
        kind=pb.MATERIAL_KIND_DOCUMENT,
        text="第一章 总则。第一条 为保证全国人民代表大会和地方各级人民代表大会代表依法行使"
        "代表的职权，履行代表的义务，发挥代表的作用，根据宪法，制定本法。",
    ),
    pb.PublishMaterialRequest(
        title="代表履职“五个一”工作指引",
        kind=pb.MATERIAL_KIND_ARTICLE,
        text="每名代表每年参加一次集中学习培训、跟踪督办一件建议、开展一次自主选题调研；"
        "每年三分之一的代表向选民述职；街道工委每年走访每名代表一次。",
    ),
    pb.PublishMaterialRequest(
        title="代表联络站接待选民工作培训（录像）",
        kind=pb.MATERIAL_KIND_VIDEO,
        url="https://www.thrd.gov.cn/training/reception.mp4",
    ),
]


def load_demo(db: Database, plans: ReportPlans, learning: Learning, *, if_empty: bool) -> str:
    """Load the demo plan and materials; what was done, in words."""
    with db.read() as session:
        held = session.scalar(select(func.count()).select_from(ReportPlanRow)) or 0
        held += session.scalar(select(func.count()).select_from(MaterialRow)) or 0
    if if_empty and held:
        return "the report plan and learning materials are already loaded: left alone"
    system = Principal.system("demo")
    year = shanghai_today(datetime.now(UTC)).year
    plan = plans.make(
        pb.MakeReportPlanRequest(first_year=cycle_first_year(TERM_FIRST_YEAR, year)), system
    )
    published = [learning.publish(m, system) for m in DISTRICT_MATERIALS]
    deputies = plans.deputies.all_active()
    for street in sorted({d.street_id for d in deputies}):
        request = pb.PublishMaterialRequest(
            title="街道代表小组学习通讯",
            kind=pb.MATERIAL_KIND_ARTICLE,
            text="本街道代表小组本季度活动安排和选民意见办理情况。",
            street_id=street,
        )
        published.append(learning.publish(request, system))
    readers = [d for d in deputies if d.id % 3]
    for deputy in readers:
        reader = Principal(f"demo-deputy-{deputy.id}", Role.DEPUTY, deputy_id=deputy.id)
        learning.mark_read(published[0].id, reader)
    return (
        f"the report plan {plan.first_year}-{plan.first_year + 2} of {len(plan.slots)} deputies, "
        f"{len(published)} learning materials, {len(readers)} deputies having read the first"
    )
