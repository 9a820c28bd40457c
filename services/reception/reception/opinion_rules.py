"""The rules of opinions (社情民意), in plain Python: the fixed list of
categories and the deputies' expertise each calls for, the tracking code,
the lifecycle's transitions, and the ranking of deputies for an opinion
(包干到户).

The categories are the platform's own list: the fields of people's
livelihood (民生) a station collects opinions on, each matched to the
expertise tags the registry keeps for its deputies (the demo district's
tags are `registry.demo_data.EXPERTISE`; a tag outside that list simply
matches no category). The list is the contract's `OpinionCategory` enum:
changing it is a contract change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kit.errors import FailedPrecondition

# ---------------------------------------------------------------- categories


@dataclass(frozen=True)
class Category:
    name: str  # the stored name, the enum's suffix in lowercase
    label: str  # its Chinese name
    # The expertise tags that fit, the closest first.
    expertise: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category("urban_planning", "城建规划", ("城市规划", "住房保障", "水务")),
    Category("transport", "交通出行", ("交通", "城市规划", "公共安全")),
    Category("environment", "环境卫生与绿化", ("环保", "园林绿化", "水务")),
    Category("education", "教育", ("教育",)),
    Category("health", "医疗卫生与食品安全", ("医疗卫生", "食品安全")),
    Category("elderly_care", "养老服务", ("养老服务", "医疗卫生", "社区治理")),
    Category("employment", "就业社保", ("就业社保", "企业经营", "财务")),
    Category("property", "物业管理与住房", ("物业管理", "住房保障", "法律")),
    Category("public_safety", "社会治安", ("公共安全", "法律", "社区治理")),
    Category("legal", "法律纠纷", ("法律",)),
    Category("economy", "经济发展", ("企业经营", "财务")),
    Category("culture_sports", "文化体育", ("文化体育", "教育")),
    Category("community", "社区事务", ("社区治理", "物业管理")),
    Category("other", "其他", ()),
)
BY_NAME = {c.name: c for c in CATEGORIES}

# ---------------------------------------------------------------- sources and states

RECEPTION, ONLINE, ORDER = "reception", "online", "order"
SOURCES = (RECEPTION, ONLINE, ORDER)
SOURCE_LABELS = {RECEPTION: "接待日当面反映", ONLINE: "网上反映", ORDER: "出门寻找订单"}

RECORDED = "recorded"
ANSWERED = "answered_on_the_spot"
HANDED_ON = "handed_on"
MERGED = "merged"
DECLINED = "declined"
IN_PROGRESS = "in_progress"
DONE = "done"
STATUSES = (RECORDED, ANSWERED, HANDED_ON, MERGED, DECLINED, IN_PROGRESS, DONE)
OPEN = (RECORDED, IN_PROGRESS)
STATUS_LABELS = {
    RECORDED: "已登记",
    ANSWERED: "已当场答复",
    HANDED_ON: "已转办",
    MERGED: "已合并",
    DECLINED: "不予受理",
    IN_PROGRESS: "代表跟进中",
    DONE: "已办结",
}

# Actions (the timeline's kinds and the events' names).
ANSWER, HAND_ON, MERGE, DECLINE, ASSIGN, COMPLETE = (
    "answered",
    "handed_on",
    "merged",
    "declined",
    "assigned",
    "done",
)

# (source kind, status, action) -> the new status. "any" stands for every
# source; an order is the only source that a deputy works through to done.
_ANY = "any"
TRANSITIONS: dict[tuple[str, str, str], str] = {
    (_ANY, RECORDED, HAND_ON): HANDED_ON,
    (_ANY, RECORDED, MERGE): MERGED,
    (_ANY, RECORDED, DECLINE): DECLINED,
    (RECEPTION, RECORDED, ANSWER): ANSWERED,
    (ONLINE, RECORDED, ANSWER): ANSWERED,
    # A deputy takes an opinion: it stays recorded until it is answered or
    # handed on; an order taken is the deputy's to work through.
    (RECEPTION, RECORDED, ASSIGN): RECORDED,
    (ONLINE, RECORDED, ASSIGN): RECORDED,
    (ORDER, RECORDED, ASSIGN): IN_PROGRESS,
    (ORDER, IN_PROGRESS, ASSIGN): IN_PROGRESS,
    (ORDER, IN_PROGRESS, COMPLETE): DONE,
    (ORDER, IN_PROGRESS, HAND_ON): HANDED_ON,
    (ORDER, IN_PROGRESS, MERGE): MERGED,
    (ORDER, IN_PROGRESS, DECLINE): DECLINED,
}


def allowed_actions(source: str, status: str) -> list[str]:
    return sorted(
        action for (src, st, action) in TRANSITIONS if st == status and src in (source, _ANY)
    )


def next_status(source: str, status: str, action: str) -> str:
    """The status after `action`; FAILED_PRECONDITION naming the states when
    the opinion may not go that way."""
    for key in ((source, status, action), (_ANY, status, action)):
        if key in TRANSITIONS:
            return TRANSITIONS[key]
    may = allowed_actions(source, status)
    then = f"it may be {', '.join(may)}" if may else "it is closed"
    raise FailedPrecondition(f"an opinion ({source}) that is {status} cannot be {action}: {then}")


# ---------------------------------------------------------------- tracking codes

CODE_PREFIX = "TH"
CODE_PATTERN = re.compile(r"^TH-(\d{4})-(\d{6,})$")


def tracking_code(year: int, number: int) -> str:
    """`TH-2026-000123`: the year and the year's number, six digits at least."""
    if number < 1:
        raise ValueError("tracking numbers start at 1")
    return f"{CODE_PREFIX}-{year:04d}-{number:06d}"


