"""Half a year of the demo district's referral letters (转办函), at the scale
the district reports for one half year: 34 letters from street committees,
23 of them referred through the district to the government office (17
answered, 6 in hand), the other 11 on the street's route, most answered by
the street office.

Each letter is opened from an opinion handed on (`Referral.open_from_opinion`)
and taken through its workflow by the real use cases, each by whose turn it
is (the street committee, its full-time deputy director and director with
their positions, the deputy, the working body, the standing committee
office, the government office, the departments by the registry demo's unit
ids from 52, the street office), with the service's clock set to when each
step happened: jurisdiction, sign-offs with comments, the district's review
and dispatch, assignment to the department that fits the matter (some with
a co-handling department), receipt, the written answer, feedback, the
deputy's and the constituent's ratings (mostly satisfied). Two letters are
given an extension, one is reopened by a dissatisfied constituent and
answered again, two are past their legal deadline.

Deterministic: one seed, the letters in the order they were opened, each
step's time drawn from it and counted back from `today`.

The opinions are not the reception demo's: those get their ids when the
reception service loads its demo, and the referral service cannot read
them (its letters of opinions handed on before its queue existed are
missed, see the README). The demo letters' opinions have ids from
900,000,001 and tracking codes `TH-<year>-9xxxxx`, a range the reception
service's numbering (per year, from 1) does not reach; station and
community are left unset (the registry's ids are not the referral
service's to know), the places being named in the content where it
matters. Nothing here is a real person's.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func, select

from kit.auth import Principal, Role
from kit.db import Database
from kit.workdays import SHANGHAI, WorkCalendar
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import referral_pb2 as pb
from referral import models
from referral.service import Referral

DEMO = Principal.system("demo-loader")
SEED = 2014
DAYS = 182
# The demo opinions' ids and tracking numbers: above any the reception service gives.
FIRST_OPINION_ID = 900_000_000
FIRST_TRACKING_NUMBER = 900_000
STREETS = 21
DEPUTIES = 350
# The registry demo's departments (registry.demo_data.DEPARTMENTS), by unit id.
HOUSING, TRANSPORT, URBAN_MANAGEMENT, HEALTH, EDUCATION, CIVIL_AFFAIRS = 52, 53, 54, 55, 56, 57
POLICE, ECOLOGY, MARKET, HRSS, WATER, PLANNING, CULTURE = 58, 59, 60, 61, 62, 63, 64


class Outcome(StrEnum):
    CLOSED = "closed"  # answered, fed back, rated by everyone
    EXTENDED = "extended"  # an extension approved, then answered and closed
    REOPENED = "reopened"  # a dissatisfied constituent reopens; answered again and closed
    FED_BACK = "fed_back"  # answered and fed back, a rating still awaited
    ANSWERED = "answered"  # answered, the feedback still to come
    IN_HAND = "in_hand"  # received, in time
    IN_HAND_EXTENDED = "in_hand_extended"  # received, an extension approved
    OVERDUE = "overdue"  # received, past its legal deadline
    DEPUTY_SIGN_OFF = "deputy_sign_off"  # the street's route, awaiting the deputy
    DIRECTOR_SIGN_OFF = "director_sign_off"  # the street's route, awaiting the director


ANSWERED_OUTCOMES = frozenset(
    {Outcome.CLOSED, Outcome.EXTENDED, Outcome.REOPENED, Outcome.FED_BACK, Outcome.ANSWERED}
)
IN_HAND_OUTCOMES = frozenset({Outcome.IN_HAND, Outcome.IN_HAND_EXTENDED, Outcome.OVERDUE})
# The day of the half year (from its first) each outcome's letters are opened
# between: early enough for their steps to have happened, late enough to be
# where they stand today.
OPENED_BETWEEN: dict[Outcome, tuple[int, int]] = {
    Outcome.CLOSED: (0, 75),
    Outcome.EXTENDED: (0, 20),
    Outcome.REOPENED: (0, 25),
    Outcome.FED_BACK: (80, 95),
    Outcome.ANSWERED: (90, 105),
    Outcome.IN_HAND: (115, 150),
    Outcome.IN_HAND_EXTENDED: (50, 58),
    Outcome.OVERDUE: (5, 35),
    Outcome.DEPUTY_SIGN_OFF: (150, 160),
    Outcome.DIRECTOR_SIGN_OFF: (145, 155),
}


@dataclass(frozen=True)
class Matter:
    """What a letter is about and how it went."""

    category: str  # the reception service's category name
    content: str
    outcome: Outcome
    answer: str = ""
    lead: int | None = None  # the lead department; None: the street's route
    co: tuple[int, ...] = ()
    deputy: bool = True  # taken by a deputy (else raised online)
    again: str = ""  # the second answer of a reopened letter


_D = Outcome
DISTRICT: tuple[Matter, ...] = (
    Matter("property", "小区为上世纪八十年代建成的老旧楼宇，外墙瓷砖多处脱落，雨天渗水严重，"
           "居民希望纳入老旧小区改造计划", _D.CLOSED,
           "已将该小区纳入下一年度老旧小区微改造计划，外墙脱落隐患已先行排危处理，"
           "改造工程预计明年二季度动工。", HOUSING),
    Matter("property", "小区加装电梯已取得三分之二以上业主同意，但低层业主反对，审批停滞，"
           "希望有关部门协调", _D.OVERDUE, lead=HOUSING, co=(MARKET,)),
    Matter("transport", "公交站离小区出口太远，附近没有直达地铁站的线路，老人出行不便",
           _D.CLOSED, "已协调公交企业优化线路，新开一条社区微循环公交，途经小区出口，"
           "下月起试运行。", TRANSPORT),
    Matter("transport", "路口红绿灯时间太短，老人和小孩过马路不安全，上下学高峰拥堵",
           _D.CLOSED, "交警部门已将该路口行人绿灯时长延长至35秒，并在上下学高峰安排警力疏导。",
           TRANSPORT, (POLICE,)),
    Matter("public_safety", "小区周边道路违章停车严重，消防通道经常被占用", _D.REOPENED,
           "已加强该路段巡查和违停抄牌，施划禁停标线并设置提示牌。", POLICE,
           again="已在路段加装隔离桩并纳入电子警察抓拍，联合物业每日巡查消防通道，"
           "违停现象基本消除。"),
    Matter("environment", "垃圾分类投放点紧挨住宅楼，夏天气味大、蚊蝇多", _D.CLOSED,
           "已将投放点迁至小区东侧空地，清运频次增加为每日两次，并定期消杀。", URBAN_MANAGEMENT),
    Matter("environment", "街边餐饮店油烟直排，楼上居民无法开窗通风", _D.CLOSED,
           "已对涉事餐饮店立案调查，责令安装油烟净化设施，经复查已达标排放。", ECOLOGY),
    Matter("environment", "河涌夏天有异味，水面漂浮垃圾，希望清淤整治", _D.EXTENDED,
           "已在枯水期完成该河涌段清淤和截污管网修复，水面保洁纳入日常巡查，水质明显改善。",
           WATER, (URBAN_MANAGEMENT,)),
    Matter("environment", "暴雨时路段积水严重，车辆和行人无法通行", _D.IN_HAND, lead=WATER),
    Matter("education", "片区学位紧张，适龄儿童需要跨片区就读，希望增加公办学位", _D.IN_HAND,
           lead=EDUCATION),
    Matter("education", "学校门口上下学时段交通拥堵，学生安全存在隐患", _D.CLOSED,
           "已在校门口设置护学岗，施划接送车辆临时停靠区，拥堵明显缓解。", EDUCATION, (POLICE,)),
    Matter("health", "社区卫生服务中心周末不开诊，上班族看病难", _D.CLOSED,
           "社区卫生服务中心已开设周末门诊，每周六、日上午开诊。", HEALTH, deputy=False),
    Matter("health", "菜市场部分摊档食品卫生状况差，熟食没有防蝇措施", _D.FED_BACK,
           "已开展专项检查，责令十二户整改，对两户违规经营者依法处罚，并建立常态巡查。", MARKET),
    Matter("elderly_care", "长者饭堂名额不够，高龄独居老人吃饭难", _D.CLOSED,
           "已在片区新增一个长者饭堂助餐点，并为高龄独居老人开通送餐上门服务。", CIVIL_AFFAIRS),
    Matter("elderly_care", "老旧楼宇缺少无障碍设施，坐轮椅的老人出入困难",
           _D.IN_HAND_EXTENDED, lead=CIVIL_AFFAIRS, co=(HOUSING,)),
    Matter("employment", "辖内一家企业拖欠农民工工资，工人多次讨要无果", _D.CLOSED,
           "劳动保障监察已立案查处，督促企业支付拖欠工资共二十余万元。", HRSS),
    Matter("employment", "灵活就业人员社保缴费咨询难，网上办理流程不清楚", _D.ANSWERED,
           "已在街道政务服务中心设置社保咨询窗口，并印发灵活就业人员参保办事指南。", HRSS,
           deputy=False),
    Matter("urban_planning", "小区旁空地长期围蔽闲置，建议建设社区公园", _D.CLOSED,
           "经研究，该地块规划为公共绿地，已纳入明年口袋公园建设计划。", PLANNING),
    Matter("urban_planning", "旧村改造进度慢，安置房迟迟未动工，希望公开安置方案", _D.OVERDUE,
           lead=PLANNING, co=(HOUSING,)),
    Matter("public_safety", "电动自行车在楼道充电，消防隐患大，希望建设集中充电点", _D.CLOSED,
           "已在小区建成两处电动自行车集中充电点，并联合物业清理楼道。", POLICE),
    Matter("public_safety", "夜间小巷路灯不亮，存在治安隐患", _D.FED_BACK,
           "已修复损坏路灯十六盏并增设两盏，片区夜间巡逻已加强。", URBAN_MANAGEMENT),
    Matter("culture_sports", "社区缺少健身场地，希望周末开放学校运动场", _D.CLOSED,
           "已协调辖内两所学校在周末和节假日向居民开放运动场。", CULTURE, (EDUCATION,)),
    Matter("economy", "商业街空置铺位多，业态单一，建议引入特色商户", _D.IN_HAND, lead=MARKET),
)  # fmt: skip
STREET: tuple[Matter, ...] = (
    Matter("community", "居委会办事时间与上班时间冲突，希望提供错时延时服务", _D.CLOSED,
           "已在社区推行错时延时服务，工作日晚上和周六上午安排人员值班。"),
    Matter("community", "希望社区多开展邻里活动，丰富居民业余生活", _D.CLOSED,
           "已组织邻里节、长者生日会等活动，每月至少举办一次。", deputy=False),
    Matter("property", "物业费上涨但服务没有改善，业委会与物业矛盾大", _D.CLOSED,
           "街道已牵头召开业主、业委会和物业三方协调会，物业承诺整改服务问题，暂缓调价。"),
    Matter("public_safety", "出租屋群租现象严重，人员进出杂乱", _D.CLOSED,
           "街道出租屋管理服务中心已开展排查，清理群租房五间，落实来穗人员登记管理。"),
    Matter("legal", "邻里之间漏水纠纷多次协商无果，希望街道帮助调解", _D.CLOSED,
           "街道人民调解委员会已组织双方调解，达成维修和赔偿协议。"),
    Matter("environment", "小区绿化带长期无人修剪，杂草丛生", _D.CLOSED,
           "街道已安排环卫队伍修剪绿化带，并纳入日常养护。"),
    Matter("culture_sports", "社区文化室开放时间短，设施陈旧", _D.FED_BACK,
           "已延长社区文化室开放时间，更新了图书和乒乓球台。"),
    Matter("elderly_care", "社区长者活动中心空间狭小，活动时拥挤", _D.IN_HAND),
    Matter("public_safety", "小区门禁损坏，外来人员随意进出", _D.IN_HAND),
    Matter("property", "小区公共区域被个别住户长期占用堆放杂物", _D.DIRECTOR_SIGN_OFF),
    Matter("other", "希望公开人大代表联系方式和接待安排，方便居民反映问题", _D.DEPUTY_SIGN_OFF),
)  # fmt: skip

DEPUTY_COMMENTS = ("情况属实，群众反映强烈，请尽快协调解决", "经实地查看情况属实，建议尽快处理",
                   "情况属实，请街道办事处研究办理")  # fmt: skip
DEPUTY_DIRECTOR_COMMENTS = ("同意，请街道办事处办理", "同意转办，请按时答复")
DIRECTOR_COMMENTS = ("同意，请抓紧办理并书面答复", "同意转街道办事处办理")
REVIEW_REASONS = ("属区职能部门职责，同意转区政府办理", "超出街道职权，同意转办")
FEEDBACK = ("已电话告知代表和群众答复内容", "已上门向群众反馈办理情况", "已书面告知代表和群众")


@dataclass
class DemoLetters:
    letters: int = 0
    by_route: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)
    ratings: int = 0
    satisfied: int = 0  # satisfied or basically satisfied


def has_demo(db: Database) -> bool:
    """Whether the demo letters are in (their opinions' ids are the demo's)."""
    with db.read() as session:
        return bool(
            session.scalar(select(func.count()).where(models.Letter.opinion_id > FIRST_OPINION_ID))
        )


def has_letters(db: Database) -> bool:
    with db.read() as session:
        return bool(session.scalar(select(func.count()).select_from(models.Letter)))


class _Clock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at


def _person(role: Role, sub: str, name: str, **claims: object) -> Principal:
    return Principal(sub=f"demo:{sub}", role=role, name=name, **claims)  # type: ignore[arg-type]


WORKING_BODY = _person(Role.WORKING_BODY, "working-body", "区人大常委会工作机构")
SC_OFFICE = _person(Role.STANDING_COMMITTEE_OFFICE, "standing-committee-office", "常委会办公室")
GOVERNMENT_OFFICE = _person(Role.GOVERNMENT_OFFICE, "government-office", "区政府办公室")


def committee(street: int, position: str | None = None) -> Principal:
    titles = {None: "人大街道工委", "street_full_time_deputy_director": "人大街道工委专职副主任",
              "street_director": "人大街道工委主任"}  # fmt: skip
    sub = {None: "committee", "street_full_time_deputy_director": "deputy-director",
           "street_director": "director"}[position]  # fmt: skip
    return _person(
        Role.STREET_COMMITTEE,
        f"street-{street}-{sub}",
        titles[position],
        street_id=street,
        position=position,
    )


def street_office(street: int) -> Principal:
    return _person(Role.DEPARTMENT, f"street-{street}-office", "街道办事处", street_id=street)


def department(unit_id: int) -> Principal:
    return _person(Role.DEPARTMENT, f"department-{unit_id}", "职能部门", unit_id=unit_id)


def deputy(deputy_id: int) -> Principal:
    return _person(Role.DEPUTY, f"deputy-{deputy_id}", "人大代表", deputy_id=deputy_id)


class _HalfYear:
    def __init__(self, db: Database, today: date) -> None:
        self.rng = random.Random(SEED)
        self.clock = _Clock()
        self.calendar = WorkCalendar()
        self.referral = Referral(db, calendar=self.calendar, now=self.clock)
        self.today = today
        self.first = today - timedelta(days=DAYS)
        self.day = self.first

    # -- time

    def on(self, day: date) -> None:
        """The clock on `day` (the next working day if a day off), in office hours."""
        while self.calendar.is_day_off(day):
            day += timedelta(days=1)
        self.day = day
        local = datetime.combine(
            day, time(self.rng.randint(9, 16), self.rng.randint(0, 59)), SHANGHAI
        )
        self.clock.at = local.astimezone(UTC)
        if day >= self.today:
            raise AssertionError(f"a demo step on {day}, not before {self.today}")

    def later(self, least: int, most: int) -> None:
        self.on(self.day + timedelta(days=self.rng.randint(least, most)))

    # -- a letter

    def open(self, number: int, matter: Matter, street: int, deputy_id: int | None) -> int:
        opinion_id = FIRST_OPINION_ID + number
        code = f"TH-{self.day.year:04d}-{FIRST_TRACKING_NUMBER + number:06d}"
        facts = rev.OpinionFacts(
            id=opinion_id,
            tracking_code=code,
            source=opb.OPINION_SOURCE_RECEPTION if deputy_id else opb.OPINION_SOURCE_ONLINE,
            category=opb.OpinionCategory.Value(f"OPINION_CATEGORY_{matter.category.upper()}"),
            content=matter.content,
            street_id=street,
            taken_by_deputy_id=deputy_id or 0,
            status=opb.OPINION_STATUS_HANDED_ON,
        )
        note = "按转办函程序转有关部门办理" if matter.lead else "请街道研究办理"
        with self.referral.db.unit_of_work() as uow:
            letter = self.referral.open_from_opinion(uow, DEMO, facts, note)
        assert letter is not None
        return int(letter.id)

    def letter(self, number: int, matter: Matter, street: int, deputy_id: int | None) -> None:
        r, rng = self.referral, self.rng
        lid = self.open(number, matter, street, deputy_id)
        district = matter.lead is not None
        self.later(1, 3)
        r.decide_jurisdiction(
            pb.DecideJurisdictionRequest(
                letter_id=lid, route=pb.ROUTE_DISTRICT if district else pb.ROUTE_STREET
            ),
            committee(street),
        )
        if district:
            self.later(1, 3)
            r.review(
                pb.ReviewLetterRequest(
                    letter_id=lid, accept=True, reason=rng.choice(REVIEW_REASONS)
                ),
                WORKING_BODY,
            )
            self.later(1, 2)
            r.dispatch(pb.DispatchLetterRequest(letter_id=lid), SC_OFFICE)
            self.later(1, 3)
            r.assign(
                pb.AssignLetterRequest(
                    letter_id=lid, lead_department_id=matter.lead, co_handler_ids=matter.co
                ),
                GOVERNMENT_OFFICE,
            )
            handler = department(matter.lead or 0)
        else:
            signers: list[tuple[Principal, tuple[str, ...]]] = (
                [(deputy(deputy_id), DEPUTY_COMMENTS)] if deputy_id else []
            )
            signers += [
                (committee(street, "street_full_time_deputy_director"), DEPUTY_DIRECTOR_COMMENTS),
                (committee(street, "street_director"), DIRECTOR_COMMENTS),
            ]
            # Where a letter still on its way through the sign-offs stopped.
            stop = {Outcome.DEPUTY_SIGN_OFF: 0, Outcome.DIRECTOR_SIGN_OFF: len(signers) - 1}
            signed = stop.get(matter.outcome, len(signers))
            for who, comments in signers[:signed]:
                self.later(1, 2)
                r.sign_off(pb.SignOffRequest(letter_id=lid, comment=rng.choice(comments)), who)
            if signed < len(signers):
                return
            handler = street_office(street)
        self.later(1, 3)
        received = r.acknowledge(pb.AcknowledgeLetterRequest(letter_id=lid), handler)
        receipt = self.day
        for co in matter.co:
            self.later(0, 2)
            r.acknowledge(pb.AcknowledgeLetterRequest(letter_id=lid), department(co))
        outcome = matter.outcome
        if outcome in (Outcome.IN_HAND, Outcome.OVERDUE):
            return
        if outcome in (Outcome.EXTENDED, Outcome.IN_HAND_EXTENDED):
            self.on(receipt + timedelta(days=rng.randint(70, 80)))
            last_day = date.fromisoformat(received.deadline.last_day)
            r.request_extension(
                pb.RequestExtensionRequest(
                    letter_id=lid,
                    reason="涉及多个部门协调和资金审批，须在枯水期或下一预算年度施工，申请延期办理",
                    requested_last_day=(last_day + timedelta(days=60)).isoformat(),
                ),
                handler,
            )
            self.later(1, 3)
            r.decide_extension(
                pb.DecideExtensionRequest(
                    letter_id=lid, approve=True, comment="同意延期，请按延长后的期限办结"
                ),
                SC_OFFICE if district else committee(street),
            )
            if outcome is Outcome.IN_HAND_EXTENDED:
                return
            self.on(receipt + timedelta(days=rng.randint(100, 110)))
        else:
            # The street office answers sooner than a department.
            self.on(
                receipt + timedelta(days=rng.randint(15, 40) if district else rng.randint(7, 25))
            )
        r.answer(pb.AnswerLetterRequest(letter_id=lid, text=matter.answer), handler)
        if outcome is Outcome.ANSWERED:
            return
        self.later(1, 4)
        r.feed_back(
            pb.FeedBackRequest(letter_id=lid, comment=rng.choice(FEEDBACK)), committee(street)
        )
        if outcome is Outcome.FED_BACK:
            if deputy_id:
                self.later(1, 5)
                self.rate(lid, deputy(deputy_id), pb.RATER_DEPUTY, pb.SATISFACTION_SATISFIED)
            return
        if outcome is Outcome.REOPENED:
            if deputy_id:
                self.later(1, 5)
                self.rate(
                    lid, deputy(deputy_id), pb.RATER_DEPUTY, pb.SATISFACTION_BASICALLY_SATISFIED
                )
            self.later(1, 5)
            self.rate(
                lid, committee(street), pb.RATER_CONSTITUENT, pb.SATISFACTION_DISSATISFIED, True
            )
            self.later(1, 3)
            r.acknowledge(pb.AcknowledgeLetterRequest(letter_id=lid), handler)
            self.later(10, 25)
            r.answer(pb.AnswerLetterRequest(letter_id=lid, text=matter.again), handler)
            self.later(1, 4)
            r.feed_back(
                pb.FeedBackRequest(letter_id=lid, comment="已上门向群众反馈再次办理情况"),
                committee(street),
            )
        if deputy_id:
            self.later(1, 5)
            self.rate(lid, deputy(deputy_id), pb.RATER_DEPUTY, self.satisfaction())
        self.later(1, 7)
        self.rate(lid, committee(street), pb.RATER_CONSTITUENT, self.satisfaction())

    def satisfaction(self) -> pb.Satisfaction:
        return (
            pb.SATISFACTION_SATISFIED
            if self.rng.random() < 0.85
            else pb.SATISFACTION_BASICALLY_SATISFIED
        )

    def rate(
        self,
        letter_id: int,
        who: Principal,
        rater: pb.Rater,
        satisfaction: pb.Satisfaction,
        reopen: bool = False,
    ) -> None:
        self.referral.rate(
            pb.RateAnswerRequest(
                letter_id=letter_id, rater=rater, satisfaction=satisfaction, reopen=reopen
            ),
            who,
        )


def plan(rng: random.Random, first: date) -> list[tuple[date, Matter, int, int | None]]:
    """Each letter's opening day, matter, street and deputy, in opening order."""
    letters = []
    for i, matter in enumerate(DISTRICT + STREET):
        low, high = OPENED_BETWEEN[matter.outcome]
        day = first + timedelta(days=rng.randint(low, high))
        # Every fifth letter is of street 1, where the demo accounts work.
        street = 1 if i % 5 == 0 else rng.randint(2, STREETS)
        who = (1 if street == 1 else rng.randint(2, DEPUTIES)) if matter.deputy else None
        letters.append((day, matter, street, who))
    return sorted(letters, key=lambda x: x[0])


def load_demo(db: Database, today: date) -> DemoLetters:
    """Load the half year up to `today` (nothing when the demo letters are in)."""
    if has_demo(db):
        return DemoLetters()
    year = _HalfYear(db, today)
    for number, (day, matter, street, who) in enumerate(plan(year.rng, year.first), start=1):
        year.on(day)
        year.letter(number, matter, street, who)
    return figures(db)


def figures(db: Database) -> DemoLetters:
    """What the demo letters came to."""
    with db.read() as session:
        rows = session.execute(
            select(models.Letter.route, models.Letter.stage, models.Letter.state).where(
                models.Letter.opinion_id > FIRST_OPINION_ID
            )
        ).all()
    ratings = [r for row in rows for r in (row.state or {}).get("ratings", [])]
    return DemoLetters(
        letters=len(rows),
        by_route=dict(Counter(row.route or "" for row in rows)),
        by_stage=dict(Counter(row.stage for row in rows)),
        ratings=len(ratings),
        satisfied=sum(r["satisfaction"] != "dissatisfied" for r in ratings),
    )
