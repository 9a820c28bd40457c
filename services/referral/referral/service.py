"""The referral service's use cases: each one a unit of work that checks who
is asking, changes letters, and records the events others need and the
audit entry, all in one commit.

Built so far: a letter opened from each opinion the reception service hands
on (`open_from_opinion`, called by the worker with the event), read by those
who may. Who may read a letter: the district's offices (admin, standing
committee office, working body, government office, the platform itself)
every letter; the street committee and station staff of its street; the
deputy who took its opinion.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from kit import audit
from kit.auth import Principal, Role, require
from kit.db import Database, UnitOfWork
from kit.errors import NotFound, PermissionDenied, Violations
from kit.records import page
from liaison.reception.v1 import events_pb2 as rev
from liaison.referral.v1 import events_pb2 as ev
from liaison.referral.v1 import referral_pb2 as pb
from referral import models, trail
from referral.convert import CATEGORY, STAGE, letter_pb

MAX_ID = 2**63 - 1
# Roles that read every letter of the district.
DISTRICT_READERS = (
    Role.ADMIN,
    Role.STANDING_COMMITTEE_OFFICE,
    Role.WORKING_BODY,
    Role.GOVERNMENT_OFFICE,
    Role.SYSTEM,
)
STREET_READERS = (Role.STREET_COMMITTEE, Role.STATION_STAFF)
READERS = (*DISTRICT_READERS, *STREET_READERS, Role.DEPUTY)
JURISDICTION = "jurisdiction"
# Who opens letters from the reception service's events (the worker).
OPENER = Principal.system("referral-worker")


class Referral:
    """The referral service's application service, over one Database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- letters from the reception service's events

    def open_from_opinion(
        self, uow: UnitOfWork, who: Principal, opinion: rev.OpinionFacts, note: str
    ) -> pb.Letter | None:
        """Open, in `uow`, the letter of an opinion handed on; None when that
        opinion has one already (the event came again under another id)."""
        existing = uow.session.scalar(
            select(models.Letter.id).where(models.Letter.opinion_id == opinion.id)
        )
        if existing is not None:
            return None
        row = models.Letter(
            opinion_id=opinion.id,
            tracking_code=opinion.tracking_code,
            street_id=opinion.street_id,
            station_id=opinion.station_id,
            community_id=opinion.community_id,
            community_name=opinion.community_name,
            category=CATEGORY.to_name.get(opinion.category, ""),
            content=opinion.content,
            deputy_id=opinion.taken_by_deputy_id or None,
            note=note,
            stage=JURISDICTION,
        )
        uow.session.add(row)
        uow.session.flush()
        self._append(
            uow,
            row,
            trail.OPENED,
            who,
            {"opinion_id": opinion.id, "tracking_code": opinion.tracking_code, "note": note},
        )
        view = letter_pb(row)
        uow.emit(ev.LetterOpened(letter=view))
        audit.record(uow.session, who, "opened", "letter", row.id, ["opinion_id"])
        return view

    # -- the trail

    @staticmethod
    def _append(
        uow: UnitOfWork, row: models.Letter, kind: str, who: Principal, payload: Any
    ) -> trail.Entry:
        """Append an entry to the letter's trail (its row locked by the caller
        or new) and keep its hash as the letter's head."""
        newest = uow.session.scalar(
            select(models.TrailEntry)
            .where(models.TrailEntry.letter_id == row.id)
            .order_by(models.TrailEntry.seq.desc())
            .limit(1)
        )
        entry = trail.next_entry(
            _entry(newest) if newest else None, kind, who.sub, datetime.now(UTC), payload
        )
        uow.session.add(
            models.TrailEntry(
                letter_id=row.id,
                seq=entry.seq,
                kind=entry.kind,
                actor=entry.actor,
                at=entry.at,
                payload=entry.payload,
                prev_hash=entry.prev_hash,
                hash=entry.hash,
            )
        )
        row.trail_head = entry.hash
        return entry

    def verify_trail(self, letter_id: int, actor: Principal | None) -> pb.VerifyTrailResponse:
        require(actor, *DISTRICT_READERS, doing="check letters' trails")
        with self.db.read() as session:
            row = session.get(models.Letter, letter_id) if 0 < letter_id <= MAX_ID else None
            if row is None:
                raise NotFound(f"no letter {letter_id}")
            entries = [
                _entry(e)
                for e in session.scalars(
                    select(models.TrailEntry)
                    .where(models.TrailEntry.letter_id == letter_id)
                    .order_by(models.TrailEntry.seq)
                )
            ]
            broken = trail.verify(entries, head=row.trail_head)
        if broken is None:
            return pb.VerifyTrailResponse(intact=True, entries=len(entries))
        return pb.VerifyTrailResponse(
            intact=False,
            entries=len(entries),
            break_position=broken.position,
            reason=broken.reason,
        )

    # -- reading

    def get_letter(self, letter_id: int, actor: Principal | None) -> pb.Letter:
        who = require(actor, *READERS, doing="read referral letters")
        with self.db.read() as session:
            row = session.get(models.Letter, letter_id) if 0 < letter_id <= MAX_ID else None
            if row is None:
                raise NotFound(f"no letter {letter_id}")
            self._may_read(who, row)
            return letter_pb(row)

    def list_letters(
        self, request: pb.ListLettersRequest, actor: Principal | None
    ) -> tuple[list[pb.Letter], Any]:
        who = require(actor, *READERS, doing="list referral letters")
        v = Violations()
        if not 0 <= request.street_id <= MAX_ID:
            v.add("street_id", "must be a positive number")
        if request.stage and request.stage not in STAGE.to_name:
            v.add("stage", f"must be one of: {', '.join(STAGE.names)}")
        v.raise_if_any("the query is not valid")
        query = select(models.Letter)
        if who.role in STREET_READERS:
            if request.street_id and request.street_id != who.street_id:
                raise PermissionDenied(
                    f"a {who.role.value} of street {who.street_id} may not list the letters "
                    f"of street {request.street_id}"
                )
            query = query.where(models.Letter.street_id == (who.street_id or 0))
        elif who.role is Role.DEPUTY:
            query = query.where(models.Letter.deputy_id == (who.deputy_id or 0))
        if request.street_id:
            query = query.where(models.Letter.street_id == request.street_id)
        if request.stage:
            query = query.where(models.Letter.stage == STAGE.to_name[request.stage])
        with self.db.read() as session:
            rows, info = page(session, query, models.Letter.id, request.page, request)
            return [letter_pb(r) for r in rows], info

    @staticmethod
    def _may_read(who: Principal, row: models.Letter) -> None:
        if who.role in DISTRICT_READERS:
            return
        if who.role in STREET_READERS and who.street_id == row.street_id:
            return
        if who.role is Role.DEPUTY and who.deputy_id is not None and who.deputy_id == row.deputy_id:
            return
        raise PermissionDenied(f"a {who.role.value} may not read letter {row.id}")

    # -- the audit

    def audit(self, request: Any, actor: Principal | None) -> tuple[list[Any], Any]:
        require(actor, Role.ADMIN, doing="read the audit")
        with self.db.read() as session:
            rows, info = page(
                session, audit.query(request), audit.audit_entries.c.id, request.page, request
            )
            return [audit.entry_pb(r) for r in rows], info


def _entry(row: models.TrailEntry) -> trail.Entry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return trail.Entry(
        row.seq, row.kind, row.actor, at.astimezone(UTC), row.payload, row.prev_hash, row.hash
    )
