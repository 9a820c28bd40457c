"""The rota's use cases over the database: drawing and publishing a station's
rotas, reading and setting a session's, deputies' unavailability, swaps
between deputies, and repairing rotas when the registry says a deputy left
a station or a head changed. The rules themselves are `reception.rota`.

Who may do what (checked here, inside each unit of work):
- a session's rota is public: deputies' names and levels are public, as in
  the registry's directory;
- drawing, setting by hand: the calendar writers of the station (admin, the
  standing committee office; station staff and the street committee of its
  street);
- a deputy's unavailability: the deputy themself (their token names them),
  or the calendar writers of the deputy's station; the reason is seen by
  them only;
- swaps: a deputy on the session proposes, as themself; the counterpart
  accepts or declines; the proposer may withdraw (decline); the calendar
  writers of the station may do each on a deputy's behalf (approve).

Only the rotas of sessions from today on change (a deputy may fall ill on
the morning of the day): a past session's rota is what happened. Drawing
again (`regenerate`) touches sessions after today only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import Principal, Role, require, require_streets
from kit.convert import iso, timestamp
from kit.db import Database, UnitOfWork
from kit.errors import FailedPrecondition, NotFound, PermissionDenied, Violations, invalid
from kit.records import MAX_ID
from liaison.reception.v1 import events_pb2 as ev
from liaison.reception.v1 import rota_pb2 as rpb
from reception import domain, models, readmodel, rota
from reception.access import is_station_staff
from reception.lookup import check_reason, load

WRITERS = (
    Role.ADMIN,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.SYSTEM,
    Role.STATION_STAFF,
    Role.STREET_COMMITTEE,
)
COMPLETE, GAPS = "complete", "gaps"
STATUS = {COMPLETE: rpb.ROTA_STATUS_COMPLETE, GAPS: rpb.ROTA_STATUS_GAPS}
PROPOSED, ACCEPTED, DECLINED = "proposed", "accepted", "declined"
SWAP_STATUS = {
    PROPOSED: rpb.SWAP_STATUS_PROPOSED,
    ACCEPTED: rpb.SWAP_STATUS_ACCEPTED,
    DECLINED: rpb.SWAP_STATUS_DECLINED,
}
MAX_ROTA = 30
MAX_AWAY_DAYS = 366


def _positive(v: Violations, field: str, value: int) -> None:
    if not 0 < value <= MAX_ID:
        v.add(field, "must be a positive number")


@dataclass(frozen=True)
class Generated:
    rotas: list[rpb.SessionRota]
    kept: int


class Rotas:
    """The rota's use cases, over the reception service's Database."""

    def __init__(self, db: Database, *, min_deputies: int = rota.DEFAULT_MIN_DEPUTIES) -> None:
        self.db = db
        self.min_deputies = min_deputies

    # ------------------------------------------------------------ reading

    def _rota_pb(self, session: Session, row: models.ReceptionSession) -> rpb.SessionRota:
        state = session.get(models.SessionRotaState, row.id)
        assigned = session.scalars(
            select(models.RotaAssignment)
            .where(models.RotaAssignment.session_id == row.id)
            .order_by(models.RotaAssignment.lead.desc(), models.RotaAssignment.id)
        ).all()
        deputies = []
        for a in assigned:
            deputy = session.get(models.RegistryDeputy, a.deputy_id)
            deputies.append(
                rpb.RotaDeputy(
                    deputy_id=a.deputy_id,
                    name=deputy.name if deputy else "",
                    level=deputy.level if deputy else "",
                    lead=a.lead,
                )
            )
        return rpb.SessionRota(
            session_id=row.id,
            station_id=row.station_id,
            date=iso(row.session_date),
            status=STATUS[state.status] if state else rpb.ROTA_STATUS_NEEDS_ROTA,
            gaps=list(state.gaps) if state else [],
            deputies=deputies,
            min_deputies=self.min_deputies,
            published_at=timestamp(state.published_at) if state else None,
            updated_at=timestamp(state.updated_at) if state else None,
        )

    def get(self, session_id: int) -> rpb.SessionRota:
        """Public: a session's rota."""
        with self.db.read() as session:
            row = load(session, models.ReceptionSession, session_id, "session", "session_id")
            return self._rota_pb(session, row)

    # ------------------------------------------------------------ the station's deputies

    def _heads(self, session: Session, station_id: int) -> set[int]:
        return {
            p.deputy_id for p in readmodel.heads_of(session, station_id) if p.deputy_id is not None
        }

    def _candidates(self, session: Session, station_id: int) -> list[rota.Candidate]:
        heads = self._heads(session, station_id)
        ids = session.scalars(
            select(models.RegistryDeputy.id)
            .where(
                models.RegistryDeputy.station_id == station_id,
                models.RegistryDeputy.active.is_(True),
            )
            .order_by(models.RegistryDeputy.id)
        )
        return [rota.Candidate(d, head=d in heads) for d in ids]

    def _away(self, session: Session, deputy_ids: Iterable[int], first: date) -> list[rota.Away]:
        rows = session.scalars(
            select(models.Unavailability).where(
                models.Unavailability.deputy_id.in_(list(deputy_ids)),
                models.Unavailability.withdrawn_at.is_(None),
                models.Unavailability.last_day >= first,
            )
        )
        return [rota.Away(r.deputy_id, r.first_day, r.last_day) for r in rows]

    def _counts(self, session: Session, station_id: int, skip: Iterable[int] = ()) -> rota.Counts:
        """Sessions each deputy has at the station, per year (those in `skip` left out)."""
        rows = session.execute(
            select(models.ReceptionSession.session_date, models.RotaAssignment.deputy_id)
            .join(models.RotaAssignment)
            .where(
                models.ReceptionSession.station_id == station_id,
                models.ReceptionSession.status == domain.SCHEDULED,
                models.ReceptionSession.id.not_in(list(skip)),
            )
        )
        counts = rota.Counts()
        for day, deputy_id in rows:
            counts.add(day, [deputy_id])
        return counts

    # ------------------------------------------------------------ writing a rota

    def _assigned(self, session: Session, session_id: int) -> list[rota.Pick]:
        rows = session.scalars(
            select(models.RotaAssignment)
            .where(models.RotaAssignment.session_id == session_id)
            .order_by(models.RotaAssignment.lead.desc(), models.RotaAssignment.id)
        )
        return [rota.Pick(a.deputy_id, a.lead) for a in rows]

    def _write(
        self,
        uow: UnitOfWork,
        who: Principal,
        row: models.ReceptionSession,
        picks: Sequence[rota.Pick],
        gaps: Sequence[str],
        cause: str,
    ) -> rpb.SessionRota:
        """Replace a session's rota with `picks`; its event and audit entry."""
        session = uow.session
        state = session.get(models.SessionRotaState, row.id)
        published = state is None
        session.execute(
            delete(models.RotaAssignment).where(models.RotaAssignment.session_id == row.id)
        )
        for pick in picks:
            session.add(
                models.RotaAssignment(session_id=row.id, deputy_id=pick.deputy_id, lead=pick.lead)
            )
        if state is None:
            state = models.SessionRotaState(session_id=row.id)
            session.add(state)
        state.status = GAPS if gaps else COMPLETE
        state.gaps = list(gaps)
        state.updated_at = datetime.now(UTC)
        session.flush()
        view = self._rota_pb(session, row)
        if published:
            uow.emit(ev.RotaPublished(rota=view))
        else:
            uow.emit(ev.RotaChanged(rota=view, cause=cause))
        audit.record(
            session, who, "published" if published else cause, "rota", row.id, ["deputies"]
        )
        return view

    def _future(
        self, session: Session, station_id: int, first: date
    ) -> list[models.ReceptionSession]:
        return list(
            session.scalars(
                select(models.ReceptionSession)
                .where(
                    models.ReceptionSession.station_id == station_id,
                    models.ReceptionSession.status == domain.SCHEDULED,
                    models.ReceptionSession.session_date >= first,
                )
                .order_by(models.ReceptionSession.session_date, models.ReceptionSession.id)
            )
        )

    def publish_in(
        self,
        uow: UnitOfWork,
        who: Principal,
        station_id: int,
        rows: Sequence[models.ReceptionSession],
        cause: str = "regenerated",
    ) -> list[rpb.SessionRota]:
        """Draw and write the rotas of `rows` (sessions of one station), fair
        with the rest of the station's year."""
        if not rows:
            return []
        session = uow.session
        candidates = self._candidates(session, station_id)
        first = min(r.session_date for r in rows)
        away = self._away(session, [c.deputy_id for c in candidates], first)
        counts = self._counts(session, station_id, skip=[r.id for r in rows])
        planned = rota.plan(
            [(r.id, r.session_date) for r in rows],
            candidates,
            away,
            min_deputies=self.min_deputies,
            counts=counts,
        )
        by_id = {r.id: r for r in rows}
        return [self._write(uow, who, by_id[p.session_id], p.picks, p.gaps, cause) for p in planned]

    def generate(
        self,
        station_id: int,
        first: date,
        months: int,
        regenerate: bool,
        actor: Principal | None,
    ) -> Generated:
        """Draw the rotas of a station's sessions of `months` months from
        `first` (a month's first day). Sessions with a rota keep it, unless
        `regenerate` asks for those ahead; past ones always keep theirs."""
        who = require(actor, *WRITERS, doing="draw rotas")
        with self.db.unit_of_work() as uow:
            station = load(uow.session, models.RegistryStation, station_id, "station", "station_id")
            require_streets(who, {station.street_id}, "draw this station's rotas")
            if not station.active:
                raise FailedPrecondition(f"station {station_id} is deactivated")
            end = _month_after(first, months)
            rows = [r for r in self._future(uow.session, station_id, first) if r.session_date < end]
            tomorrow = domain.today() + timedelta(days=1)
            todo, kept = [], 0
            for r in rows:
                has = uow.session.get(models.SessionRotaState, r.id) is not None
                if not has or (regenerate and r.session_date >= tomorrow):
                    todo.append(r)
                else:
                    kept += 1
            return Generated(self.publish_in(uow, who, station_id, todo), kept)

    def publish_missing(self, who: Principal) -> list[rpb.SessionRota]:
        """The worker's timer: a rota for every scheduled session from today
        on that has none (sessions scheduled before rotas existed, or whose
        draw was left out), station by station."""
        with self.db.unit_of_work() as uow:
            rows = uow.session.scalars(
                select(models.ReceptionSession)
                .outerjoin(models.SessionRotaState)
                .join(
                    models.RegistryStation,
                    models.RegistryStation.id == models.ReceptionSession.station_id,
                )
                .where(
                    models.SessionRotaState.session_id.is_(None),
                    models.ReceptionSession.status == domain.SCHEDULED,
                    models.ReceptionSession.session_date >= domain.today(),
                    models.RegistryStation.active.is_(True),
                )
                .order_by(models.ReceptionSession.station_id, models.ReceptionSession.session_date)
            ).all()
            by_station: dict[int, list[models.ReceptionSession]] = {}
            for row in rows:
                by_station.setdefault(row.station_id, []).append(row)
            published = []
            for station_id, sessions in by_station.items():
                published += self.publish_in(uow, who, station_id, sessions)
            return published

    def set(
        self, session_id: int, picks: Sequence[rpb.RotaPick], actor: Principal | None
    ) -> rpb.SessionRota:
        """A session's rota set whole, by hand."""
        who = require(actor, *WRITERS, doing="set rotas")
        v = Violations()
        if not picks:
            v.add("deputies", "is required: the session's deputies, a head among them")
        if len(picks) > MAX_ROTA:
            v.add("deputies", f"holds more than {MAX_ROTA} deputies")
        for i, pick in enumerate(picks):
            _positive(v, f"deputies[{i}].deputy_id", pick.deputy_id)
        if sum(p.lead for p in picks) > 1:
            v.add("deputies", "marks more than one lead")
        seen: set[int] = set()
        for i, pick in enumerate(picks):
            if pick.deputy_id in seen:
                v.add(f"deputies[{i}].deputy_id", f"deputy {pick.deputy_id} is named twice")
            seen.add(pick.deputy_id)
        v.raise_if_any("the rota is not valid")
        with self.db.unit_of_work() as uow:
            row = self._changeable(uow.session, who, session_id, "set this session's rota")
            heads = self._heads(uow.session, row.station_id)
            away = self._away(uow.session, seen, row.session_date)
            for i, pick in enumerate(picks):
                field = f"deputies[{i}].deputy_id"
                problem = self._not_eligible(uow.session, pick.deputy_id, row, away)
                if problem:
                    v.add(field, problem)
                elif pick.lead and pick.deputy_id not in heads:
                    v.add(
                        f"deputies[{i}].lead", f"deputy {pick.deputy_id} is no head of the station"
                    )
            if not v and not heads.intersection(seen):
                v.add(
                    "deputies",
                    "names no station head or deputy head: every session needs one to lead it",
                )
            v.raise_if_any("the rota is not valid")
            lead = next((p.deputy_id for p in picks if p.lead), None)
            if lead is None:
                lead = next(p.deputy_id for p in picks if p.deputy_id in heads)
            chosen = [rota.Pick(lead, True)] + [
                rota.Pick(p.deputy_id) for p in picks if p.deputy_id != lead
            ]
            gaps = rota.gaps_of(chosen, heads, self.min_deputies)
            return self._write(uow, who, row, chosen, gaps, "set_by_hand")

    def _not_eligible(
        self,
        session: Session,
        deputy_id: int,
        row: models.ReceptionSession,
        away: Sequence[rota.Away],
    ) -> str:
        """Why a deputy may not be on a session's rota ("" when they may)."""
        deputy = session.get(models.RegistryDeputy, deputy_id)
        if deputy is None:
            return f"no deputy has id {deputy_id}"
        if not deputy.active:
            return f"deputy {deputy_id} is no longer in office"
        if deputy.station_id != row.station_id:
            return (
                f"deputy {deputy_id} is a deputy of station {deputy.station_id or 'none'}, "
                f"not of station {row.station_id}"
            )
        if any(a.deputy_id == deputy_id and a.covers(row.session_date) for a in away):
            return f"deputy {deputy_id} declared themself unavailable on {row.session_date}"
        return ""

    def _changeable(
        self,
        session: Session,
        who: Principal,
        session_id: int,
        doing: str,
        field: str = "session_id",
    ) -> models.ReceptionSession:
        """A session whose rota `who` may change: today or ahead, not cancelled."""
        row = load(session, models.ReceptionSession, session_id, "session", field)
        station = session.get(models.RegistryStation, row.station_id)
        if who.role is not Role.DEPUTY:
            require_streets(who, {station.street_id if station else None}, doing)
        if row.status == domain.CANCELLED:
            raise FailedPrecondition(f"session {session_id} is cancelled")
        if row.session_date < domain.today():
            raise FailedPrecondition(f"session {session_id} is past: its rota is kept")
        return row

    # ------------------------------------------------------------ repairs

    def repair(
        self,
        uow: UnitOfWork,
        who: Principal,
        station_id: int,
        cause: str,
        first: date | None = None,
    ) -> list[rpb.SessionRota]:
        """Bring the published rotas of a station's sessions ahead in line
        with who may receive now: deputies who left the station (deactivated,
        moved) or are away are taken off; a head leads; the gaps are filled
        fairly from the station's available deputies, or flagged."""
        session = uow.session
        start = max(first or date.min, domain.today())
        rows = [
            r
            for r in self._future(session, station_id, start)
            if session.get(models.SessionRotaState, r.id) is not None
        ]
        if not rows:
            return []
        candidates = self._candidates(session, station_id)
        heads = {c.deputy_id for c in candidates if c.head}
        away = self._away(session, [c.deputy_id for c in candidates], start)
        counts = self._counts(session, station_id)
        changed = []
        for r in rows:
            now = self._assigned(session, r.id)
            present = rota.available(candidates, away, r.session_date)
            staying = [p for p in now if p.deputy_id in {c.deputy_id for c in present}]
            state = session.get(models.SessionRotaState, r.id)
            fine = (
                len(staying) == len(now)
                and any(p.lead and p.deputy_id in heads for p in now)
                and len(now) >= self.min_deputies
            )
            if fine and not (state and state.gaps):
                continue
            counts.remove(r.session_date, [p.deputy_id for p in now])
            picks, gaps = rota.choose(
                present, counts.of(r.session_date.year), r.session_date, self.min_deputies, staying
            )
            counts.add(r.session_date, [p.deputy_id for p in picks])
            if list(picks) == now and state and list(state.gaps) == list(gaps):
                continue
            changed.append(self._write(uow, who, r, picks, gaps, cause))
        return changed

    def after_registry_event(
        self, uow: UnitOfWork, who: Principal, stations: Iterable[int], cause: str
    ) -> list[rpb.SessionRota]:
        """The worker, after applying a registry event to the read model:
        repair the rotas of the stations it touched."""
        changed = []
        for station_id in sorted(set(stations)):
            changed += self.repair(uow, who, station_id, cause)
        return changed

    # ------------------------------------------------------------ unavailability

    def _deputy_scope(
        self, session: Session, who: Principal, deputy_id: int, doing: str
    ) -> models.RegistryDeputy:
        """A deputy whose unavailability or swaps `who` may handle: their own,
        or, for the calendar writers, a deputy of a station of their street."""
        deputy = load(session, models.RegistryDeputy, deputy_id, "deputy", "deputy_id")
        if who.role is Role.DEPUTY:
            if who.deputy_id != deputy_id:
                raise PermissionDenied(f"a deputy may {doing} only for themself")
            return deputy
        require(who, *WRITERS, doing=doing)
        station = session.get(models.RegistryStation, deputy.station_id or 0)
        require_streets(who, {station.street_id if station else deputy.street_id}, doing)
        return deputy

    def _away_pb(self, row: models.Unavailability) -> rpb.Unavailability:
        return rpb.Unavailability(
            id=row.id,
            deputy_id=row.deputy_id,
            first_day=iso(row.first_day),
            last_day=iso(row.last_day),
            reason=row.reason,
            created_at=timestamp(row.created_at),
            withdrawn_at=timestamp(row.withdrawn_at),
        )

    def declare(
        self, deputy_id: int, first_text: str, last_text: str, reason: str, actor: Principal | None
    ) -> rpb.Unavailability:
        who = require(actor, *WRITERS, Role.DEPUTY, doing="declare unavailability")
        v = Violations()
        first = v.iso_date("first_day", first_text, required=True)
        last = v.iso_date("last_day", last_text, required=True)
        if first and first < domain.today():
            v.add("first_day", "is in the past")
        if first and last and last < first:
            v.add("last_day", "is before first_day")
        elif first and last and (last - first).days > MAX_AWAY_DAYS:
            v.add("last_day", f"is more than {MAX_AWAY_DAYS} days after first_day")
        why = check_reason(v, "reason", reason)
        v.raise_if_any("the unavailability is not valid")
        assert first is not None and last is not None
        with self.db.unit_of_work() as uow:
            deputy = self._deputy_scope(uow.session, who, deputy_id, "declare unavailability")
            if not deputy.active:
                raise FailedPrecondition(f"deputy {deputy_id} is no longer in office")
            row = models.Unavailability(
                deputy_id=deputy_id, first_day=first, last_day=last, reason=why
            )
            uow.session.add(row)
            uow.session.flush()
            uow.emit(
                ev.DeputyUnavailable(
                    unavailability_id=row.id,
                    deputy_id=deputy_id,
                    first_day=iso(first),
                    last_day=iso(last),
                )
            )
            audit.record(
                uow.session,
                who,
                "declared",
                "unavailability",
                row.id,
                ["first_day", "last_day", "reason"],
            )
            if deputy.station_id:
                self.repair(uow, who, deputy.station_id, "unavailable", first)
            return self._away_pb(row)

    def list_away(
        self, deputy_id: int, include_withdrawn: bool, actor: Principal | None
    ) -> list[rpb.Unavailability]:
        who = require(actor, *WRITERS, Role.DEPUTY, doing="read unavailability")
        with self.db.read() as session:
            self._deputy_scope(session, who, deputy_id, "read unavailability")
            query = select(models.Unavailability).where(
                models.Unavailability.deputy_id == deputy_id
            )
            if not include_withdrawn:
                query = query.where(models.Unavailability.withdrawn_at.is_(None))
            rows = session.scalars(
                query.order_by(models.Unavailability.first_day, models.Unavailability.id)
            )
            return [self._away_pb(r) for r in rows]

    def withdraw(self, deputy_id: int, away_id: int, actor: Principal | None) -> rpb.Unavailability:
        who = require(actor, *WRITERS, Role.DEPUTY, doing="withdraw unavailability")
        with self.db.unit_of_work() as uow:
            self._deputy_scope(uow.session, who, deputy_id, "withdraw unavailability")
            row = load(uow.session, models.Unavailability, away_id, "unavailability", "id")
            if row.deputy_id != deputy_id:
                raise NotFound(f"deputy {deputy_id} has no unavailability {away_id}")
            if row.withdrawn_at is not None:
                raise FailedPrecondition(f"unavailability {away_id} was withdrawn already")
            row.withdrawn_at = datetime.now(UTC)
            uow.session.flush()
            uow.emit(
                ev.UnavailabilityWithdrawn(
                    unavailability_id=row.id,
                    deputy_id=deputy_id,
                    first_day=iso(row.first_day),
                    last_day=iso(row.last_day),
                )
            )
            audit.record(uow.session, who, "withdrawn", "unavailability", row.id, ["withdrawn_at"])
            return self._away_pb(row)

    # ------------------------------------------------------------ swaps

    def _swap_pb(self, row: models.RotaSwap) -> rpb.RotaSwap:
        return rpb.RotaSwap(
            id=row.id,
            station_id=row.station_id,
            proposer_id=row.proposer_id,
            session_id=row.session_id,
            counterpart_id=row.counterpart_id,
            counterpart_session_id=row.counterpart_session_id or 0,
            status=SWAP_STATUS[row.status],
            decided_by_role=row.decided_by_role,
            created_at=timestamp(row.created_at),
            decided_at=timestamp(row.decided_at),
        )

    def _check_swap(
        self,
        session: Session,
        who: Principal,
        proposer_id: int,
        session_id: int,
        counterpart_id: int,
        counterpart_session_id: int,
    ) -> tuple[models.ReceptionSession, models.ReceptionSession | None]:
        """The two sessions of a swap, when it can be made now."""
        given = self._changeable(session, who, session_id, "swap this session")
        v = Violations()
        away = self._away(session, [proposer_id, counterpart_id], given.session_date)
        mine = {p.deputy_id for p in self._assigned(session, given.id)}
        if proposer_id not in mine:
            v.add("session_id", f"deputy {proposer_id} is not on the rota of session {session_id}")
        if counterpart_id == proposer_id:
            v.add("counterpart_id", "is the proposer")
        else:
            problem = self._not_eligible(session, counterpart_id, given, away)
            if problem:
                v.add("counterpart_id", problem)
            elif counterpart_id in mine:
                v.add(
                    "counterpart_id", f"deputy {counterpart_id} is on session {session_id} already"
                )
        taken = None
        if counterpart_session_id:
            taken = self._changeable(
                session, who, counterpart_session_id, "swap this session", "counterpart_session_id"
            )
            theirs = {p.deputy_id for p in self._assigned(session, taken.id)}
            away = self._away(session, [proposer_id], taken.session_date)
            if taken.id == given.id:
                v.add("counterpart_session_id", "is the session given")
            elif taken.station_id != given.station_id:
                v.add(
                    "counterpart_session_id",
                    f"session {taken.id} is of station {taken.station_id}, "
                    f"not of station {given.station_id}",
                )
            elif counterpart_id not in theirs:
                v.add(
                    "counterpart_session_id",
                    f"deputy {counterpart_id} is not on the rota of session {taken.id}",
                )
            elif proposer_id in theirs:
                v.add("counterpart_session_id", f"deputy {proposer_id} is on it already")
            elif any(a.covers(taken.session_date) for a in away):
                v.add(
                    "counterpart_session_id",
                    f"deputy {proposer_id} declared themself unavailable on {taken.session_date}",
                )
        v.raise_if_any("the swap cannot be made")
        return given, taken

    def propose(
        self,
        proposer_id: int,
        session_id: int,
        counterpart_id: int,
        counterpart_session_id: int,
        actor: Principal | None,
    ) -> rpb.RotaSwap:
        who = require(actor, *WRITERS, Role.DEPUTY, doing="propose swaps")
        v = Violations()
        _positive(v, "proposer_id", proposer_id)
        _positive(v, "session_id", session_id)
        _positive(v, "counterpart_id", counterpart_id)
        if counterpart_session_id:
            _positive(v, "counterpart_session_id", counterpart_session_id)
        v.raise_if_any("the swap is not valid")
        with self.db.unit_of_work() as uow:
            self._deputy_scope(uow.session, who, proposer_id, "propose swaps")
            given, _ = self._check_swap(
                uow.session, who, proposer_id, session_id, counterpart_id, counterpart_session_id
            )
            row = models.RotaSwap(
                station_id=given.station_id,
                proposer_id=proposer_id,
                session_id=session_id,
                counterpart_id=counterpart_id,
                counterpart_session_id=counterpart_session_id or None,
                status=PROPOSED,
            )
            uow.session.add(row)
            uow.session.flush()
            view = self._swap_pb(row)
            uow.emit(ev.SwapProposed(swap=view))
            audit.record(uow.session, who, "proposed", "rota_swap", row.id)
            return view

    def _decider(
        self, session: Session, who: Principal, swap_id: int, deciders: Sequence[str]
    ) -> models.RotaSwap:
        row = load(session, models.RotaSwap, swap_id, "swap", "id")
        if who.role is Role.DEPUTY:
            allowed = {getattr(row, name) for name in deciders}
            if who.deputy_id not in allowed:
                raise PermissionDenied(f"deputy {who.deputy_id} may not decide swap {swap_id}")
        else:
            require(who, *WRITERS, doing="decide swaps")
            station = session.get(models.RegistryStation, row.station_id)
            require_streets(who, {station.street_id if station else None}, "decide this swap")
        if row.status != PROPOSED:
            raise FailedPrecondition(f"swap {swap_id} was {row.status} already")
        return row

    def accept(self, swap_id: int, actor: Principal | None) -> rpb.RotaSwap:
        """The counterpart accepts (or staff approve): both rotas change in
        this one transaction, or, when the swap can no longer be made,
        nothing does."""
        who = require(actor, *WRITERS, Role.DEPUTY, doing="accept swaps")
        with self.db.unit_of_work() as uow:
            row = self._decider(uow.session, who, swap_id, ["counterpart_id"])
            given, taken = self._check_swap(
                uow.session,
                who,
                row.proposer_id,
                row.session_id,
                row.counterpart_id,
                row.counterpart_session_id or 0,
            )
            self._hand_over(uow, who, given, row.proposer_id, row.counterpart_id)
            if taken is not None:
                self._hand_over(uow, who, taken, row.counterpart_id, row.proposer_id)
            return self._decide(uow, who, row, ACCEPTED)

    def _hand_over(
        self,
        uow: UnitOfWork,
        who: Principal,
        row: models.ReceptionSession,
        leaving: int,
        coming: int,
    ) -> None:
        heads = self._heads(uow.session, row.station_id)
        now = self._assigned(uow.session, row.id)
        ids = [coming if p.deputy_id == leaving else p.deputy_id for p in now]
        lead = next((p.deputy_id for p in now if p.lead and p.deputy_id != leaving), None)
        if lead is None:
            lead = next((d for d in ids if d in heads), None)
        if lead is None:
            raise FailedPrecondition(
                f"the swap would leave session {row.id} without a station head or deputy head"
            )
        picks = [rota.Pick(lead, True)] + [rota.Pick(d) for d in ids if d != lead]
        self._write(uow, who, row, picks, rota.gaps_of(picks, heads, self.min_deputies), "swap")

    def _decide(
        self, uow: UnitOfWork, who: Principal, row: models.RotaSwap, status: str
    ) -> rpb.RotaSwap:
        row.status = status
        row.decided_by_role = who.role.value
        row.decided_at = datetime.now(UTC)
        uow.session.flush()
        view = self._swap_pb(row)
        uow.emit(ev.SwapDecided(swap=view))
        audit.record(uow.session, who, status, "rota_swap", row.id, ["status"])
        return view

    def decline(self, swap_id: int, actor: Principal | None) -> rpb.RotaSwap:
        """The counterpart declines, the proposer withdraws, or staff refuse."""
        who = require(actor, *WRITERS, Role.DEPUTY, doing="decline swaps")
        with self.db.unit_of_work() as uow:
            row = self._decider(uow.session, who, swap_id, ["counterpart_id", "proposer_id"])
            return self._decide(uow, who, row, DECLINED)

    def swaps(self, deputy_id: int, station_id: int, actor: Principal | None) -> list[rpb.RotaSwap]:
        who = require(actor, *WRITERS, Role.DEPUTY, doing="read swaps")
        if bool(deputy_id) == bool(station_id):
            raise invalid("deputy_id", "name a deputy or a station (one of them)")
        with self.db.read() as session:
            query = select(models.RotaSwap)
            if deputy_id:
                self._deputy_scope(session, who, deputy_id, "read swaps")
                query = query.where(
                    or_(
                        models.RotaSwap.proposer_id == deputy_id,
                        models.RotaSwap.counterpart_id == deputy_id,
                    )
                )
            else:
                station = load(session, models.RegistryStation, station_id, "station", "station_id")
                if not is_station_staff(who, station) or who.role not in WRITERS:
                    raise PermissionDenied(
                        f"role {who.role.value} may not read this station's swaps"
                    )
                query = query.where(models.RotaSwap.station_id == station_id)
            rows = session.scalars(query.order_by(models.RotaSwap.id.desc()).limit(500))
            return [self._swap_pb(r) for r in rows]

    # ------------------------------------------------------------ the deputy's calendar

    def sessions_of(
        self, session: Session, deputy_id: int, first: date
    ) -> list[models.ReceptionSession]:
        """The sessions from `first` whose rota names the deputy."""
        return list(
            session.scalars(
                select(models.ReceptionSession)
                .join(models.RotaAssignment)
                .where(
                    models.RotaAssignment.deputy_id == deputy_id,
                    models.ReceptionSession.session_date >= first,
                )
                .order_by(models.ReceptionSession.session_date, models.ReceptionSession.id)
            )
        )


def _month_after(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
