"""The demo conversations (互动交流): a dozen threads of the last three
weeks over a few of the registry's stations.

- Eight constituents' threads: two of the demo constituent (kit.auth
  DEMO_ACCOUNTS' `demo:constituent`), the others of pseudonymous
  constituents (`demo:constituent-<n>`, invented names, no phone). Each
  first message approved by the moderators of the station's street (its
  street committee or station staff), answered by a deputy of the station
  or its staff; one follow-up of the demo constituent still held, and one
  of another constituent rejected with its reason.
- Two deputies' threads, among the deputies of a station.
- Two working threads: a deputy with the station staff and street
  committee of their street; the demo station staff with their street
  committee, deputies of a station of their street and the standing
  committee office.

The stations: the demo deputy's (registry id 1, kit.auth DEMO_ACCOUNTS),
then those of the demo station staff's street (street 1), then those of
other streets, four at most, each with serving deputies, as the
registry lists them (the registry runs before notifications in the local
run and the tests' platform). Every step goes through
`ConversationUseCases` as the people who take it would (the same code the
API calls), on the demo's own clock, so the inbox messages of each step
are written as they would be.

Not loaded: a thread turned into an opinion. That records the opinion in
the reception service with the caller's token, and load-demo neither
signs tokens nor relies on reception answering; the demo threads are left
for staff to turn into opinions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy import func, select

from kit.auth import DEMO_ACCOUNTS, DemoAccount, Principal, Role
from kit.db import Database
from kit.errors import NotFound
from liaison.notifications.v1 import conversations_pb2 as pb
from notifications import addresses
from notifications import conversations as rules
from notifications.conversation_models import Conversation
from notifications.conversation_service import ConversationUseCases
from notifications.conversation_upstream import DeputyFacts, StationFacts
from notifications.preferences import SHANGHAI

STATIONS_MAX = 4
OTHER_DEPUTIES_MAX = 3


def _account(name: str) -> DemoAccount:
    (found,) = [a for a in DEMO_ACCOUNTS if a.account == name]
    return found


def _principal(account: DemoAccount) -> Principal:
    """The demo account as its development token names it."""
    ids = {key: getattr(account, key) for key in ("street_id", "unit_id", "deputy_id")}
    return Principal(sub=account.sub, role=account.role, name=account.name, **ids)


DEMO_CONSTITUENT = _principal(_account("constituent"))
DEMO_DEPUTY = _principal(_account("deputy"))
DEMO_STAFF = _principal(_account("station-staff"))
DEMO_COMMITTEE = _principal(_account("street-committee"))
OFFICE = _principal(_account("standing-committee-office"))
DEMO_STREET = DEMO_STAFF.street_id or 1

# Pseudonymous constituents: an id of the demo's and an invented name.
CONSTITUENTS = {
    1: "黄思远",
    2: "林晓彤",
    3: "陈嘉怡",
    4: "梁子豪",
    5: "吴雨桐",
    6: "何俊熙",
}


@dataclass(frozen=True)
class Step:
    """What happens after a thread starts, a few hours apart: "approve",
    "deputy" (a deputy of the station answers), "staff" (its station staff
    answer), "follow" (the constituent writes again), "approve_last",
    "reject_last"."""

    do: str
    text: str = ""


@dataclass(frozen=True)
class ConstituentThread:
    constituent: int  # 0: the demo constituent
    slot: int  # which of the chosen stations
    day: int  # days before today
    subject: str
    text: str
    steps: tuple[Step, ...]


THREADS: tuple[ConstituentThread, ...] = (
    ConstituentThread(
        0,
        0,
        20,
        "路口红绿灯时间太短，老人过马路困难",
        "社区东门外路口的人行绿灯只有十几秒，老人和小孩走到一半就变灯了，希望延长。",
        (
            Step("approve"),
            Step("deputy", "已收到，我们会同交警部门到现场查看，下周接待日给您答复。"),
            Step("follow", "谢谢代表！早晚高峰时段最明显。"),
            Step("approve_last"),
            Step("deputy", "交警部门已同意将该路口行人绿灯延长至30秒，本月内调整。"),
        ),
    ),
    ConstituentThread(
        0,
        1,
        12,
        "老旧小区加装电梯进度",
        "我们小区去年申请加装电梯，至今没有动工，想了解审批到了哪一步。",
        (
            Step("approve"),
            Step("staff", "已向街道规划部门了解，目前在公示阶段，公示结束后即可开工。"),
            Step("follow", "公示期大概多长？有没有需要居民配合的地方？"),
        ),
    ),
    ConstituentThread(
        1,
        0,
        18,
        "社区长者饭堂用餐排队时间长",
        "长者饭堂中午排队要半个多小时，希望增加窗口或者错峰供餐。",
        (
            Step("approve"),
            Step("deputy", "这个问题我们会在下次视察民生项目时一并提出，争取增加供餐窗口。"),
        ),
    ),
    ConstituentThread(
        2,
        1,
        15,
        "夜间施工噪音扰民",
        "附近工地经常施工到晚上十一点以后，影响休息，希望有关部门管一管。",
        (
            Step("approve"),
            Step("staff", "已转交城管部门核查夜间施工许可，核查结果会在这里告诉您。"),
            Step("follow", "工地老板肯定收了好处，大家一起去堵他们的门！"),
            Step("reject_last", "含未经核实的指责和煽动性言辞，请就事反映问题"),
        ),
    ),
    ConstituentThread(
        3,
        2,
        10,
        "公园健身器材损坏",
        "社区公园里有两台健身器材坏了很久，存在安全隐患。",
        (
            Step("approve"),
            Step("deputy", "谢谢反映，已请街道安排维修，维修前会先设置警示标志。"),
        ),
    ),
    ConstituentThread(
        4,
        3,
        8,
        "地铁口共享单车乱停放",
        "地铁站出口的共享单车堆满人行道，轮椅和婴儿车都过不去。",
        (
            Step("approve"),
            Step("staff", "已联系运营企业增派人员清理，并建议划定停放区域。"),
            Step("deputy", "我会在下次代表联组活动中把规范停放的建议提出来。"),
        ),
    ),
    ConstituentThread(
        5,
        2,
        5,
        "小区垃圾分类投放点异味大",
        "垃圾分类投放点清运不及时，夏天异味很大，建议增加清运次数。",
        (
            Step("approve"),
            Step("staff", "已与环卫站沟通，从下周起每天清运两次。"),
        ),
    ),
    ConstituentThread(
        6,
        0,
        3,
        "学校周边上下学交通拥堵",
        "小学门口上下学时段车辆乱停，孩子过马路很危险，希望增加交通疏导。",
        (
            Step("approve"),
            Step("deputy", "已和学校及交警中队沟通，上下学时段将增派护学岗。"),
            Step("staff", "街道将在校门口增设临时停车引导标识。"),
        ),
    ),
)
DEPUTIES_DAY, DEPUTIES_DAY_2, WORKING_DAY, WORKING_DAY_2 = 9, 4, 6, 2
DEPUTIES_SUBJECT = "下月集中接待选民的分工安排"
DEPUTIES_TEXTS = (
    "下月接待日我们几位代表轮流值班，请大家在本周内报一下可以到站的日子。",
    "我第二周和第四周都可以，群众反映的电梯问题我来跟进。",
)
DEPUTIES_SUBJECT_2 = "关于老旧小区加装电梯的联名建议"
DEPUTIES_TEXTS_2 = (
    "近期选民反映加装电梯审批慢的比较多，建议我们联名提一份建议，大家看看是否同意。",
    "同意，我这边也收到过类似意见，可以把几个小区的情况汇总进去。",
)
WORKING_SUBJECT = "接待日选民意见整理与转办"
WORKING_TEXTS = (
    "上周接待日收集的选民意见请工作人员汇总一下，需要转办的请街道工委把关。",
    "已汇总，共九条，其中交通类四条，明天发给大家。",
    "收到，汇总后我们按程序转交有关部门办理。",
)
WORKING_SUBJECT_2 = "联络站下季度活动安排"
WORKING_TEXTS_2 = (
    "下季度拟安排两次代表进站接待、一次视察活动，请各位代表和工委提出意见。",
    "视察建议安排在社区长者饭堂和老旧小区加装电梯现场。",
    "同意，请工作人员先拟定方案报常委会办公室备案。",
)
DEMO_SUBJECT = THREADS[0].subject  # how the demo is known to be in


@dataclass(frozen=True)
class Loaded:
    conversations: int
    messages: int
    held: int
    rejected: int
    stations: int


class NoStations(Exception):
    """The registry lists no active station with serving deputies."""


@dataclass
class DemoClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def has_any(db: Database) -> bool:
    """Whether the service holds any conversation."""
    with db.read() as session:
        return bool(session.scalar(select(func.count()).select_from(Conversation)))


def has_demo(db: Database) -> bool:
    """Whether the demo's first thread (the demo constituent's) is in."""
    with db.read() as session:
        found = session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(
                Conversation.constituent_sub == DEMO_CONSTITUENT.sub,
                Conversation.subject == DEMO_SUBJECT,
            )
        )
    return bool(found)


@contextmanager
def demo_clock(use_cases: ConversationUseCases, today: date) -> Iterator[DemoClock]:
    """`use_cases` on the demo's clock while the block runs."""
    platform_clock = use_cases.clock
    clock = DemoClock(datetime.combine(today, time(9), SHANGHAI))
    use_cases.clock = clock
    try:
        yield clock
    finally:
        use_cases.clock = platform_clock


