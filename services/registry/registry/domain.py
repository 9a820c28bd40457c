"""The registry's rules: plain Python, no I/O, tested without a database."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kit.errors import Violations

DISTRICT_TZ = ZoneInfo("Asia/Shanghai")

# Deputies of every level, most senior first (the order a station lists them).
LEVELS = ("national", "provincial", "city", "district")

UNIT_KINDS = (
    "standing_committee",
    "working_body",
    "standing_committee_office",
    "street_committee",
    "street_office",
    "government_office",
    "department",
)
STREET_UNIT_KINDS = frozenset({"street_committee", "street_office"})

STREET_ROLES = frozenset(
    {
        "street_director",
        "street_full_time_deputy_director",
        "street_committee_member",
        "street_paid_staff",
    }
)
STATION_ROLES = frozenset({"station_head", "station_deputy_head"})
ROLES = tuple(sorted(STREET_ROLES | STATION_ROLES))
# Roles that one person holds at a time in a unit or station.
SINGLE_HOLDER_ROLES = frozenset(
    {"street_director", "street_full_time_deputy_director", "station_head"}
)
# A station has one or two deputy heads (副站长).
MAX_STATION_DEPUTY_HEADS = 2
MAX_STATIONS_PER_AREA = 3

BUDGET_KINDS = ("personnel", "operations")
GENDERS = ("男", "女")

# A mainland mobile (optionally +86) or a landline with its area code.
MOBILE_RE = re.compile(r"(?:\+?86)?1[3-9]\d{9}")
LANDLINE_RE = re.compile(r"0\d{2,3}-?\d{7,8}(?:-\d{1,6})?")
EMAIL_RE = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}")


def is_phone(text: str) -> bool:
    text = re.sub(r"\s+", "", text)
    return bool(MOBILE_RE.fullmatch(text) or LANDLINE_RE.fullmatch(text))


def is_email(text: str) -> bool:
    return bool(EMAIL_RE.fullmatch(text))


def today() -> date:
    """Today in the district (calendar rules are computed in Asia/Shanghai)."""
    return datetime.now(DISTRICT_TZ).date()


def check_term(v: Violations, start: date | None, end: date | None) -> None:
    if start and end and end < start:
        v.add("term_end", f"{end.isoformat()} is before term_start {start.isoformat()}")


def check_contact(v: Violations, phone: str, email: str) -> None:
    if phone and not is_phone(phone):
        v.add("contact.phone", "is not a mainland mobile or landline number")
    if email and not is_email(email):
        v.add("contact.email", "is not an email address")


def normalise_tags(tags: Iterable[str]) -> list[str]:
    """Trimmed, de-duplicated, in the order given."""
    seen: dict[str, None] = {}
    for tag in tags:
        tag = tag.strip()
        if tag:
            seen.setdefault(tag, None)
    return list(seen)


def level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


@dataclass(frozen=True)
class BudgetCheck:
    personnel: int
    operations: int
    minimum: int

    @property
    def total(self) -> int:
        return self.personnel + self.operations

    @property
    def meets_minimum(self) -> bool:
        return self.total >= self.minimum

    @property
    def shortfall(self) -> int:
        return max(0, self.minimum - self.total)


@dataclass(frozen=True)
class CommunityTerms:
    """What names a community in an address: its name and its keywords."""

    community_id: int
    name: str
    keywords: tuple[str, ...]


def _name_variants(name: str) -> list[str]:
    # "林和东社区" is often written "林和东" in an address.
    variants = [name]
    for suffix in ("社区居委会", "居委会", "社区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            variants.append(name[: -len(suffix)])
    return variants


def match_community(address: str, communities: Iterable[CommunityTerms]) -> list[int]:
    """Communities an address names, best first.

    The longest term found wins (a community's full name beats a road that
    two communities share); equally long matches are all returned, and the
    caller says the address is ambiguous.
    """
    return TermIndex(communities).match(address)


class TermIndex:
    """The terms of many communities, for `match_community`'s rule at a cost
    that does not grow with their number: each stretch of the address, of
    a length some term has, is looked up in a dictionary of terms."""

    def __init__(self, communities: Iterable[CommunityTerms]) -> None:
        self.terms: dict[str, set[int]] = {}
        for community in communities:
            for term in (*_name_variants(community.name), *community.keywords):
                if term:
                    self.terms.setdefault(term, set()).add(community.community_id)
        self.lengths = sorted({len(t) for t in self.terms}, reverse=True)

    def match(self, address: str) -> list[int]:
        address = re.sub(r"\s+", "", address)
        terms = self.terms
        for length in self.lengths:  # the longest found wins
            found: set[int] = set()
            for start in range(len(address) - length + 1):
                found |= terms.get(address[start : start + length], set())
            if found:
                return sorted(found)
        return []