def parse_code(text: str) -> tuple[int, int] | None:
    found = CODE_PATTERN.match(text.strip().upper())
    return (int(found.group(1)), int(found.group(2))) if found else None


# ---------------------------------------------------------------- deputies by expertise


@dataclass(frozen=True)
class Candidate:
    deputy_id: int
    name: str
    station_id: int | None
    expertise: Sequence[str]
    open_opinions: int = 0


@dataclass(frozen=True)
class Suggestion:
    candidate: Candidate
    matched: tuple[str, ...]
    score: int
    same_station: bool
    reason: str


def _score(category: Category, tags: Iterable[str]) -> tuple[int, tuple[str, ...]]:
    """A tag the category names first weighs most: 3, then 2, then 1."""
    have = set(tags)
    matched = tuple(t for t in category.expertise if t in have)
    weights = {t: max(1, 3 - i) for i, t in enumerate(category.expertise)}
    return sum(weights[t] for t in matched), matched


def _reason(category: Category, matched: Sequence[str], same_station: bool, load: int) -> str:
    parts = []
    if matched:
        tags = "、".join(f"“{t}”" for t in matched)
        parts.append(f"专长{tags}与“{category.label}”对口")
    else:
        parts.append(f"无与“{category.label}”对口的专长")
    parts.append("本站代表" if same_station else "本街道其他联络站代表")
    parts.append(f"在办{load}件" if load else "手上暂无在办事项")
    return "；".join(parts)


def rank(
    category_name: str, station_id: int, candidates: Iterable[Candidate], limit: int
) -> list[Suggestion]:
    """Deputies for an opinion of `category_name` at `station_id`: those whose
    expertise fits, best first (the fit, then the opinion's own station,
    then the fewest opinions in hand, then the id). When none fits, the
    station's own deputies, fewest in hand first, so someone is named."""
    category = BY_NAME[category_name]
    scored = []
    for c in candidates:
        score, matched = _score(category, c.expertise)
        same = c.station_id == station_id
        scored.append(
            Suggestion(c, matched, score, same, _reason(category, matched, same, c.open_opinions))
        )
    fitting = [s for s in scored if s.score > 0]
    chosen = fitting or [s for s in scored if s.same_station]
    chosen.sort(
        key=lambda s: (
            -s.score,
            not s.same_station,
            s.candidate.open_opinions,
            s.candidate.deputy_id,
        )
    )
    return chosen[:limit]
