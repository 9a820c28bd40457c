"""A year of the demo district's receptions, at the scale the district
reports for a year (about 350 people received, 200 opinions collected, 500
deputy-activity person-times): every session of the last twelve months held
gets its record (one or two of the station's deputies present, the people
received), and opinions are collected at the sessions, online and as orders
(订单) handed to a deputy whose expertise fits, each taken to an outcome:
answered on the spot, handed on for referral, merged, declined, done, or
still open. Deterministic: one seed, the sessions in date order, and each
change made through the use cases with a clock set to when it happened.

Who raised each opinion is invented (names and phone numbers from the seed);
nothing here is a real person's.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from kit.auth import Principal
from liaison.reception.v1 import opinions_pb2 as opb
from reception import domain, models
from reception import opinion_rules as rules
from reception.opinions import CATEGORY, Opinions
from reception.records import Records
from reception.service import Reception

DEMO = Principal.system("demo-loader")
SEED = 2014
PERSON_TIMES = 380
DEPUTY_TIMES = 560
RECEPTION_OPINIONS = 150
ONLINE_OPINIONS = 45
ORDERS = 35
LOCK_AFTER_DAYS = 60

SURNAMES = "陈李黄张梁林刘吴罗何郑杨谢周冯邓钟曾叶蔡"
GIVEN = ("伟", "芳", "秀英", "敏", "静", "丽", "强", "磊", "洁", "勇", "艳", "杰", "娟", "涛", "明",
         "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "志强", "淑珍")  # fmt: skip
CONTENTS: dict[str, tuple[str, ...]] = {
    "urban_planning": (
        "旧村改造进度慢，希望公开安置方案",
        "小区旁空地长期围蔽闲置，建议建设社区公园",
    ),
    "transport": ("路口红绿灯时间太短，老人过马路不安全", "地铁站出口共享单车乱停放，建议划线管理"),
    "environment": ("河涌夏天有异味，希望清淤", "垃圾分类投放点离住宅太近，气味大"),
    "education": ("片区学位紧张，希望增加公办学位", "学校门口上下学时段交通拥堵"),
    "health": ("社区卫生服务中心周末不开诊", "街边大排档油烟和食品卫生问题"),
    "elderly_care": ("长者饭堂名额不够，希望扩大服务", "老旧楼宇无障碍设施不足"),
    "employment": ("灵活就业人员社保缴费咨询难", "希望街道多办招聘会"),
    "property": ("老旧小区加装电梯协调难", "物业费上涨但服务没改善"),
    "public_safety": ("夜间小巷路灯不亮，存在安全隐患", "电动自行车楼道充电，消防隐患大"),
    "legal": ("邻里漏水纠纷调解无果", "租房押金被拖欠，希望提供法律援助"),
    "economy": ("小微企业希望了解减税降费政策", "商业街空置铺位多，建议引入业态"),
    "culture_sports": ("社区缺少健身场地", "希望周末开放学校运动场"),
    "community": ("居委会办事时间与上班时间冲突", "希望社区多开展邻里活动"),
    "other": ("对街道工作的其他建议", "希望公开人大代表联系方式"),
}


@dataclass(frozen=True)
class DemoYear:
    sessions: int = 0  # sessions scheduled for the months before January
    records: int = 0
    reception_person_times: int = 0
    deputy_activity_person_times: int = 0
    opinions: int = 0


class DemoClock:
    """The time a demo change happens at."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.at

    def set(self, day: date, hour: int, minute: int = 0) -> None:
        self.at = datetime.combine(day, time(hour, minute), domain.SHANGHAI).astimezone(UTC)


def _first_month(today: date) -> date:
    month = today.month - 12
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)


def _has_year(reception: Reception) -> bool:
    with reception.db.read() as session:
        return bool(
            session.scalar(select(func.count()).select_from(models.Opinion))
            or session.scalar(select(func.count()).select_from(models.ReceptionRecord))
        )


