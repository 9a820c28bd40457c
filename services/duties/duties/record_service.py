"""The public duty record and constituents' ratings: use cases over the
database (`duties.record_models`) and the registry (is there such a deputy,
of which street).

- `apply`: one source event into the projection, in the consumer's unit of
  work (`kit.worker.consumes` records the event id with it), by
  `duties.duty_record.merge` on the source record's row, locked, so two
  workers handling events of one record one after the other converge too;
- `get_record`: anyone; counts by kind and the entries of a year, paged;
- `rate`: constituents; one a year per deputy (a unique constraint);
- `ratings`: anyone; counts by level per year and the published comments;
- `report`: anyone signed in, one report per rating each;
- `list_reported`, `moderate`: the street committee of the deputy's street,
  the standing committee office, admins; a moderation is audited and its
  reason kept with the comment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from duties import duty_record as dr
from duties import ratings as rules
from duties.record_models import (
    DeputyRating,
    DeputyRatingReport,
    DutyRecordEntry,
    DutyRecordSource,
)
from duties.registry import Deputies
from kit import audit
from kit.auth import Principal, Role, require
from kit.convert import iso, timestamp
from kit.db import Database, UnitOfWork
from kit.errors import AlreadyExists, FailedPrecondition, NotFound, Violations, invalid
from kit.events import Envelope
from kit.records import MAX_ID, page
from liaison.duties.v1 import record_events_pb2 as ev
from liaison.duties.v1 import record_pb2 as pb

Clock = Callable[[], datetime]

SIGNED_IN = tuple(r for r in Role if r is not Role.SYSTEM)

LEVELS = {
    pb.DEPUTY_RATING_LEVEL_SATISFIED: rules.Level.SATISFIED,
    pb.DEPUTY_RATING_LEVEL_BASICALLY_SATISFIED: rules.Level.BASICALLY_SATISFIED,
    pb.DEPUTY_RATING_LEVEL_DISSATISFIED: rules.Level.DISSATISFIED,
}
LEVEL_PB = {level: value for value, level in LEVELS.items()}


class DutyRecords:
    """The duty record's projection and reads, and ratings, over one Database."""

    def __init__(self, db: Database, deputies: Deputies, *, clock: Clock | None = None) -> None:
        self.db = db
        self.deputies = deputies
        self.clock = clock or (lambda: datetime.now(UTC))

    def _street_of(self, deputy_id: int) -> int:
        """The deputy's street; NotFound naming the deputy the registry does
        not know (its answers are kept a few minutes)."""
        return self.deputies.deputy(deputy_id).street_id

    # ------------------------------------------------------------ projection

    def apply(
        self, uow: UnitOfWork, source: dr.Source, event: Message, envelope: Envelope
    ) -> dr.StoredSource:
        """One source event into the projection; what the record now keeps."""
        state = dr.state_of(source, event, envelope.sequence, envelope.occurred_at)
        return self.apply_state(uow.session, state)

    def apply_state(self, session: Session, state: dr.SourceState) -> dr.StoredSource:
        key = state.source
        row = self._locked_source(session, key)
        stored_version = (
            None
            if row.version_at is None
            else dr.Version(row.version_sequence, _aware(row.version_at))
        )
        rows = {
            (r.deputy_id, dr.EntryKind(r.kind)): r
            for r in session.scalars(
                select(DutyRecordEntry).where(DutyRecordEntry.source_id == row.id)
            )
        }
        stored = dr.StoredSource(
            stored_version,
            {k: dr.StoredEntry(_entry_of(r), r.shown) for k, r in rows.items()},
        )
        merged = dr.merge(stored, state)
        for k, kept in merged.entries.items():
            if stored.entries.get(k) == kept:
                continue
            target = rows.get(k)
            if target is None:
                target = DutyRecordEntry(
                    source_id=row.id,
                    service=key.service,
                    record_type=key.record_type,
                    record_id=key.record_id,
                    kind=k[1].value,
                    deputy_id=k[0],
                )
                session.add(target)
            e = kept.entry
            target.day, target.year = e.on, e.on.year
            target.title, target.status = e.title[:300], e.status[:64]
            target.completed, target.detail, target.shown = e.completed, e.detail[:200], kept.shown
        if merged.version is not None and merged.version != stored_version:
            row.version_sequence = merged.version.sequence
            row.version_at = merged.version.occurred_at
        session.flush()
        return merged

    @staticmethod
    def _locked_source(session: Session, key: dr.SourceRecord) -> DutyRecordSource:
        """The source record's row, created without a version when new,
        locked for this transaction (two events of one record wait for each
        other; the insert's conflict is no error)."""
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(DutyRecordSource)
            .values(
                service=key.service,
                record_type=key.record_type,
                record_id=key.record_id,
                part=key.part,
                version_sequence=0,
                version_at=None,
                updated_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing(index_elements=["service", "record_type", "record_id", "part"])
        )
        row = session.scalars(
            select(DutyRecordSource)
            .where(
                DutyRecordSource.service == key.service,
                DutyRecordSource.record_type == key.record_type,
                DutyRecordSource.record_id == key.record_id,
                DutyRecordSource.part == key.part,
            )
            .with_for_update()
        ).one()
        return row

    # ------------------------------------------------------------ the record

    def get_record(self, request: pb.GetDutyRecordRequest) -> pb.DutyRecord:
        v = Violations()
        if not 0 < request.deputy_id <= MAX_ID:
            v.add("deputy_id", "must be a positive id")
        year = request.year or self.this_year()
        rules.check_year(v, "year", year)
        kinds = [k.value for k in dr.EntryKind]
        if request.kind:
            v.one_of("kind", request.kind, kinds)
        v.raise_if_any("the duty record cannot be read")
        self._street_of(request.deputy_id)
        e = DutyRecordEntry
        mine = (e.deputy_id == request.deputy_id, e.year == year, e.shown.is_(True))
        with self.db.read(consistent=True) as session:
            counted = {
                kind: (int(n), int(done or 0))
                for kind, n, done in session.execute(
                    select(e.kind, func.count(), func.sum(case((e.completed, 1), else_=0)))
                    .where(*mine)
                    .group_by(e.kind)
                )
            }
            # Table rows, not ORM objects: the read builds messages only.
            query = select(e.__table__).where(*mine)
            if request.kind:
                query = query.where(e.kind == request.kind)
            rows, info = page(session, query, e.id, request.page, request)
            return pb.DutyRecord(
                deputy_id=request.deputy_id,
                year=year,
                counts=[
                    pb.DutyKindCount(
                        kind=k, count=counted.get(k, (0, 0))[0], completed=counted.get(k, (0, 0))[1]
                    )
                    for k in kinds
                ],
                entries=[_entry_pb(r) for r in rows],
                page=info,
            )

    def this_year(self) -> int:
        return dr.day_of(self.clock()).year

    # ------------------------------------------------------------ ratings

    def rate(self, request: pb.RateDeputyRequest, actor: Principal | None) -> pb.DeputyRating:
        who = require(actor, Role.CONSTITUENT, doing="rate a deputy")
        v = Violations()
        if not 0 < request.deputy_id <= MAX_ID:
            v.add("deputy_id", "must be a positive id")
        level = LEVELS.get(request.level)
        if level is None:
            v.add("level", "must be satisfied, basically satisfied or dissatisfied")
        comment = rules.clean_text(v, "comment", request.comment, rules.MAX_COMMENT, required=False)
        v.raise_if_any("the rating is not valid")
        assert level is not None
        street_id = self._street_of(request.deputy_id)
        now = self.clock()
        year = dr.day_of(now).year
        taken = AlreadyExists(
            f"you have rated deputy {request.deputy_id} in {year} already: "
            "one rating per deputy a year; nothing was changed"
        )
        with self.db.unit_of_work() as uow:
            session = uow.session
            if session.scalar(
                select(DeputyRating.id).where(
                    DeputyRating.deputy_id == request.deputy_id,
                    DeputyRating.year == year,
                    DeputyRating.rater_sub == who.sub,
                )
            ):
                raise taken
            row = DeputyRating(
                deputy_id=request.deputy_id,
                year=year,
                rater_sub=who.sub,
                street_id=street_id,
                level=level.value,
                comment=comment,
                rated_at=now,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # a concurrent rating of the same caller won
                raise taken from None
            uow.emit(
                ev.DeputyRated(
                    rating_id=row.id,
                    deputy_id=row.deputy_id,
                    year=year,
                    level=LEVEL_PB[level],
                    has_comment=bool(comment),
                )
            )
            audit.record(session, who, "created", "deputy_rating", row.id, ["level", "comment"])
            return pb.DeputyRating(
                id=row.id,
                deputy_id=row.deputy_id,
                year=year,
                level=LEVEL_PB[level],
                comment=comment,
                rated_at=timestamp(now),
            )

    def ratings(self, request: pb.GetDeputyRatingsRequest) -> pb.DeputyRatings:
        v = Violations()
        if not 0 < request.deputy_id <= MAX_ID:
            v.add("deputy_id", "must be a positive id")
        if request.year:
            rules.check_year(v, "year", request.year)
        v.raise_if_any("the ratings cannot be read")
        self._street_of(request.deputy_id)
        r = DeputyRating
        where = [r.deputy_id == request.deputy_id]
        if request.year:
            where.append(r.year == request.year)
        with self.db.read(consistent=True) as session:
            per_year: dict[int, dict[str, int]] = {}
            for year, level, n in session.execute(
                select(r.year, r.level, func.count()).where(*where).group_by(r.year, r.level)
            ):
                per_year.setdefault(int(year), {})[level] = int(n)
            query = select(r).where(*where, r.hidden.is_(False), r.comment != "")
            rows, info = page(session, query, r.id, request.page, request)
            years = []
            for year in sorted(per_year, reverse=True):
                counts = rules.LevelCounts.of(per_year[year])
                years.append(
                    pb.RatingYearCounts(
                        year=year,
                        satisfied=counts.satisfied,
                        basically_satisfied=counts.basically_satisfied,
                        dissatisfied=counts.dissatisfied,
                        total=counts.total,
                    )
                )
            return pb.DeputyRatings(
                deputy_id=request.deputy_id,
                years=years,
                comments=[
                    pb.PublishedComment(
                        rating_id=row.id,
                        year=row.year,
                        level=LEVEL_PB[rules.Level(row.level)],
                        comment=row.comment,
                        rated_on=iso(dr.day_of(row.rated_at)),
                    )
                    for row in rows
                ],
                page=info,
            )

    def report(
        self, request: pb.ReportRatingCommentRequest, actor: Principal | None
    ) -> pb.RatingReport:
        who = require(actor, *SIGNED_IN, doing="report a rating's comment")
        v = Violations()
        if not 0 < request.rating_id <= MAX_ID:
            v.add("rating_id", "must be a positive id")
        reason = rules.clean_text(v, "reason", request.reason, rules.MAX_REASON, required=True)
        v.raise_if_any("the report is not valid")
        again = AlreadyExists(
            f"you have reported the comment of rating {request.rating_id} already; "
            "nothing was changed"
        )
        with self.db.unit_of_work() as uow:
            session = uow.session
            rating = session.get(DeputyRating, request.rating_id)
            if rating is None:
                raise NotFound(f"rating {request.rating_id} does not exist")
            if not rating.comment:
                raise FailedPrecondition(
                    f"rating {request.rating_id} has no comment: there is nothing to report"
                )
            if session.scalar(
                select(DeputyRatingReport.id).where(
                    DeputyRatingReport.rating_id == rating.id,
                    DeputyRatingReport.reporter_sub == who.sub,
                )
            ):
                raise again
            row = DeputyRatingReport(
                rating_id=rating.id, reporter_sub=who.sub, reason=reason, reported_at=self.clock()
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise again from None
            audit.record(session, who, "created", "deputy_rating_report", row.id, ["reason"])
            return pb.RatingReport(
                id=row.id,
                rating_id=rating.id,
                reason=reason,
                reported_at=timestamp(row.reported_at),
            )

    def list_reported(
        self, request: pb.ListReportedCommentsRequest, actor: Principal | None
    ) -> tuple[list[pb.ModeratedComment], Any]:
        who = require(actor, *rules.MODERATORS, doing="list reported rating comments")
        if not 0 <= request.deputy_id <= MAX_ID:
            raise invalid("deputy_id", "must be a positive id")
        if request.deputy_id:
            rules.require_moderator(who, request.deputy_id, self._street_of(request.deputy_id))
        r, rep = DeputyRating, DeputyRatingReport
        reported = select(rep.rating_id).where(rep.rating_id == r.id)
        if not request.include_moderated:
            reported = reported.where(
                (r.moderated_at.is_(None)) | (rep.reported_at > r.moderated_at)
            )
        query = select(r).where(reported.exists())
        if request.deputy_id:
            query = query.where(r.deputy_id == request.deputy_id)
        elif who.role is Role.STREET_COMMITTEE:
            # Its own street's deputies only (their street when rated).
            query = query.where(r.street_id == (who.street_id or 0))
        with self.db.read(consistent=True) as session:
            rows, info = page(session, query, r.id, request.page, request)
            return [self._moderated(session, row) for row in rows], info

    def moderate(
        self, request: pb.ModerateRatingCommentRequest, actor: Principal | None
    ) -> pb.ModeratedComment:
        who = require(actor, *rules.MODERATORS, doing="moderate rating comments")
        v = Violations()
        if not 0 < request.rating_id <= MAX_ID:
            v.add("rating_id", "must be a positive id")
        if request.action not in (pb.COMMENT_MODERATION_HIDE, pb.COMMENT_MODERATION_RESTORE):
            v.add("action", "must be hide or restore")
        reason = rules.clean_text(v, "reason", request.reason, rules.MAX_REASON, required=True)
        v.raise_if_any("the moderation is not valid")
        hide = request.action == pb.COMMENT_MODERATION_HIDE
        with self.db.unit_of_work() as uow:
            session = uow.session
            rating = session.get(DeputyRating, request.rating_id, with_for_update=True)
            if rating is None:
                raise NotFound(f"rating {request.rating_id} does not exist")
            rules.require_moderator(who, rating.deputy_id, self._street_of(rating.deputy_id))
            if not rating.comment:
                raise FailedPrecondition(f"rating {rating.id} has no comment to moderate")
            if rating.hidden == hide:
                state = "hidden" if hide else "shown"
                raise FailedPrecondition(
                    f"the comment of rating {rating.id} is {state} already; nothing was changed"
                )
            rating.hidden = hide
            rating.moderation_reason = reason
            rating.moderated_at = self.clock()
            session.flush()
            uow.emit(
                ev.RatingCommentModerated(
                    rating_id=rating.id, deputy_id=rating.deputy_id, action=request.action
                )
            )
            audit.record(
                session,
                who,
                "comment_hidden" if hide else "comment_restored",
                "deputy_rating",
                rating.id,
                ["hidden", "moderation_reason"],
            )
            return self._moderated(session, rating)

    @staticmethod
    def _moderated(session: Session, row: DeputyRating) -> pb.ModeratedComment:
        reasons = list(
            session.scalars(
                select(DeputyRatingReport.reason)
                .where(DeputyRatingReport.rating_id == row.id)
                .order_by(DeputyRatingReport.id.desc())
            )
        )
        return pb.ModeratedComment(
            rating_id=row.id,
            deputy_id=row.deputy_id,
            year=row.year,
            level=LEVEL_PB[rules.Level(row.level)],
            comment=row.comment,
            hidden=row.hidden,
            moderation_reason=row.moderation_reason,
            moderated_at=timestamp(row.moderated_at),
            reports=len(reasons),
            report_reasons=reasons,
        )


def _aware(at: datetime) -> datetime:
    """SQLite gives its timestamps back without their zone (UTC)."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _entry_of(row: DutyRecordEntry) -> dr.Entry:
    return dr.Entry(
        deputy_id=row.deputy_id,
        kind=dr.EntryKind(row.kind),
        on=row.day,
        title=row.title,
        status=row.status,
        completed=row.completed,
        detail=row.detail,
    )


def _entry_pb(row: Any) -> pb.DutyRecordEntry:
    """A row of `duty_record_entries` (a table row or the ORM object) as its message."""
    return pb.DutyRecordEntry(
        kind=row.kind,
        on=iso(row.day),
        title=row.title,
        status=row.status,
        completed=row.completed,
        detail=row.detail,
        source_service=row.service,
        source_type=row.record_type,
        source_id=row.record_id,
    )