def constituent(n: int) -> Principal:
    if n == 0:
        return DEMO_CONSTITUENT
    return Principal(sub=f"demo:constituent-{n}", role=Role.CONSTITUENT, name=CONSTITUENTS[n])


def deputy(deputy_id: int) -> Principal:
    if deputy_id == DEMO_DEPUTY.deputy_id:
        return DEMO_DEPUTY
    return Principal(sub=f"demo:deputy-{deputy_id}", role=Role.DEPUTY, deputy_id=deputy_id)


def station_staff(street_id: int) -> Principal:
    if street_id == DEMO_STREET:
        return DEMO_STAFF
    return Principal(
        sub=f"demo:station-staff-{street_id}", role=Role.STATION_STAFF, street_id=street_id
    )


def street_committee(street_id: int) -> Principal:
    if street_id == DEMO_STREET:
        return DEMO_COMMITTEE
    return Principal(
        sub=f"demo:street-committee-{street_id}", role=Role.STREET_COMMITTEE, street_id=street_id
    )


@dataclass(frozen=True)
class Chosen:
    station: StationFacts
    deputies: list[DeputyFacts]


def choose_stations(use_cases: ConversationUseCases) -> list[Chosen]:
    """The demo deputy's station, those of the demo staff's street, then
    those of other streets: active ones with serving deputies, four at most."""
    directory = use_cases.directory
    stations = directory.stations()
    try:
        home = directory.deputy(DEMO_DEPUTY.deputy_id or 1).station_id
    except NotFound:
        home = 0
    ordered = [s for s in stations if s.id == home]
    ordered += [s for s in stations if s.street_id == DEMO_STREET and s.id != home]
    taken = {s.street_id for s in ordered}
    ordered += [s for s in stations if s.street_id not in taken]
    chosen: list[Chosen] = []
    for station in ordered:
        deputies = directory.station_deputies(station.id)
        if deputies:
            chosen.append(Chosen(station, deputies))
        if len(chosen) == STATIONS_MAX:
            break
    if not chosen:
        raise NoStations("the registry lists no active station with serving deputies")
    return chosen


