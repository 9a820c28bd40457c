"""The demo suggestions: the 59 suggestions deputies raised at the third
session of the district's eighth congress (区八届人大三次会议, 2013), all
answered in time and rated, over 95% satisfied (the article's figures: 57
of 59 satisfied or basically satisfied), and two meetings with agency
heads that street committees arranged at deputies' request (as Tangxia
and Shipai did). Deterministic: the same rows, times and trails each time
(ids are the database's).

Every step goes through `Suggestions` as the people who take it would
(the standing committee office registers and assigns, departments
acknowledge and answer, deputies rate, street committees arrange the
meetings), with the demo's own clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from kit.auth import Principal, Role
from kit.workdays import SHANGHAI
from liaison.referral.v1 import referral_pb2
from liaison.referral.v1 import suggestions_pb2 as pb
from referral import models
from referral.suggestion_service import Suggestions

SESSION = pb.CongressSession(code="8-3", label="天河区第八届人民代表大会第三次会议", year=2013)
COUNT = 59
STREETS = 21
DEPARTMENTS = 8
BASICALLY_SATISFIED = frozenset({3, 11, 23, 29, 37, 47, 53})
DISSATISFIED = frozenset({17, 41})
MEETINGS = (17, 41)  # at the deputies' request, on the suggestions they were not satisfied with
START = datetime(2013, 1, 8, 9, 0, tzinfo=SHANGHAI)

SUBJECTS: tuple[tuple[str, int], ...] = (
    ("增设社区公交接驳线路", pb.SUGGESTION_CATEGORY_TRANSPORT),
    ("整治城中村消防安全隐患", pb.SUGGESTION_CATEGORY_PUBLIC_SAFETY),
    ("扩充公办幼儿园学位", pb.SUGGESTION_CATEGORY_EDUCATION),
    ("完善社区卫生服务中心布局", pb.SUGGESTION_CATEGORY_HEALTH),
    ("治理河涌黑臭水体", pb.SUGGESTION_CATEGORY_ENVIRONMENT),
    ("提高困难老人居家养老补贴", pb.SUGGESTION_CATEGORY_SOCIAL_SECURITY),
    ("扶持小微企业发展", pb.SUGGESTION_CATEGORY_ECONOMY),
    ("改造老旧小区加装电梯", pb.SUGGESTION_CATEGORY_URBAN_DEVELOPMENT),
    ("优化地铁站周边交通组织", pb.SUGGESTION_CATEGORY_TRANSPORT),
    ("加强校园周边食品安全监管", pb.SUGGESTION_CATEGORY_PUBLIC_SAFETY),
    ("推进中小学校舍改扩建", pb.SUGGESTION_CATEGORY_EDUCATION),
    ("增加社区康复医疗服务", pb.SUGGESTION_CATEGORY_HEALTH),
    ("推进生活垃圾分类处理", pb.SUGGESTION_CATEGORY_ENVIRONMENT),
    ("完善外来务工人员社会保障", pb.SUGGESTION_CATEGORY_SOCIAL_SECURITY),
    ("规范专业市场经营秩序", pb.SUGGESTION_CATEGORY_ECONOMY),
    ("建设社区文化活动场所", pb.SUGGESTION_CATEGORY_URBAN_DEVELOPMENT),
    ("增设非机动车停放设施", pb.SUGGESTION_CATEGORY_TRANSPORT),
    ("加装背街小巷照明和监控", pb.SUGGESTION_CATEGORY_PUBLIC_SAFETY),
    ("加强绿道和公园建设管理", pb.SUGGESTION_CATEGORY_ENVIRONMENT),
    ("推进农贸市场升级改造", pb.SUGGESTION_CATEGORY_OTHER),
)


@dataclass
class DemoClock:
    """The demo's time: what each step sets."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Loaded:
    session: str
    suggestions: int
    meetings: int
    satisfaction_rate: float


def _who(role: Role, name: str, **ids: Any) -> Principal:
    return Principal(sub=f"demo:{name}", role=role, name=name, **ids)


OFFICE = _who(Role.STANDING_COMMITTEE_OFFICE, "standing-committee-office")


def street_of(deputy_id: int) -> int:
    """The demo's street of a deputy: deputies 1, 22, 43 are street 1's."""
    return 1 + (deputy_id - 1) % STREETS


