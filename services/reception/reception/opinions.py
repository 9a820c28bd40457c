"""Opinions (社情民意): recorded at a reception, sent online, or sought out as
orders (订单); triaged by the street's staff, taken by deputies whose
expertise fits (包干到户), and followed by anyone with the tracking code.

Who may do what is the service's decision, made here in each unit of work
for the opinion and every record the request names (the session, the
community, the deputy, the opinion merged into):
- recording: online anyone, without a token too; at a reception the staff
  of the session's street, the district and the deputies on the session's
  rota; orders the street committee of the street and the district;
- the triage queue and every transition: the station staff and street
  committee of the opinion's street, the district's offices anywhere; a
  deputy may take an opinion of their street, answer one raised at a
  session they receive at, and finish an order they took;
- who raised an opinion (name, phone, contact) is returned only to the
  street's staff, the district, the deputies on the session's rota, the
  deputy who took it and the signed-in constituent who raised it; never in
  lists, tracking answers, events or logs.

Every transition appends a public timeline entry, emits its event (the
facts the referral service needs to open a letter, never who raised it)
and an audit entry, in the same commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kit import audit
from kit.auth import Principal, Role, require
from kit.convert import EnumNames, timestamp
from kit.db import Database, UnitOfWork
from kit.errors import FailedPrecondition, NotFound, PermissionDenied, Violations, invalid
from kit.records import MAX_ID
from liaison.reception.v1 import events_pb2 as ev
from liaison.reception.v1 import opinions_pb2 as opb
from reception import access, domain, models
from reception import opinion_rules as rules
from reception.lookup import load
from reception.readmodel import station_of_community

SOURCE = EnumNames(opb.OpinionSource, "OPINION_SOURCE")
CATEGORY = EnumNames(opb.OpinionCategory, "OPINION_CATEGORY")
STATUS = EnumNames(opb.OpinionStatus, "OPINION_STATUS")

MAX_CONTENT = 2000
MAX_REASON = 500
MAX_PAGE = 200
DEFAULT_PAGE = 50
# The most opinions a public list answers (Open311's GET requests: 1000).
MAX_PUBLIC = 1000
LIMITS = {"raiser_name": 100, "raiser_phone": 40, "raiser_contact": 300}
ANONYMOUS = Principal(sub="anonymous", role=Role.CONSTITUENT, name="anonymous", kind="anonymous")
STREET_STAFF = (Role.STATION_STAFF, Role.STREET_COMMITTEE)
TRIAGE = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.SYSTEM, *STREET_STAFF)
READERS = (*TRIAGE, Role.WORKING_BODY, Role.DEPUTY)

Clock = Callable[[], datetime]


def check_text(
    v: Violations, field: str, text: str, limit: int, *, required: bool, lines: bool = True
) -> str:
    """`text` stripped, or a violation of `field` (required, too long, a
    control character)."""
    value = text.strip()
    if required and not value:
        v.add(field, "is required")
    elif len(value) > limit:
        v.add(field, f"is longer than {limit} characters")
    elif any(ord(c) < 32 and not (lines and c in "\n\t") for c in value):
        v.add(field, "holds a control character")
    return value


def shanghai_day(at: datetime) -> date:
    return at.astimezone(domain.SHANGHAI).date()


def next_code(session: Session, year: int) -> str:
    """The year's next tracking code. The counter's row stays locked until
    the unit of work commits, so codes follow each other without a gap."""
    table = models.OpinionCodeCounter.__table__
    insert = (postgresql if session.bind.dialect.name == "postgresql" else sqlite).insert  # type: ignore[union-attr]
    statement = (
        insert(table)
        .values(year=year, last=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    return rules.tracking_code(year, int(session.execute(statement).scalar_one()))


class Opinions:
    """The opinions' use cases, over one Database. `clock` gives the time of
    a change (the demo loader replays a year with its own)."""

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- who may do what

    @staticmethod
    def _station(session: Session, station_id: int) -> models.RegistryStation:
        station = session.get(models.RegistryStation, station_id)
        if station is None:
            raise NotFound(f"no station has id {station_id}")
        return station

    @staticmethod
    def may_see_raiser(
        session: Session,
        who: Principal | None,
        row: models.Opinion,
        station: models.RegistryStation,
    ) -> bool:
        if who is None:
            return False
        if row.raiser_sub and who.sub == row.raiser_sub and who.role is Role.CONSTITUENT:
            return True
        if access.is_station_staff(who, station):
            return True
        if who.role is Role.DEPUTY and who.deputy_id is not None:
            if who.deputy_id == row.taken_by_deputy_id:
                return True
            if row.session_id and who.deputy_id in access.session_deputies(session, row.session_id):
                return True
        return False

    @staticmethod
    def _triage(who: Principal, station: models.RegistryStation, doing: str) -> None:
        if not access.is_station_staff(who, station):
            raise PermissionDenied(
                f"a {who.role.value} may not {doing} (street {station.street_id} is not theirs)"
            )

    @staticmethod
    def _deputy(
        session: Session, deputy_id: int, street_id: int, field: str
    ) -> models.RegistryDeputy:
        deputy = load(session, models.RegistryDeputy, deputy_id, "deputy", field)
        if not deputy.active:
            raise FailedPrecondition(f"deputy {deputy_id} is no longer in office")
        if deputy.street_id != street_id:
            raise FailedPrecondition(
                f"deputy {deputy_id} is of street {deputy.street_id}, not of street {street_id}"
            )
        return deputy  # type: ignore[no-any-return]

    # -- views

    def view(
        self, session: Session, row: models.Opinion, who: Principal | None, *, whole: bool = True
    ) -> opb.Opinion:
        station = self._station(session, row.station_id)
        community = session.get(models.RegistryCommunity, row.community_id)
        deputy = (
            session.get(models.RegistryDeputy, row.taken_by_deputy_id)
            if row.taken_by_deputy_id
            else None
        )
        merged = session.get(models.Opinion, row.merged_into_id) if row.merged_into_id else None
        message = opb.Opinion(
            id=row.id,
            tracking_code=row.tracking_code,
            source=SOURCE.number(row.source),  # type: ignore[arg-type]
            category=CATEGORY.number(row.category),  # type: ignore[arg-type]
            content=row.content,
            community_id=row.community_id,
            community_name=community.name if community else "",
            station_id=row.station_id,
            station_name=station.name,
            street_id=row.street_id,
            session_id=row.session_id or 0,
            status=STATUS.number(row.status),  # type: ignore[arg-type]
            taken_by_deputy_id=row.taken_by_deputy_id or 0,
            taken_by_deputy_name=deputy.name if deputy else "",
            merged_into_id=row.merged_into_id or 0,
            merged_into_code=merged.tracking_code if merged else "",
            decline_reason=row.decline_reason,
            answer=row.answer,
            recorded_at=timestamp(row.recorded_at),
            updated_at=timestamp(row.updated_at),
        )
        if not whole:
            return message
        message.timeline.extend(self._timeline(row))
        has_raiser = bool(row.raiser_name or row.raiser_phone or row.raiser_contact)
        if self.may_see_raiser(session, who, row, station):
            message.raiser.CopyFrom(
                opb.OpinionRaiser(
                    name=row.raiser_name,
                    phone=row.raiser_phone,
                    contact=row.raiser_contact,
                    subject=row.raiser_sub,
                )
            )
        else:
            message.raiser_hidden = has_raiser or bool(row.raiser_sub)
        return message

    @staticmethod
    def _timeline(row: models.Opinion) -> list[opb.OpinionTimelineEntry]:
        return [
            opb.OpinionTimelineEntry(at=timestamp(e.at), kind=e.kind, text=e.text)
            for e in row.timeline
        ]

    @staticmethod
    def facts(row: models.Opinion, session: Session) -> ev.OpinionFacts:
        """What an event carries: never who raised it."""
        community = session.get(models.RegistryCommunity, row.community_id)
        return ev.OpinionFacts(
            id=row.id,
            tracking_code=row.tracking_code,
            source=SOURCE.number(row.source),  # type: ignore[arg-type]
            category=CATEGORY.number(row.category),  # type: ignore[arg-type]
            content=row.content,
            community_id=row.community_id,
            community_name=community.name if community else "",
            station_id=row.station_id,
            street_id=row.street_id,
            session_id=row.session_id or 0,
            taken_by_deputy_id=row.taken_by_deputy_id or 0,
            status=STATUS.number(row.status),  # type: ignore[arg-type]
        )

    def _note(self, row: models.Opinion, kind: str, text: str) -> None:
        row.timeline.append(models.OpinionTimelineEntry(at=self.clock(), kind=kind, text=text))
        row.updated_at = self.clock()

    # -- recording

    def record(self, request: opb.RecordOpinionRequest, actor: Principal | None) -> opb.Opinion:
        v = Violations()
        source = SOURCE.to_name.get(request.source, "")
        if not source:
            v.add("source", f"must be one of: {', '.join(SOURCE.names)}")
        category = CATEGORY.to_name.get(request.category, "")
        if not category:
            v.add("category", f"must be one of: {', '.join(CATEGORY.names)}")
        content = check_text(v, "content", request.content, MAX_CONTENT, required=True)
        personal = source != rules.ORDER
        raiser = {
            field: check_text(
                v,
                field,
                getattr(request, field),
                limit,
                required=personal and field != "raiser_contact",
                lines=False,
            )
            for field, limit in LIMITS.items()
        }
        phone = raiser["raiser_phone"]
        if phone and not all(c.isdigit() or c in "+- ()" for c in phone):
            v.add("raiser_phone", "may hold digits, spaces, +, - and brackets only")
        if source == rules.RECEPTION and not request.session_id:
            v.add("session_id", "is required for an opinion raised at a reception")
        if source != rules.RECEPTION and request.session_id:
            v.add("session_id", "is only for an opinion raised at a reception")
        if source != rules.RECEPTION and not request.community_id:
            v.add("community_id", "is required")
        if request.taken_by_deputy_id and source == rules.ONLINE:
            v.add("taken_by_deputy_id", "is not for an opinion sent online")
        v.raise_if_any("the opinion is not valid")
        if source == rules.RECEPTION:
            who = require(actor, *TRIAGE, Role.DEPUTY, doing="record opinions at a reception")
        elif source == rules.ORDER:
            who = require(
                actor,
                Role.ADMIN,
                Role.STANDING_COMMITTEE_OFFICE,
                Role.SYSTEM,
                Role.STREET_COMMITTEE,
                doing="enter orders",
            )
        else:
            who = actor or ANONYMOUS
        with self.db.unit_of_work() as uow:
            session = uow.session
            at = self.clock()
            row = models.Opinion(
                source=source,
                category=category,
                content=content,
                status=rules.RECORDED,
                recorded_at=at,
                updated_at=at,
                recorded_on=shanghai_day(at),
                raiser_sub=actor.sub if actor and actor.role is Role.CONSTITUENT else "",
                **raiser,
            )
            station = self._place(session, who, request, row, at)
            if request.taken_by_deputy_id or (source == rules.RECEPTION and who.deputy_id):
                deputy_id = request.taken_by_deputy_id or who.deputy_id or 0
                row.taken_by_deputy_id = self._deputy(
                    session, deputy_id, station.street_id, "taken_by_deputy_id"
                ).id
            row.tracking_code = next_code(session, at.astimezone(domain.SHANGHAI).year)
            session.add(row)
            session.flush()
            words = f"{rules.SOURCE_LABELS[source]}，已登记，转{station.name}处理"
            self._note(row, "recorded", words)
            uow.emit(
                ev.OpinionRecorded(
                    opinion=self.facts(row, session), raiser_sub=row.raiser_sub or ""
                )
            )
            if row.taken_by_deputy_id:
                row.status = rules.next_status(source, row.status, rules.ASSIGN)
                self._assigned(uow, row)
            session.flush()
            audit.record(session, who, "recorded", "opinion", row.id, ["category", "content"])
            return self.view(session, row, who)

    def _place(
        self,
        session: Session,
        who: Principal,
        request: opb.RecordOpinionRequest,
        row: models.Opinion,
        at: datetime,
    ) -> models.RegistryStation:
        """Where the opinion belongs: the session's station, or the station
        serving its community; checks the caller may record there."""
        if row.source == rules.RECEPTION:
            sitting = load(
                session, models.ReceptionSession, request.session_id, "session", "session_id"
            )
            station = self._station(session, sitting.station_id)
            if not access.may_see_personal(session, who, station, sitting.id):
                raise PermissionDenied(
                    f"a {who.role.value} may not record opinions at session {sitting.id}"
                )
            if sitting.status == domain.CANCELLED:
                raise FailedPrecondition(f"session {sitting.id} was cancelled")
            if sitting.session_date > shanghai_day(at):
                raise FailedPrecondition(f"session {sitting.id} has not been held yet")
            row.session_id = sitting.id
            community_id = request.community_id
            if community_id:
                community = load(
                    session, models.RegistryCommunity, community_id, "community", "community_id"
                )
                if community.street_id != station.street_id:
                    raise invalid(
                        "community_id",
                        f"community {community_id} is not in the station's street",
                    )
            else:
                served = [c.community_id for c in station.served]
                if not served:
                    raise invalid("community_id", "is required: the station serves no community")
                community_id = served[0]
        else:
            community = load(
                session, models.RegistryCommunity, request.community_id, "community", "community_id"
            )
            if not community.active:
                raise FailedPrecondition(f"community {community.id} is no longer active")
            found = station_of_community(session, community.id)
            if found is None:
                raise FailedPrecondition(f"no active station serves community {community.id}")
            station = found
            if row.source == rules.ORDER:
                self._triage(who, station, "enter orders for this street")
            community_id = community.id
        row.community_id = community_id
        row.station_id = station.id
        row.street_id = station.street_id
        return station

    # -- reads

    def track(self, code: str) -> opb.OpinionTrack:
        """Public: what anyone with the code sees; never who raised it."""
        if rules.parse_code(code) is None:
            raise invalid("tracking_code", "is not a tracking code (e.g. TH-2026-000123)")
        with self.db.read() as session:
            row = session.scalars(
                select(models.Opinion).where(models.Opinion.tracking_code == code.strip().upper())
            ).first()
            if row is None:
                raise NotFound(f"no opinion has the tracking code {code.strip().upper()}")
            return opb.OpinionTrack(**self._tracked(session, row))

    @staticmethod
    def categories() -> list[opb.OpinionCategoryInfo]:
        """Public: the fixed list of categories, in the enum's order."""
        return [
            opb.OpinionCategoryInfo(
                category=CATEGORY.number(c.name),  # type: ignore[arg-type]
                name=c.name,
                label=c.label,
                description=f"{c.label}方面的意见建议",
                keywords=list(c.expertise),
            )
            for c in rules.CATEGORIES
        ]

    def public_list(self, request: opb.ListPublicOpinionsRequest) -> list[opb.PublicOpinion]:
        """Public: what TrackOpinion shows of each opinion the filters keep,
        with its community and street, the newest recorded first; never
        who raised it, nor its text."""
        v = Violations()
        codes: list[str] = []
        if len(request.tracking_codes) > MAX_PUBLIC:
            v.add("tracking_codes", f"may name at most {MAX_PUBLIC} codes")
        for code in request.tracking_codes:
            if rules.parse_code(code) is None:
                v.add(
                    "tracking_codes", f"{code[:40]!r} is not a tracking code (e.g. TH-2026-000123)"
                )
                break
            codes.append(code.strip().upper())
        categories = [CATEGORY.to_name.get(c, "") for c in request.categories]
        if "" in categories:
            v.add("categories", f"must be among: {', '.join(CATEGORY.names)}")
        statuses = [STATUS.to_name.get(s, "") for s in request.statuses]
        if "" in statuses:
            v.add("statuses", f"must be among: {', '.join(STATUS.names)}")
        limit = request.limit or MAX_PUBLIC
        if not 1 <= limit <= MAX_PUBLIC:
            v.add("limit", f"must be between 1 and {MAX_PUBLIC}")
        since = request.recorded_from.ToDatetime(UTC) if request.HasField("recorded_from") else None
        until = request.recorded_to.ToDatetime(UTC) if request.HasField("recorded_to") else None
        if since and until and since > until:
            v.add("recorded_to", "is before recorded_from")
        v.raise_if_any("the query is not valid")
        query = select(models.Opinion)
        if codes:
            query = query.where(models.Opinion.tracking_code.in_(codes))
        if categories:
            query = query.where(models.Opinion.category.in_(categories))
        if statuses:
            query = query.where(models.Opinion.status.in_(statuses))
        if since:
            query = query.where(models.Opinion.recorded_at >= since)
        if until:
            query = query.where(models.Opinion.recorded_at <= until)
        query = query.order_by(models.Opinion.recorded_at.desc(), models.Opinion.id.desc())
        with self.db.read() as session:
            rows = list(session.scalars(query.limit(limit)))
            return [self._public(session, row) for row in rows]

    def _tracked(self, session: Session, row: models.Opinion) -> dict[str, Any]:
        """What anyone with the tracking code sees (OpinionTrack's fields)."""
        station = self._station(session, row.station_id)
        merged = session.get(models.Opinion, row.merged_into_id) if row.merged_into_id else None
        return {
            "tracking_code": row.tracking_code,
            "category": CATEGORY.number(row.category),
            "category_name": rules.BY_NAME[row.category].label,
            "status": STATUS.number(row.status),
            "station_id": station.id,
            "station_name": station.name,
            "timeline": self._timeline(row),
            "merged_into_code": merged.tracking_code if merged else "",
            "recorded_at": timestamp(row.recorded_at),
        }

    def _public(self, session: Session, row: models.Opinion) -> opb.PublicOpinion:
        community = session.get(models.RegistryCommunity, row.community_id)
        return opb.PublicOpinion(
            **self._tracked(session, row),
            community_id=row.community_id,
            community_name=community.name if community else "",
            street_id=row.street_id,
            updated_at=timestamp(row.updated_at),
        )

    def get(self, opinion_id: int, actor: Principal | None) -> opb.Opinion:
        who = require(actor, *READERS, Role.CONSTITUENT, doing="read opinions")
        with self.db.read() as session:
            row = load(session, models.Opinion, opinion_id, "opinion", "id")
            station = self._station(session, row.station_id)
            if who.role in STREET_STAFF:
                self._triage(who, station, "read this opinion")
            if who.role is Role.CONSTITUENT and not (row.raiser_sub and row.raiser_sub == who.sub):
                raise PermissionDenied("a constituent may read only the opinions they sent")
            return self.view(session, row, who)

    def triage_queue(
        self, request: opb.ListOpinionsRequest, actor: Principal | None
    ) -> tuple[list[opb.Opinion], str]:
        who = require(actor, *TRIAGE, Role.DEPUTY, doing="list opinions")
        v = Violations()
        statuses = [STATUS.to_name.get(s, "") for s in request.statuses]
        if "" in statuses:
            v.add("statuses", f"must be among: {', '.join(STATUS.names)}")
        if request.category and request.category not in CATEGORY.to_name:
            v.add("category", f"must be one of: {', '.join(CATEGORY.names)}")
        if request.source and request.source not in SOURCE.to_name:
            v.add("source", f"must be one of: {', '.join(SOURCE.names)}")
        if request.year and not 2000 <= request.year <= 2100:
            v.add("year", "must be between 2000 and 2100")
        size = request.page_size or DEFAULT_PAGE
        if not 1 <= size <= MAX_PAGE:
            v.add("page_size", f"must be between 1 and {MAX_PAGE}")
        after = 0
        if request.page_token:
            if not request.page_token.isdigit() or not 0 < int(request.page_token) <= MAX_ID:
                v.add("page_token", "is not a token this list gave")
            else:
                after = int(request.page_token)
        for field in ("station_id", "street_id", "taken_by_deputy_id"):
            if not 0 <= getattr(request, field) <= MAX_ID:
                v.add(field, "must be a positive number")
        v.raise_if_any("the query is not valid")
        query = select(models.Opinion).where(models.Opinion.id > after)
        if who.role is Role.DEPUTY:
            if who.deputy_id is None or request.taken_by_deputy_id not in (0, who.deputy_id):
                raise PermissionDenied("a deputy may list only the opinions they took")
            query = query.where(models.Opinion.taken_by_deputy_id == who.deputy_id)
        elif who.role in STREET_STAFF:
            if request.street_id and request.street_id != who.street_id:
                raise PermissionDenied(
                    f"a {who.role.value} of street {who.street_id} may not list opinions of "
                    f"street {request.street_id}"
                )
            query = query.where(models.Opinion.street_id == (who.street_id or 0))
        with self.db.read() as session:
            if request.station_id:
                station = self._station(session, request.station_id)
                if who.role in STREET_STAFF:
                    self._triage(who, station, "list this station's opinions")
                query = query.where(models.Opinion.station_id == station.id)
            if request.street_id:
                query = query.where(models.Opinion.street_id == request.street_id)
            if request.taken_by_deputy_id:
                query = query.where(models.Opinion.taken_by_deputy_id == request.taken_by_deputy_id)
            if who.role is not Role.DEPUTY or statuses:
                query = query.where(models.Opinion.status.in_(statuses or list(rules.OPEN)))
            if request.category:
                query = query.where(models.Opinion.category == CATEGORY.to_name[request.category])
            if request.source:
                query = query.where(models.Opinion.source == SOURCE.to_name[request.source])
            if request.year:
                query = query.where(
                    models.Opinion.recorded_on >= date(request.year, 1, 1),
                    models.Opinion.recorded_on <= date(request.year, 12, 31),
                )
            rows = list(session.scalars(query.order_by(models.Opinion.id).limit(size + 1)))
            more = len(rows) > size
            rows = rows[:size]
            token = str(rows[-1].id) if more else ""
            return [self.view(session, r, who, whole=False) for r in rows], token

    # -- transitions

    def _change(
        self,
        opinion_id: int,
        actor: Principal | None,
        action: str,
        may: Callable[[Session, Principal, models.Opinion, models.RegistryStation], bool],
        apply: Callable[[UnitOfWork, Principal, models.Opinion], list[str]],
        *,
        other: int = 0,
    ) -> opb.Opinion:
        """One transition: load and lock the opinion, check the caller, the
        state, apply, note the timeline, emit, audit."""
        who = require(actor, *TRIAGE, Role.DEPUTY, doing=f"change opinions ({action})")
        with self.db.unit_of_work() as uow:
            session = uow.session
            if not 0 < opinion_id <= MAX_ID:
                raise invalid("id", "must be a positive number")
            if 0 < other < opinion_id:  # two opinions are locked in the order of their ids
                session.get(models.Opinion, other, with_for_update=True)
            row = session.get(models.Opinion, opinion_id, with_for_update=True)
            if row is None:
                raise NotFound(f"no opinion has id {opinion_id}")
            station = self._station(session, row.station_id)
            if not (access.is_station_staff(who, station) or may(session, who, row, station)):
                raise PermissionDenied(
                    f"a {who.role.value} may not change opinion {row.id} ({action})"
                )
            row.status = rules.next_status(row.source, row.status, action)
            changed = apply(uow, who, row)
            session.flush()
            audit.record(session, who, action, "opinion", row.id, ["status", *changed])
            return self.view(session, row, who)

    @staticmethod
    def _never(*_: Any) -> bool:
        return False

    def answer(self, opinion_id: int, answer: str, actor: Principal | None) -> opb.Opinion:
        v = Violations()
        text = check_text(v, "answer", answer, MAX_CONTENT, required=True)
        v.raise_if_any("the answer is not valid")

        def may(session: Session, who: Principal, row: models.Opinion, _: Any) -> bool:
            return bool(
                who.role is Role.DEPUTY
                and row.session_id
                and who.deputy_id in access.session_deputies(session, row.session_id)
            )

        def apply(uow: UnitOfWork, who: Principal, row: models.Opinion) -> list[str]:
            row.answer = text
            self._note(row, rules.ANSWER, f"已当场答复：{text}")
            uow.emit(
                ev.OpinionAnswered(
                    opinion=self.facts(row, uow.session),
                    answer=text,
                    raiser_sub=row.raiser_sub or "",
                )
            )
            return ["answer"]

        return self._change(opinion_id, actor, rules.ANSWER, may, apply)

    def hand_on(self, opinion_id: int, note: str, actor: Principal | None) -> opb.Opinion:
        v = Violations()
        text = check_text(v, "note", note, MAX_REASON, required=False)
        v.raise_if_any("the note is not valid")

        def apply(uow: UnitOfWork, who: Principal, row: models.Opinion) -> list[str]:
            words = "已转交街道人大工委，按转办函程序转办" + (f"：{text}" if text else "")
            self._note(row, rules.HAND_ON, words)
            uow.emit(
                ev.OpinionHandedOn(
                    opinion=self.facts(row, uow.session), note=text, raiser_sub=row.raiser_sub
                )
            )
            return []

        return self._change(opinion_id, actor, rules.HAND_ON, self._never, apply)

    def merge(self, opinion_id: int, into_id: int, actor: Principal | None) -> opb.Opinion:
        if not 0 < into_id <= MAX_ID:
            raise invalid("into_id", "must be a positive number")
        if into_id == opinion_id:
            raise invalid("into_id", "is the opinion itself: merge it into another one")

        def apply(uow: UnitOfWork, who: Principal, row: models.Opinion) -> list[str]:
            target = uow.session.get(models.Opinion, into_id, with_for_update=True)
            if target is None:
                raise NotFound(f"no opinion has id {into_id}")
            if target.street_id != row.street_id:
                raise FailedPrecondition(
                    f"opinion {into_id} is of street {target.street_id}, not of street "
                    f"{row.street_id}: only opinions of one street are merged"
                )
            if target.status == rules.MERGED:
                raise FailedPrecondition(
                    f"opinion {into_id} is merged into opinion {target.merged_into_id}: merge "
                    "into that one"
                )
            row.merged_into_id = target.id
            self._note(row, rules.MERGE, f"与同类意见{target.tracking_code}合并办理")
            uow.emit(
                ev.OpinionMerged(
                    opinion=self.facts(row, uow.session),
                    merged_into_id=target.id,
                    merged_into_code=target.tracking_code,
                )
            )
            return ["merged_into_id"]

        return self._change(opinion_id, actor, rules.MERGE, self._never, apply, other=into_id)

    def decline(self, opinion_id: int, reason: str, actor: Principal | None) -> opb.Opinion:
        v = Violations()
        text = check_text(v, "reason", reason, MAX_REASON, required=True)
        v.raise_if_any("the reason is not valid")

        def apply(uow: UnitOfWork, who: Principal, row: models.Opinion) -> list[str]:
            row.decline_reason = text
            self._note(row, rules.DECLINE, f"不予受理：{text}")
            uow.emit(
                ev.OpinionDeclined(
                    opinion=self.facts(row, uow.session),
                    reason=text,
                    raiser_sub=row.raiser_sub or "",
                )
            )
            return ["decline_reason"]

        return self._change(opinion_id, actor, rules.DECLINE, self._never, apply)

    def assign(self, opinion_id: int, deputy_id: int, actor: Principal | None) -> opb.Opinion:
        if not 0 <= deputy_id <= MAX_ID:
            raise invalid("deputy_id", "must be a positive number")
        if actor is not None and actor.role is not Role.DEPUTY and not deputy_id:
            raise invalid("deputy_id", "is required")

        def may(session: Session, who: Principal, row: models.Opinion, _: Any) -> bool:
            # A deputy takes an opinion of their street for themselves.
            if who.role is not Role.DEPUTY or who.deputy_id is None:
                return False
            me = session.get(models.RegistryDeputy, who.deputy_id)
            return bool(
                me is not None and me.street_id == row.street_id and deputy_id in (0, me.id)
            )

        def apply(uow: UnitOfWork, who: Principal, row: models.Opinion) -> list[str]:
            chosen = deputy_id or who.deputy_id or 0
            deputy = self._deputy(uow.session, chosen, row.street_id, "deputy_id")
            if row.taken_by_deputy_id == deputy.id:
                raise FailedPrecondition(f"deputy {deputy.id} has taken this opinion already")
            row.taken_by_deputy_id = deputy.id
            self._assigned(uow, row)
            return ["taken_by_deputy_id"]

        return self._change(opinion_id, actor, rules.ASSIGN, may, apply)

    def _assigned(self, uow: UnitOfWork, row: models.Opinion) -> None:
        deputy = uow.session.get(models.RegistryDeputy, row.taken_by_deputy_id)
        name = deputy.name if deputy else f"{row.taken_by_deputy_id}"
        self._note(row, rules.ASSIGN, f"由{name}代表包干跟进")
        uow.emit(
            ev.OpinionAssigned(
                opinion=self.facts(row, uow.session), deputy_id=row.taken_by_deputy_id or 0
            )
        )

    def complete(self, opinion_id: int, answer: str, actor: Principal | None) -> opb.Opinion:
        v = Violations()
        text = check_text(v, "answer", answer, MAX_CONTENT, required=True)
        v.raise_if_any("the answer is not valid")

        def may(session: Session, who: Principal, row: models.Opinion, _: Any) -> bool:
            return bool(who.role is Role.DEPUTY and who.deputy_id == row.taken_by_deputy_id)

        def apply(uow: UnitOfWork, who: Principal, row: models.Opinion) -> list[str]:
            row.answer = text
            self._note(row, rules.COMPLETE, f"已办结：{text}")
            uow.emit(
                ev.OpinionDone(
                    opinion=self.facts(row, uow.session),
                    answer=text,
                    raiser_sub=row.raiser_sub or "",
                )
            )
            return ["answer"]

        return self._change(opinion_id, actor, rules.COMPLETE, may, apply)

    # -- 包干到户

    def suggest(
        self, opinion_id: int, limit: int, actor: Principal | None
    ) -> list[opb.SuggestedDeputy]:
        who = require(actor, *TRIAGE, doing="ask for deputies to suggest")
        count = limit or 5
        if not 1 <= count <= 50:
            raise invalid("limit", "must be between 1 and 50")
        with self.db.read() as session:
            row = load(session, models.Opinion, opinion_id, "opinion", "id")
            station = self._station(session, row.station_id)
            self._triage(who, station, "ask for deputies for this opinion")
            deputies = list(
                session.scalars(
                    select(models.RegistryDeputy).where(
                        models.RegistryDeputy.street_id == row.street_id,
                        models.RegistryDeputy.active.is_(True),
                    )
                )
            )
            load_of = dict(
                session.execute(  # type: ignore[arg-type]
                    select(models.Opinion.taken_by_deputy_id, func.count())
                    .where(models.Opinion.status.in_(rules.OPEN))
                    .where(models.Opinion.taken_by_deputy_id.in_([d.id for d in deputies]))
                    .group_by(models.Opinion.taken_by_deputy_id)
                ).all()
            )
            candidates = [
                rules.Candidate(d.id, d.name, d.station_id, d.expertise or [], load_of.get(d.id, 0))
                for d in deputies
            ]
            return [
                opb.SuggestedDeputy(
                    deputy_id=s.candidate.deputy_id,
                    name=s.candidate.name,
                    station_id=s.candidate.station_id or 0,
                    matched_expertise=list(s.matched),
                    score=s.score,
                    same_station=s.same_station,
                    open_opinions=s.candidate.open_opinions,
                    reason=s.reason,
                )
                for s in rules.rank(row.category, row.station_id, candidates, count)
            ]