class _Year:
    """The year's changes, made in time order."""

    def __init__(self, reception: Reception, today: date) -> None:
        self.db = reception.db
        self.today = today
        self.rng = random.Random(SEED)
        self.clock = DemoClock()
        self.opinions = Opinions(self.db, clock=self.clock)
        self.records = Records(self.db, clock=self.clock)
        self.open_by_street: dict[int, list[tuple[int, str]]] = defaultdict(list)
        self.count = 0

    def person(self) -> tuple[str, str]:
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        return name, f"13{self.rng.randint(0, 9)}{self.rng.randint(0, 99_999_999):08d}"

    def content(self) -> tuple[int, str]:
        category = self.rng.choice(
            rules.CATEGORIES[:-1] if self.rng.random() < 0.95 else rules.CATEGORIES
        )
        return CATEGORY.number(category.name), self.rng.choice(CONTENTS[category.name])

    def later(self, day: date, most: int) -> None:
        """The clock a few days after `day`, never today or later."""
        then = min(day + timedelta(days=self.rng.randint(1, most)), self.today - timedelta(days=1))
        if then <= day:  # the same day: after it was raised
            self.clock.set(day, 22, self.rng.randint(0, 59))
        else:
            self.clock.set(then, self.rng.randint(9, 17), self.rng.randint(0, 59))

    def outcome(self, opinion: opb.Opinion, day: date, weights: dict[str, int]) -> None:
        choice = self.rng.choices(list(weights), list(weights.values()))[0]
        street = opinion.street_id
        if choice == "answered":
            self.clock.at += timedelta(minutes=self.rng.randint(5, 90))
            self.opinions.answer(opinion.id, "代表当场解释了相关政策，群众表示理解", DEMO)
        elif choice == "handed_on":
            self.later(day, 10)
            self.opinions.hand_on(opinion.id, "按转办函程序转有关部门办理", DEMO)
        elif choice == "declined":
            self.later(day, 7)
            self.opinions.decline(opinion.id, "属司法程序处理事项，已告知依法途径", DEMO)
        elif choice == "merged" and self.open_by_street[street]:
            same = [i for i, c in self.open_by_street[street] if c == opinion.category]
            into = same[-1] if same else self.open_by_street[street][-1][0]
            self.later(day, 5)
            self.opinions.merge(opinion.id, into, DEMO)
            return
        elif choice == "done":
            self.later(day, 40)
            self.opinions.complete(opinion.id, "代表协调有关单位，问题已解决", DEMO)
        self.open_by_street[street].append((opinion.id, str(opinion.category)))

    def record(self, request: opb.RecordOpinionRequest) -> opb.Opinion:
        self.count += 1
        return self.opinions.record(request, DEMO)


