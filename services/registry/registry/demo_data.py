"""Demo data for the registry at the real scale of Tianhe district.

The figures are the district's own (21 streets, 40 liaison stations, 350
deputies of four levels, 83 street committee members, a budget of at least
370,000 yuan per street committee); the people, phone numbers, communities and
addresses are synthetic. Everything comes from one seeded random generator, so
a seed always gives the same district.

Records are plain dicts that refer to each other by `code` (e.g.
deputy["station"] is a station code, community["street"] a street code), so a
loader can create them in list order and resolve ids as it goes. Where a kind
has a roster (deputies, stations, communities, positions) the keys and value
types are those of `registry.roster`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

Record = dict[str, Any]

# The real figures.
STATION_COUNT = 40
DEPUTIES_BY_LEVEL: dict[str, int] = {"national": 3, "provincial": 13, "city": 55, "district": 279}
COMMITTEE_MEMBER_COUNT = 83
PERSONNEL_YUAN = 70_000
MINIMUM_BUDGET_YUAN = 370_000

# (code, name without 街道), in the district's usual order.
STREETS: tuple[tuple[str, str], ...] = (
    ("wushan", "五山"),
    ("yuancun", "员村"),
    ("chebei", "车陂"),
    ("shahe", "沙河"),
    ("shipai", "石牌"),
    ("shadong", "沙东"),
    ("tianhenan", "天河南"),
    ("linhe", "林和"),
    ("xinghua", "兴华"),
    ("tangxia", "棠下"),
    ("tianyuan", "天园"),
    ("liede", "猎德"),
    ("xiancun", "冼村"),
    ("yuangang", "元岗"),
    ("huangcun", "黄村"),
    ("changxing", "长兴"),
    ("longdong", "龙洞"),
    ("fenghuang", "凤凰"),
    ("qianjin", "前进"),
    ("zhuji", "珠吉"),
    ("xintang", "新塘"),
)
FIRST_STATION_STREET = "linhe"

# term name, start, end per level (the terms running in the 2020s).
TERMS: dict[str, tuple[str, dt.date, dt.date]] = {
    "national": ("第十四届", dt.date(2023, 3, 5), dt.date(2028, 3, 4)),
    "provincial": ("第十四届", dt.date(2023, 1, 12), dt.date(2028, 1, 11)),
    "city": ("第十六届", dt.date(2022, 1, 6), dt.date(2027, 1, 5)),
    "district": ("第十届", dt.date(2021, 12, 20), dt.date(2026, 12, 19)),
}
LEVEL_TITLES = {"national": "全国", "provincial": "广东省", "city": "广州市", "district": "天河区"}

EXPERTISE: tuple[str, ...] = (
    "城市规划",
    "教育",
    "医疗卫生",
    "法律",
    "交通",
    "环保",
    "社区治理",
    "养老服务",
    "财务",
    "企业经营",
    "园林绿化",
    "物业管理",
    "食品安全",
    "就业社保",
    "文化体育",
    "公共安全",
    "住房保障",
    "水务",
)

# profession, the expertise it brings, workplace patterns ({p} = a place name)
PROFESSIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("中学教师", "教育", ("广州市天河区{p}中学",)),
    ("小学校长", "教育", ("广州市天河区{p}小学",)),
    ("高校教授", "教育", ("华南{p}大学", "广州{p}学院")),
    ("主任医师", "医疗卫生", ("天河区{p}医院", "广州{p}中医医院")),
    ("社区卫生服务中心主任", "医疗卫生", ("天河区{p}社区卫生服务中心",)),
    ("护士长", "医疗卫生", ("天河区{p}医院",)),
    ("律师", "法律", ("广东{p}律师事务所",)),
    ("基层法律工作者", "法律", ("天河区{p}法律服务所",)),
    ("规划设计师", "城市规划", ("广州{p}规划设计院有限公司",)),
    ("建筑工程师", "住房保障", ("广东{p}建筑工程有限公司",)),
    ("公交公司车队长", "交通", ("广州{p}公共汽车有限公司",)),
    ("交通工程师", "交通", ("广州{p}交通设计研究院",)),
    ("环保工程师", "环保", ("广东{p}环保科技有限公司",)),
    ("园林科研人员", "园林绿化", ("华南{p}植物研究所",)),
    ("社区居委会主任", "社区治理", ("天河区{p}社区居委会",)),
    ("社区工作者", "社区治理", ("天河区{p}社区居委会",)),
    ("养老院院长", "养老服务", ("天河区{p}颐养院",)),
    ("社工机构负责人", "养老服务", ("广州{p}社会工作服务中心",)),
    ("注册会计师", "财务", ("广东{p}会计师事务所",)),
    ("银行支行行长", "财务", ("{p}银行天河支行",)),
    ("民营企业董事长", "企业经营", ("广州{p}科技股份有限公司", "广州{p}实业有限公司")),
    ("企业总经理", "企业经营", ("广州{p}贸易有限公司", "广州{p}信息技术有限公司")),
    ("个体工商户", "企业经营", ("天河区{p}商行",)),
    ("派出所民警", "公共安全", ("广州市公安局天河区分局{p}派出所",)),
    ("物业公司经理", "物业管理", ("广州{p}物业管理有限公司",)),
    ("食品企业质量主管", "食品安全", ("广州{p}食品有限公司",)),
    ("人力资源经理", "就业社保", ("广州{p}人力资源服务有限公司",)),
    ("文化馆馆员", "文化体育", ("天河区文化馆",)),
    ("水务工程师", "水务", ("广州{p}水务工程有限公司",)),
    ("退休干部", "社区治理", ("天河区{p}街道退休干部党支部",)),
)

# Surnames roughly as common as they are in Guangdong.
SURNAMES = (
    "陈" * 12 + "李" * 9 + "黄" * 9 + "张" * 7 + "梁" * 6 + "林" * 6 + "刘" * 6 + "吴" * 5
    + "罗" * 4 + "何" * 4 + "郑" * 4 + "杨" * 4 + "谢" * 3 + "周" * 3 + "冯" * 3 + "邓" * 3
    + "钟" * 3 + "曾" * 3 + "叶" * 3 + "蔡" * 2 + "潘" * 2 + "卢" * 2 + "麦" * 2 + "彭" * 2
    + "朱" * 2 + "许" * 2 + "莫" * 2 + "苏" * 2 + "赖" * 2 + "关" * 2
    + "王赵孙胡郭高徐马温古江邱方余骆区欧严汤谭范邹廖韦袁龚"
)  # fmt: skip
GIVEN_MALE = "伟强军磊涛斌杰明华建国志文俊辉海峰鹏浩宇永健荣新东锋智勇光耀宏振家成德嘉润锦"
GIVEN_FEMALE = "丽敏静燕芳娟霞玲红艳婷慧琳雪欣颖洁珊萍倩雯嘉晓琼佩秀惠凤桂妍薇莹彤"

# Two-character place names for communities, estates and workplaces.
_PLACE_FIRST = "华骏翠金雅荟名富侨汇嘉锦丽盈福康瑞新荔粤穗岭明晖逸怡朗悦和丰"
_PLACE_SECOND = "景苑园庭轩湖峰港湾源林安馨华阳泰"
_KEYWORD_SUFFIXES = ("新村", "花园", "小区", "北街", "大院")

_CN_DIGITS = "零一二三四五六七八九十"

STREET_OFFICE_RESPONSIBILITIES = (
    "街道职权范围内的事项：辖区市容环境卫生、社区治理、老旧小区微改造、"
    "出租屋和流动人员服务管理、民政救助、社区养老和居家服务、安全生产检查"
)

# code, name, responsibilities: what each working body reviews in referrals.
WORKING_BODIES: tuple[tuple[str, str, str], ...] = (
    (
        "liaison-committee",
        "区人大常委会联络工委",
        "代表联络工作；指导人大街道工委和代表社区联络站；代表培训；代表履职统计",
    ),
    ("legal-committee", "区人大常委会法制工委", "法治建设、政法、公共安全、信访和执法监督"),
    ("finance-committee", "区人大常委会财经工委", "预算和决算、财政经济、市场监管、企业和营商环境"),
    (
        "urban-env-committee",
        "区人大常委会城建环保工委",
        "城市规划建设、交通、市政设施、环境保护、园林绿化、水务",
    ),
    (
        "social-committee",
        "区人大常委会社会建设工委",
        "民政、养老、就业和社会保障、卫生健康、社区建设",
    ),
    ("education-committee", "区人大常委会教科文卫工委", "教育、科技、文化、体育"),
)

# code, name, responsibilities of the district government's departments.
DEPARTMENTS: tuple[tuple[str, str, str], ...] = (
    (
        "housing",
        "天河区住房和城乡建设局",
        "房屋安全、老旧小区改造、物业管理监督、住房保障、建设工程质量和施工安全",
    ),
    (
        "transport",
        "天河区交通运输局",
        "道路交通设施、公交线路和站点、出租车、停车场管理、交通拥堵治理",
    ),
    (
        "urban-management",
        "天河区城市管理和综合执法局",
        "市容环境卫生、垃圾分类和清运、违法建设查处、占道经营、户外广告、市政照明",
    ),
    ("health", "天河区卫生健康局", "医疗机构、社区卫生服务、公共卫生、计划生育、医疗纠纷调处"),
    ("education", "天河区教育局", "中小学和幼儿园、学位供给、招生入学、校园安全、校外培训"),
    ("civil-affairs", "天河区民政局", "养老服务、社会救助、残疾人福利、社会组织、婚姻登记、殡葬"),
    (
        "police",
        "广州市公安局天河区分局",
        "治安管理、交通秩序和违章停车、户籍和居住证、出租屋治安、噪声扰民查处",
    ),
    (
        "ecology",
        "广州市生态环境局天河分局",
        "大气、水和噪声污染防治、餐饮油烟、建设项目环评、环境投诉",
    ),
    (
        "market",
        "天河区市场监督管理局",
        "食品安全、市场主体登记、价格和消费投诉、特种设备（电梯）安全",
    ),
    (
        "hrss",
        "天河区人力资源和社会保障局",
        "就业和再就业、社会保险、劳动关系和欠薪、职业技能培训",
    ),
    ("water", "天河区水务局", "供水排水、内涝治理、河涌整治、污水管网、水环境"),
    (
        "planning",
        "广州市规划和自然资源局天河区分局",
        "城乡规划、用地审批、规划许可、不动产登记、历史建筑保护",
    ),
    ("culture", "天河区文化广电旅游体育局", "公共文化设施、群众体育、文化市场、旅游"),
    ("finance", "天河区财政局", "财政预算和资金拨付、政府采购、街道经费保障"),
)

STAFF_TITLES = (
    "街道办事处副主任",
    "街道党工委委员",
    "社区居委会主任",
    "街道综治办主任",
    "街道党建办主任",
)
DEPUTY_HEAD_TITLES = ("居委会副主任", "居委会专干", "居委会委员")


@dataclass
class District:
    """Every record of the demo district, as plain dicts keyed by `code`."""

    streets: list[Record] = field(default_factory=list)
    areas: list[Record] = field(default_factory=list)
    communities: list[Record] = field(default_factory=list)
    venues: list[Record] = field(default_factory=list)
    stations: list[Record] = field(default_factory=list)
    units: list[Record] = field(default_factory=list)
    deputies: list[Record] = field(default_factory=list)
    positions: list[Record] = field(default_factory=list)
    budget_lines: list[Record] = field(default_factory=list)


def _numeral(n: int) -> str:
    """1..99 in Chinese numerals, as station and area names use them."""
    if n <= 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def _spread(rng: random.Random, total: int, bins: int, low: int, high: int) -> list[int]:
    """`total` split into `bins` counts, each between `low` and `high`."""
    counts = [low] * bins
    for _ in range(total - low * bins):
        open_bins = [i for i in range(bins) if counts[i] < high]
        counts[rng.choice(open_bins)] += 1
    return counts


class _Builder:
    def __init__(self, seed: int, year: int) -> None:
        self.rng = random.Random(seed)
        self.year = year
        self.district = District()
        self.names: set[str] = set()
        self.phones: set[str] = set()
        places = [a + b for a in _PLACE_FIRST for b in _PLACE_SECOND if a != b]
        street_names = {name for _, name in STREETS}
        self.places = [p for p in places if p not in street_names]
        self.rng.shuffle(self.places)
        self.roads: list[str] = []

    # -- people

    def person(self, gender: str | None = None) -> tuple[str, str]:
        """A fresh name, unique in the district, and its gender."""
        rng = self.rng
        if gender is None:
            gender = "女" if rng.random() < 0.3 else "男"
        pool = GIVEN_FEMALE if gender == "女" else GIVEN_MALE
        while True:
            given = "".join(rng.choice(pool) for _ in range(1 if rng.random() < 0.3 else 2))
            name = rng.choice(SURNAMES) + given
            if name not in self.names:
                self.names.add(name)
                return name, gender

    def phone(self) -> str:
        rng = self.rng
        while True:
            if rng.random() < 0.15:
                number = f"020-{rng.choice('38')}{rng.randrange(10**6, 10**7)}"
            else:
                number = f"1{rng.choice('35789')}{rng.randrange(10**8, 10**9)}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def day(self, start: dt.date, span_days: int) -> dt.date:
        return start + dt.timedelta(days=self.rng.randrange(span_days))

    # -- organisation

    def build(self) -> District:
        self.geography()
        self.organisation()
        self.people()
        self.budgets()
        return self.district

    def geography(self) -> None:
        rng, d = self.rng, self.district
        codes = [code for code, _ in STREETS]
        station_counts = dict(
            zip(codes, _spread(rng, STATION_COUNT, len(codes), 1, 3), strict=True)
        )
        # The first station of the district is Linhe street's: list that street first.
        ordered = [FIRST_STATION_STREET] + [c for c in codes if c != FIRST_STATION_STREET]
        short = dict(STREETS)
        places = iter(self.places)
        for code, name in STREETS:
            d.streets.append({"code": code, "name": f"{name}街道"})
        for code in ordered:
            name = short[code]
            n_stations = station_counts[code]
            n_areas = rng.randint(-(-n_stations // 3), n_stations)
            per_area = _spread(rng, n_stations, n_areas, 1, 3)
            station_no = 0
            street_stems = [name]
            street_roads: list[str] = []
            for area_no, stations_here in enumerate(per_area, start=1):
                area_code = f"{code}-area-{area_no}"
                d.areas.append(
                    {
                        "code": area_code,
                        "name": f"{name}街第{_numeral(area_no)}片区",
                        "street": code,
                    }
                )
                for _ in range(stations_here):
                    station_no += 1
                    station_code = f"{code}-{station_no}"
                    served = []
                    for _ in range(rng.randint(3, 6)):
                        stem = street_stems.pop() if street_stems else next(places)
                        community_code = f"{code}-c{len(street_roads) + 1:02d}"
                        road = f"{stem}路"
                        street_roads.append(road)
                        self.roads.append(road)
                        d.communities.append(
                            {
                                "code": community_code,
                                "name": f"{stem}社区",
                                "street": code,
                                "area": area_code,
                                "address_keywords": [road, stem + rng.choice(_KEYWORD_SUFFIXES)],
                            }
                        )
                        served.append(community_code)
                    first = d.communities[-len(served)]
                    venue_code = f"venue-{station_code}"
                    d.venues.append(
                        {
                            "code": venue_code,
                            "name": f"{first['name']}居委会人大代表活动室",
                            "address": f"广州市天河区{first['address_keywords'][0]}"
                            f"{rng.randint(1, 199)}号",
                            "street": code,
                            "capacity": rng.choice((20, 30, 40, 50, 60)),
                            "opening_hours": "每月15日 9:00-12:00、14:30-17:30",
                        }
                    )
                    d.stations.append(
                        {
                            "code": station_code,
                            "name": f"{name}街第{_numeral(station_no)}联络站",
                            "street": code,
                            "area": area_code,
                            "venue": venue_code,
                            "communities": served,
                            # The stations opened in August 2013.
                            "opened_on": dt.date(2013, 8, 1)
                            if station_code == f"{FIRST_STATION_STREET}-1"
                            else self.day(dt.date(2013, 8, 2), 30),
                        }
                    )
            d.venues.append(
                {
                    "code": f"venue-{code}",
                    "name": f"{name}街道人大工委办公室",
                    "address": f"广州市天河区{rng.choice(street_roads)}"
                    f"{rng.randint(1, 199)}号{name}街道办事处{rng.randint(2, 6)}楼",
                    "street": code,
                    "capacity": rng.choice((20, 30, 40)),
                    "opening_hours": "工作日 9:00-12:00、14:00-17:30",
                }
            )
        # Streets in the usual order for areas and communities too; Linhe's
        # first station stays first in the station list.
        rank = {code: i for i, code in enumerate(codes)}
        d.areas.sort(key=lambda r: rank[r["street"]])
        d.communities.sort(key=lambda r: rank[r["street"]])
        d.venues.sort(key=lambda r: rank[r["street"]])

    def organisation(self) -> None:
        units = self.district.units

        def unit(
            code: str,
            name: str,
            kind: str,
            parent: str | None = None,
            street: str | None = None,
            responsibilities: str = "",
        ) -> None:
            units.append(
                {
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "parent": parent,
                    "street": street,
                    "responsibilities": responsibilities,
                }
            )

        unit("standing-committee", "天河区人大常委会", "standing_committee")
        for code, name, duties in WORKING_BODIES:
            unit(code, name, "working_body", "standing-committee", responsibilities=duties)
        unit(
            "sc-office",
            "区人大常委会办公室",
            "standing_committee_office",
            "standing-committee",
            responsibilities="审核后转区政府办公室；跟踪办理期限；接收答复抄送",
        )
        for code, name in STREETS:
            unit(
                f"{code}-committee",
                f"{name}街道人大工委",
                "street_committee",
                "standing-committee",
                code,
            )
        unit("gov-office", "天河区人民政府办公室", "government_office")
        for code, name in STREETS:
            unit(
                f"{code}-office",
                f"{name}街道办事处",
                "street_office",
                street=code,
                responsibilities=STREET_OFFICE_RESPONSIBILITIES,
            )
        for code, name, duties in DEPARTMENTS:
            unit(code, name, "department", "gov-office", responsibilities=duties)

    def people(self) -> None:
        rng, d = self.rng, self.district
        stations = d.stations
        # Deputies by station: district deputies spread evenly over the
        # stations, the other levels wherever their constituency lies.
        assignments: list[tuple[str, Record]] = []
        for level in ("national", "provincial", "city", "district"):
            order = stations[:]
            rng.shuffle(order)
            assignments += [(level, order[i % len(order)]) for i in range(DEPUTIES_BY_LEVEL[level])]
        numbers: Counter[str] = Counter()
        for level, station in assignments:
            numbers[level] += 1
            d.deputies.append(self.deputy(level, numbers[level], station))

        by_station: dict[str, list[Record]] = {s["code"]: [] for s in stations}
        for deputy in d.deputies:
            by_station[deputy["station"]].append(deputy)

        # Fixed contacts, like community police officers: most communities
        # have one district deputy of their station.
        for station in stations:
            local = [x for x in by_station[station["code"]] if x["level"] == "district"]
            for community in station["communities"]:
                free = [x for x in local if len(x["contact_communities"]) < 2]
                if free and rng.random() < 0.6:
                    rng.choice(free)["contact_communities"].append(community)

        for code, _ in STREETS:
            self.position("street_director", code, "", self.person()[0], "街道党工委书记")
            self.position(
                "street_full_time_deputy_director",
                code,
                "",
                self.person()[0],
                "人大街道工委专职副主任",
            )
        members = _spread(rng, COMMITTEE_MEMBER_COUNT, len(STREETS), 3, 5)
        for (code, _), count in zip(STREETS, members, strict=True):
            street_deputies = [
                x
                for s in stations
                if s["street"] == code
                for x in by_station[s["code"]]
                if x["level"] == "district"
            ]
            chosen = rng.sample(street_deputies, min(len(street_deputies), rng.randint(1, 2)))
            for i in range(count):
                if i < len(chosen):
                    deputy = chosen[i]
                    self.position(
                        "street_committee_member", code, "", deputy["name"], "区人大代表", deputy
                    )
                else:
                    self.position(
                        "street_committee_member",
                        code,
                        "",
                        self.person()[0],
                        rng.choice(STAFF_TITLES),
                    )
            for _ in range(rng.randint(1, 2)):
                self.position("street_paid_staff", code, "", self.person()[0], "专职工作人员")
        for station in stations:
            local = [x for x in by_station[station["code"]] if x["level"] == "district"]
            head = rng.choice(local or by_station[station["code"]])
            self.position(
                "station_head",
                station["street"],
                station["code"],
                head["name"],
                f"站长（{LEVEL_TITLES[head['level']]}人大代表）",
                head,
            )
            for _ in range(rng.randint(1, 2)):
                self.position(
                    "station_deputy_head",
                    station["street"],
                    station["code"],
                    self.person()[0],
                    rng.choice(DEPUTY_HEAD_TITLES),
                )
        # Street roles first, then station roles, so a loader fills the
        # committee before its stations.
        role_rank = {role: i for i, role in enumerate(_ROLE_ORDER)}
        d.positions.sort(key=lambda p: role_rank[p["role"]])

    def position(
        self,
        role: str,
        street: str,
        station: str,
        holder_name: str,
        holder_title: str,
        deputy: Record | None = None,
    ) -> None:
        self.district.positions.append(
            {
                "role": role,
                "street": street,
                "station": station,
                "deputy": deputy["code"] if deputy else "",
                "holder_name": holder_name,
                "holder_title": holder_title,
                "started_on": self.day(dt.date(2022, 1, 4), 365),
                "ended_on": None,
            }
        )

    def deputy(self, level: str, number: int, station: Record) -> Record:
        rng = self.rng
        name, gender = self.person()
        profession, main_skill, workplaces = rng.choice(PROFESSIONS)
        others = [e for e in EXPERTISE if e != main_skill]
        expertise = [main_skill, *rng.sample(others, rng.randint(0, 2))]
        workplace = rng.choice(workplaces).format(p=rng.choice(self.places))
        term, term_start, term_end = TERMS[level]
        code = f"{level[0].upper()}{number:03d}"
        station_name = station["name"]
        return {
            "code": code,
            "name": name,
            "gender": gender,
            "level": level,
            "term": term,
            "term_start": term_start,
            "term_end": term_end,
            "street": station["street"],
            "station": station["code"],
            "profession": profession,
            "expertise": expertise,
            "contact_communities": [],
            "phone": self.phone(),
            "email": f"{code.lower()}.{rng.randrange(1000, 10000)}@example.com"
            if rng.random() < 0.9
            else "",
            "workplace": workplace,
            "workplace_address": f"广州市天河区{rng.choice(self.roads)}{rng.randint(1, 399)}号",
            "biography": (
                f"{name}，{gender}，{profession}，就职于{workplace}。"
                f"{LEVEL_TITLES[level]}{term}人民代表大会代表，在{station_name}联系选民，"
                f"专长{'、'.join(expertise)}。"
            ),
        }

    def budgets(self) -> None:
        rng = self.rng
        short_street = rng.choice(STREETS)[0]
        for code, name in STREETS:
            operations = 300_000 + rng.randrange(0, 100_001, 10_000)
            if code == short_street:
                # One street below the minimum, so the check has something to show.
                operations = (
                    MINIMUM_BUDGET_YUAN - PERSONNEL_YUAN - rng.choice((20_000, 30_000, 50_000))
                )
            unit = f"{code}-committee"
            self.district.budget_lines += [
                {
                    "unit": unit,
                    "year": self.year,
                    "kind": "personnel",
                    "amount_yuan": PERSONNEL_YUAN,
                    "note": f"{name}街道人大工委专职工作人员经费",
                },
                {
                    "unit": unit,
                    "year": self.year,
                    "kind": "operations",
                    "amount_yuan": operations,
                    "note": f"{name}街道人大工委及联络站业务经费（代表活动、场地、调研）",
                },
            ]


_ROLE_ORDER = (
    "street_director",
    "street_full_time_deputy_director",
    "street_committee_member",
    "street_paid_staff",
    "station_head",
    "station_deputy_head",
)


def build_district(seed: int = 2014, *, year: int | None = None) -> District:
    """The demo district; the same seed (and year) always gives the same one.
    Budget lines are for `year`, by default the current year in Guangzhou."""
    if year is None:
        year = dt.datetime.now(ZoneInfo("Asia/Shanghai")).year
    return _Builder(seed, year).build()


def summary(district: District) -> dict[str, int]:
    """How many records of each kind, deputies per level and committee members."""
    counts = {
        "streets": len(district.streets),
        "areas": len(district.areas),
        "communities": len(district.communities),
        "venues": len(district.venues),
        "stations": len(district.stations),
        "units": len(district.units),
        "deputies": len(district.deputies),
        "positions": len(district.positions),
        "budget_lines": len(district.budget_lines),
    }
    levels = Counter(d["level"] for d in district.deputies)
    for level in ("national", "provincial", "city", "district"):
        counts[f"deputies_{level}"] = levels[level]
    counts["committee_members"] = sum(
        1 for p in district.positions if p["role"] == "street_committee_member"
    )
    return counts