def load_demo(use_cases: ConversationUseCases, today: date) -> Loaded:
    """Load the demo conversations of the weeks before `today` (Asia/Shanghai)."""
    chosen = choose_stations(use_cases)
    with demo_clock(use_cases, today) as clock:
        loader = _Loader(use_cases, clock, today, chosen)
        # Started in the order of their days: the newest thread has the highest id.
        starts: list[tuple[int, Callable[[], None]]] = [
            (thread.day, partial(loader.constituent_thread, thread)) for thread in THREADS
        ]
        starts += [
            (DEPUTIES_DAY, loader.home_deputies_thread),
            (DEPUTIES_DAY_2, loader.second_deputies_thread),
            (WORKING_DAY, loader.home_working_thread),
            (WORKING_DAY_2, loader.demo_street_working_thread),
        ]
        for _day, load in sorted(starts, key=lambda s: -s[0]):
            load()
        return Loaded(
            conversations=loader.conversations,
            messages=loader.messages,
            held=len(loader.held),
            rejected=loader.rejected,
            stations=len(chosen),
        )


class _Loader:
    def __init__(
        self,
        use_cases: ConversationUseCases,
        clock: DemoClock,
        today: date,
        chosen: list[Chosen],
    ) -> None:
        self.use_cases = use_cases
        self.clock = clock
        self.today = today
        self.chosen = chosen
        self.conversations = self.messages = self.rejected = 0
        self.held: set[int] = set()  # the ids of the messages still held

    def at(self, days_before: int, hour: int) -> None:
        """Move the clock `hour` hours past nine (Shanghai) on the day
        `days_before` today."""
        day = self.today - timedelta(days=days_before)
        start = datetime.combine(day, time(9), SHANGHAI) + timedelta(hours=hour)
        self.clock.now = start.astimezone(UTC)

    def answering_deputy(self, chosen: Chosen) -> Principal:
        """The demo deputy where they serve the station, else its first deputy."""
        ids = [d.id for d in chosen.deputies]
        return deputy(DEMO_DEPUTY.deputy_id if DEMO_DEPUTY.deputy_id in ids else ids[0])

    def start(self, who: Principal, request: pb.StartConversationRequest) -> pb.Conversation:
        started = self.use_cases.start(request, who)
        self.conversations += 1
        self.messages += 1
        self.held.update(m.id for m in started.messages if m.state == pb.MESSAGE_STATE_HELD)
        return started

    def start_among(
        self, who: Principal, kind: int, subject: str, text: str, participants: list[str]
    ) -> pb.Conversation:
        """A deputies' or working thread with `participants` besides `who`."""
        return self.start(
            who,
            pb.StartConversationRequest(
                kind=kind,  # type: ignore[arg-type]
                subject=subject,
                text=text,
                participants=participants,
            ),
        )

    def post(self, who: Principal, conversation_id: int, text: str) -> pb.ConversationMessage:
        posted = self.use_cases.post(
            pb.PostConversationMessageRequest(conversation_id=conversation_id, text=text), who
        )
        self.messages += 1
        if posted.state == pb.MESSAGE_STATE_HELD:
            self.held.add(posted.id)
        return posted

    def constituent_thread(self, spec: ConstituentThread) -> None:
        chosen = self.chosen[spec.slot % len(self.chosen)]
        street = chosen.station.street_id
        # The street committee moderates the demo street's threads, the
        # station staff the others'.
        moderator = street_committee(street) if street == DEMO_STREET else station_staff(street)
        author = constituent(spec.constituent)
        self.at(spec.day, 0)
        started = self.start(
            author,
            pb.StartConversationRequest(
                kind=pb.CONVERSATION_KIND_CONSTITUENT,
                subject=spec.subject,
                text=spec.text,
                station_id=chosen.station.id,
            ),
        )
        last = started.messages[0].id
        for hour, step in enumerate(spec.steps, start=1):
            self.at(spec.day - (hour // 3), hour % 3 * 3 + 1)
            if step.do in ("approve", "approve_last"):
                self.moderate(moderator, last, "")
            elif step.do == "reject_last":
                self.moderate(moderator, last, step.text)
            elif step.do == "deputy":
                self.post(self.answering_deputy(chosen), started.id, step.text)
            elif step.do == "staff":
                self.post(station_staff(street), started.id, step.text)
            elif step.do == "follow":
                last = self.post(author, started.id, step.text).id
            else:
                raise ValueError(f"no demo step {step.do!r}")

    def moderate(self, moderator: Principal, message_id: int, reason: str) -> None:
        decision = pb.MODERATION_DECISION_REJECT if reason else pb.MODERATION_DECISION_APPROVE
        self.use_cases.moderate(
            pb.ModerateConversationMessageRequest(id=message_id, decision=decision, reason=reason),
            moderator,
        )
        self.rejected += bool(reason)
        self.held.discard(message_id)

    def others(self, chosen: Chosen, starter: int) -> list[int]:
        """Up to three deputies besides `starter`: the station's first, then
        the other chosen stations'."""
        found: list[int] = []
        for each in [chosen, *(c for c in self.chosen if c is not chosen)]:
            found += [d.id for d in each.deputies if d.id != starter and d.id not in found]
        return found[:OTHER_DEPUTIES_MAX]

    def among(
        self, kind: int, subject: str, participants: list[str], said: list[tuple[Principal, str]]
    ) -> None:
        """A deputies' or working thread started on the clock's day by the
        first of `said`, the others answering a few hours apart."""
        (starter, first), *answers = said
        started = self.start_among(starter, kind, subject, first, participants)
        day = self.clock.now
        for i, (who, text) in enumerate(answers, start=1):
            self.clock.now = day + timedelta(hours=3 * i + (15 if i > 2 else 0))
            self.post(who, started.id, text)

    def among_deputies(
        self, chosen: Chosen, day: int, subject: str, texts: tuple[str, ...]
    ) -> None:
        starter = self.answering_deputy(chosen)
        others = self.others(chosen, starter.deputy_id or 0)
        if not others:
            return  # a deputy alone: no thread among deputies
        self.at(day, 1)
        answering = [deputy(others[i % len(others)]) for i in range(len(texts) - 1)]
        self.among(
            pb.CONVERSATION_KIND_DEPUTIES,
            subject,
            [addresses.deputy(d) for d in others],
            list(zip([starter, *answering], texts, strict=True)),
        )

    def home_deputies_thread(self) -> None:
        """Among the demo deputy's station's deputies (and others')."""
        self.among_deputies(self.chosen[0], DEPUTIES_DAY, DEPUTIES_SUBJECT, DEPUTIES_TEXTS)

    def second_deputies_thread(self) -> None:
        self.among_deputies(
            self.chosen[1 % len(self.chosen)], DEPUTIES_DAY_2, DEPUTIES_SUBJECT_2, DEPUTIES_TEXTS_2
        )

    def home_working_thread(self) -> None:
        """A deputy with the staff and committee of their station's street."""
        home = self.chosen[0]
        street = home.station.street_id
        self.at(WORKING_DAY, 2)
        self.among(
            pb.CONVERSATION_KIND_WORKING,
            WORKING_SUBJECT,
            [rules.station_staff(street), rules.street_committee(street)],
            list(
                zip(
                    [self.answering_deputy(home), station_staff(street), street_committee(street)],
                    WORKING_TEXTS,
                    strict=True,
                )
            ),
        )

    def demo_street_working_thread(self) -> None:
        """The demo staff with their committee, a station's deputies and the office."""
        ours = [c for c in self.chosen if c.station.street_id == DEMO_STREET] or self.chosen[:1]
        street = ours[-1].station.street_id
        deputies = [d.id for d in ours[-1].deputies][:2]
        self.at(WORKING_DAY_2, 1)
        self.among(
            pb.CONVERSATION_KIND_WORKING,
            WORKING_SUBJECT_2,
            [
                rules.street_committee(street),
                *(addresses.deputy(d) for d in deputies),
                addresses.office(Role.STANDING_COMMITTEE_OFFICE),
            ],
            list(
                zip(
                    [station_staff(street), deputy(deputies[0]), street_committee(street)],
                    WORKING_TEXTS_2,
                    strict=True,
                )
            ),
        )