def load_demo_year(reception: Reception, today: date) -> DemoYear:
    """Load the year (idempotent: nothing when a record or opinion exists)."""
    if _has_year(reception):
        return DemoYear()
    first = _first_month(today)
    done = reception.schedule(0, f"{first:%Y-%m}", 12, DEMO)
    year = _Year(reception, today)
    with year.db.read() as session:
        held = [
            (s.id, s.station_id, s.session_date)
            for s in session.scalars(
                select(models.ReceptionSession)
                .where(
                    models.ReceptionSession.status == domain.SCHEDULED,
                    models.ReceptionSession.session_date >= first,
                    models.ReceptionSession.session_date < today,
                )
                .order_by(models.ReceptionSession.session_date, models.ReceptionSession.id)
            )
        ]
        deputies: dict[int, list[int]] = defaultdict(list)
        for deputy_id, station_id in session.execute(
            select(models.RegistryDeputy.id, models.RegistryDeputy.station_id)
            .where(
                models.RegistryDeputy.active.is_(True),
                models.RegistryDeputy.station_id.is_not(None),
            )
            .order_by(models.RegistryDeputy.id)
        ):
            deputies[station_id or 0].append(deputy_id)
        served: dict[int, list[int]] = defaultdict(list)
        for station_id, community_id in session.execute(
            select(
                models.RegistryStationCommunity.station_id,
                models.RegistryStationCommunity.community_id,
            )
            .join(models.RegistryStation)
            .where(models.RegistryStation.active.is_(True))
            .order_by(
                models.RegistryStationCommunity.station_id,
                models.RegistryStationCommunity.community_id,
            )
        ):
            served[station_id].append(community_id)
    if not held:
        return DemoYear(sessions=len(done.created))
    rng = year.rng
    n = len(held)
    seconds = set(rng.sample(range(n), max(0, min(n, DEPUTY_TIMES - n))))
    people = Counter(rng.randrange(n) for _ in range(PERSON_TIMES))
    raised = Counter(rng.sample([i for i in range(n) for _ in range(people[i])],
                                min(RECEPTION_OPINIONS, sum(people.values()))))  # fmt: skip
    communities = sorted({c for cs in served.values() for c in cs})
    span = (today - first).days
    # Online opinions and orders on days of their own, in date order with the sessions.
    others = sorted(
        [(first + timedelta(days=rng.randrange(span)), "online") for _ in range(ONLINE_OPINIONS)]
        + [(first + timedelta(days=rng.randrange(span)), "order") for _ in range(ORDERS)]
    )
    plan = sorted(
        [(day, 0, i) for i, (_, _, day) in enumerate(held)]
        + [(day, 1, j) for j, (day, _) in enumerate(others)]
    )
    person_times = deputy_times = records = 0
    for day, kind, index in plan:
        if kind == 0:
            session_id, station_id, _ = held[index]
            present = deputies.get(station_id, [])
            chosen = rng.sample(present, min(len(present), 2 if index in seconds else 1))
            year.clock.set(day, 17, 30)
            year.records.put(
                opb.PutReceptionRecordRequest(
                    session_id=session_id,
                    deputy_ids=chosen,
                    person_times=people[index],
                    notes="接待有序，意见已登记" if people[index] else "本次无群众来访",
                    lock=(today - day).days > LOCK_AFTER_DAYS,
                ),
                DEMO,
            )
            records += 1
            person_times += people[index]
            deputy_times += len(chosen)
            for k in range(raised[index]):
                category, content = year.content()
                name, phone = year.person()
                year.clock.set(day, 9 + k % 8, rng.randint(0, 59))
                opinion = year.record(
                    opb.RecordOpinionRequest(
                        source=opb.OPINION_SOURCE_RECEPTION,
                        category=category,  # type: ignore[arg-type]
                        content=content,
                        session_id=session_id,
                        community_id=rng.choice(served[station_id])
                        if served.get(station_id)
                        else 0,
                        raiser_name=name,
                        raiser_phone=phone,
                        taken_by_deputy_id=rng.choice(chosen) if chosen else 0,
                    )
                )
                year.outcome(opinion, day, {"answered": 35, "handed_on": 35, "merged": 8,
                                            "declined": 10, "open": 12})  # fmt: skip
        elif communities:
            source = others[index][1]
            category, content = year.content()
            year.clock.set(day, rng.randint(8, 21), rng.randint(0, 59))
            if source == "online":
                name, phone = year.person()
                opinion = year.record(
                    opb.RecordOpinionRequest(
                        source=opb.OPINION_SOURCE_ONLINE, category=category,  # type: ignore[arg-type]
                        content=content, community_id=rng.choice(communities),
                        raiser_name=name, raiser_phone=phone,
                    )
                )  # fmt: skip
                year.outcome(opinion, day, {"answered": 20, "handed_on": 40, "merged": 5,
                                            "declined": 10, "open": 25})  # fmt: skip
            else:
                opinion = year.record(
                    opb.RecordOpinionRequest(
                        source=opb.OPINION_SOURCE_ORDER, category=category,  # type: ignore[arg-type]
                        content=f"社区居委会反映：{content}", community_id=rng.choice(communities),
                        raiser_name="社区居委会",
                    )
                )  # fmt: skip
                best = year.opinions.suggest(opinion.id, 1, DEMO)
                if best:
                    opinion = year.opinions.assign(opinion.id, best[0].deputy_id, DEMO)
                    recent = (today - day).days < 30
                    year.outcome(opinion, day, {"done": 10 if recent else 70, "handed_on": 10,
                                                "open": 80 if recent else 20})  # fmt: skip
    return DemoYear(
        sessions=len(done.created),
        records=records,
        reception_person_times=person_times,
        deputy_activity_person_times=deputy_times,
        opinions=year.count,
    )