def has_demo(db: Any, *, any_session: bool) -> bool:
    with db.read() as session:
        query = select(func.count()).select_from(models.Suggestion)
        if not any_session:
            query = query.where(models.Suggestion.session_code == SESSION.code)
        return bool(session.scalar(query))


def load_demo(suggestions: Suggestions) -> Loaded:
    """Register and take every demo suggestion to its rating, and hold the
    demo meetings, through a `Suggestions` over the same database with the
    demo's clock."""
    clock = DemoClock()
    service = Suggestions(suggestions.db, calendar=suggestions.calendar, clock=clock)
    meetings = 0
    for i in range(COUNT):
        deputy_id = i + 1
        street = street_of(deputy_id)
        subject, category = SUBJECTS[i % len(SUBJECTS)]
        cosigners = [d for d in (deputy_id + STREETS, deputy_id + 2 * STREETS) if d <= COUNT]
        clock.now = START + timedelta(minutes=10 * i)
        made = service.register(
            pb.RegisterSuggestionRequest(
                session=SESSION,
                street_id=street,
                proposer_id=deputy_id,
                cosigner_ids=cosigners[: i % 3],
                title=f"关于{subject}的建议",
                content=f"第{i + 1}号建议：建议有关部门{subject}，回应群众关切。",
                category=category,  # type: ignore[arg-type]
            ),
            OFFICE,
        )
        lead = 1 + i % DEPARTMENTS
        co = [1 + (i + 3) % DEPARTMENTS] if i % 3 == 0 else []
        clock.now = START + timedelta(days=17, minutes=i)
        service.assign(
            pb.AssignSuggestionRequest(id=made.id, lead_department_id=lead, co_handler_ids=co),
            OFFICE,
        )
        department = _who(Role.DEPARTMENT, f"department-{lead}", unit_id=lead)
        received = START + timedelta(days=20 + i % 5)
        clock.now = received
        service.acknowledge(made.id, department)
        for other in co:
            clock.now = received + timedelta(days=10)
            service.add_opinion(
                pb.AddCoHandlerOpinionRequest(id=made.id, opinion="同意主办单位意见，配合办理。"),
                _who(Role.DEPARTMENT, f"department-{other}", unit_id=other),
            )
        deputy = _who(Role.DEPUTY, f"deputy-{deputy_id}", deputy_id=deputy_id)
        if i in MEETINGS:
            meetings += _meeting(service, clock, made.id, deputy, street, lead, received)
        clock.now = received + timedelta(days=40 + i % 45)
        service.answer(
            pb.AnswerSuggestionRequest(
                id=made.id, answer=f"经研究，{subject}已列入年度工作计划并组织实施。"
            ),
            department,
        )
        grade = (
            referral_pb2.SATISFACTION_DISSATISFIED
            if i in DISSATISFIED
            else referral_pb2.SATISFACTION_BASICALLY_SATISFIED
            if i in BASICALLY_SATISFIED
            else referral_pb2.SATISFACTION_SATISFIED
        )
        clock.now += timedelta(days=10)
        service.rate(pb.RateSuggestionRequest(id=made.id, satisfaction=grade), deputy)  # type: ignore[arg-type]
    summary = service.summarize(SESSION.code, OFFICE)
    return Loaded(SESSION.code, summary.suggestions, meetings, summary.satisfaction_rate)


def _meeting(
    service: Suggestions,
    clock: DemoClock,
    suggestion_id: int,
    deputy: Principal,
    street: int,
    lead: int,
    received: datetime,
) -> int:
    committee = _who(Role.STREET_COMMITTEE, f"street-committee-{street}", street_id=street)
    clock.now = received + timedelta(days=20)
    meeting = service.request_meeting(
        pb.RequestMeetingRequest(
            street_id=street,
            department_id=lead,
            topic="请承办单位负责人说明办理进展，回答代表提问",
            suggestion_id=suggestion_id,
        ),
        deputy,
    )
    clock.now += timedelta(days=1)
    held_at = clock.now + timedelta(days=7)
    service.schedule_meeting(
        pb.ScheduleMeetingRequest(id=meeting.id, scheduled_for=held_at, place="街道人大工委会议室"),
        committee,
    )
    clock.now = held_at + timedelta(hours=4)
    service.record_meeting(
        pb.RecordMeetingRequest(
            id=meeting.id,
            held_at=held_at,
            attended_by=f"承办单位（部门{lead}）主要负责人",
            minutes="负责人到场说明办理情况和困难，逐一回答代表提问，承诺限期答复。",
        ),
        committee,
    )
    return 1
