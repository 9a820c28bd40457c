"""The five-ones scorecard's use cases: one deputy's year, and who of a
street or the district is short of which. Reads only: the evidence comes
from an `EvidenceSource` (the duty record's entries), whether the report is
due from the stored report plan, the deputies and their streets from the
registry; `duties.scorecard` decides.

Who may: a scorecard, anyone (it is part of the public duty record), with
a ballot's flag (below the share) shown only to the district's offices, the
deputy's street staff and the deputy; shortfalls, the district's offices
for any street or the district, street staff for their street.

The source wired is the duty record's entries
(`duties.scorecard_evidence`); a Scorecards without one (None) answers
FAILED_PRECONDITION saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Protocol

from duties.registry import Deputies
from duties.report_plan_service import ReportPlans
from duties.scorecard import (
    DeputyEvidence,
    Evidence,
    Scorecard,
    Shortfalls,
    days_left_in,
    score,
    shanghai_today,
    shortfalls,
)
from kit.auth import STREET_SCOPED_ROLES, Principal, Role, require
from kit.convert import EnumNames
from kit.errors import FailedPrecondition, PermissionDenied, invalid
from liaison.duties.v1 import scorecard_pb2 as pb

ITEM = EnumNames(pb.FiveOnesItem, "FIVE_ONES_ITEM")
STATUS = EnumNames(pb.ItemStatus, "ITEM_STATUS")
DISTRICT_OFFICES = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.WORKING_BODY)
SHORTFALL_READERS = (*DISTRICT_OFFICES, *STREET_SCOPED_ROLES)
MAX_ID = 2**63 - 1
NOT_WIRED = (
    "the five-ones scorecard reads the duty record's entries, which this service does not keep yet"
)


class EvidenceSource(Protocol):
    def evidence(self, deputy_ids: Collection[int], year: int) -> Mapping[int, Sequence[Evidence]]:
        """Each deputy's evidence dated in `year` (Asia/Shanghai), by deputy id."""
        ...


class Scorecards:
    """The scorecard's reads over the registry, the report plan and an
    evidence source (None: not wired yet)."""

    def __init__(
        self,
        deputies: Deputies,
        plans: ReportPlans,
        source: EvidenceSource | None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.deputies = deputies
        self.plans = plans
        self.source = source
        self.clock = clock or (lambda: datetime.now(UTC))

    def _year(self, year: int, today: date) -> int:
        if year == 0:
            return today.year
        if not 2000 <= year <= 2200:
            raise invalid("year", "must be a year between 2000 and 2200 (0: this year)")
        return year

    def _source(self) -> EvidenceSource:
        if self.source is None:
            raise FailedPrecondition(NOT_WIRED)
        return self.source

    def get(self, request: pb.GetScorecardRequest, actor: Principal | None) -> Any:
        if not 0 < request.deputy_id <= MAX_ID:
            raise invalid("deputy_id", "is required: a positive id")
        today = shanghai_today(self.clock())
        year = self._year(request.year, today)
        source = self._source()
        deputy = self.deputies.deputy(request.deputy_id)
        due = deputy.id in self.plans.reporting_in(year)
        found = source.evidence([deputy.id], year).get(deputy.id, ())
        card = score(DeputyEvidence(deputy.id, year, due, tuple(found), deputy.street_id), today)
        return _scorecard_pb(card, show_flag=_sees_flag(actor, deputy.id, deputy.street_id))

    def shortfalls(self, request: pb.ListShortfallsRequest, actor: Principal | None) -> Any:
        who = require(actor, *SHORTFALL_READERS, doing="list the five ones' shortfalls")
        if not 0 <= request.street_id <= MAX_ID:
            raise invalid("street_id", "must be a positive id")
        street_id = request.street_id
        if who.role in STREET_SCOPED_ROLES:
            if street_id not in (0, who.street_id):
                raise PermissionDenied(
                    f"a {who.role.value} of street {who.street_id} may not list street "
                    f"{street_id}'s shortfalls"
                )
            street_id = who.street_id or 0
        today = shanghai_today(self.clock())
        year = self._year(request.year, today)
        source = self._source()
        serving = self.deputies.of_street(street_id) if street_id else self.deputies.all_active()
        due = self.plans.reporting_in(year)
        found = source.evidence([d.id for d in serving], year)
        cards = [
            score(
                DeputyEvidence(d.id, year, d.id in due, tuple(found.get(d.id, ())), d.street_id),
                today,
            )
            for d in serving
        ]
        return _shortfalls_pb(shortfalls(cards, year, today), today)


def _sees_flag(who: Principal | None, deputy_id: int, street_id: int) -> bool:
    if who is None:
        return False
    if who.role in DISTRICT_OFFICES:
        return True
    if who.role in STREET_SCOPED_ROLES:
        return who.street_id == street_id
    return who.role is Role.DEPUTY and who.deputy_id == deputy_id


def _evidence_pb(e: Evidence, show_flag: bool) -> pb.Evidence:
    return pb.Evidence(
        kind=e.kind.value, day=e.on.isoformat(), ref=e.ref, flagged=e.flagged and show_flag
    )


def _scorecard_pb(card: Scorecard, *, show_flag: bool) -> pb.Scorecard:
    return pb.Scorecard(
        deputy_id=card.deputy_id,
        street_id=card.street_id or 0,
        year=card.year,
        items=[
            pb.ScorecardItem(
                item=ITEM.number(r.item.value),  # type: ignore[arg-type]
                status=STATUS.number(r.status.value),  # type: ignore[arg-type]
                evidence=[_evidence_pb(e, show_flag) for e in r.evidence],
                flagged=r.flagged and show_flag,
            )
            for r in card.items
        ],
        short=[ITEM.number(i.value) for i in card.short],  # type: ignore[misc]
        days_left=card.days_left,
        open=card.open,
    )


def _items_pb(found: Shortfalls) -> list[pb.ItemShortfall]:
    return [
        pb.ItemShortfall(
            item=ITEM.number(s.item.value),  # type: ignore[arg-type]
            count=s.count,
            deputy_ids=s.deputy_ids,
        )
        for s in found.items
    ]


def _shortfalls_pb(found: Shortfalls, today: date) -> pb.Shortfalls:
    return pb.Shortfalls(
        year=found.year,
        days_left=days_left_in(found.year, today),
        open=today.year <= found.year,
        deputies=found.deputies,
        complete=found.complete,
        items=_items_pb(found),
        flagged_ids=found.flagged,
        streets=[
            pb.StreetShortfalls(
                street_id=street,
                deputies=part.deputies,
                complete=part.complete,
                items=_items_pb(part),
                flagged_ids=part.flagged,
            )
            for street, part in found.by_street.items()
        ],
    )
