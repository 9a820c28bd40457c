"""Duty reports to voters and their secret ballot: the use cases.

Each change is one unit of work that checks who is asking (role, then the
deputy's street, told by the registry), changes the rows, and records its
audit entry and events in the same commit; a refused one changes nothing.

A vote is different on purpose: it writes no audit entry, no event, no log
line and no timestamp, only the code's `spent` mark, the paper (a random
key and a choice) and the comment apart. Closing counts the papers and,
in the same transaction, drops the ballot's codes and writes the papers
and comments again in a random order under fresh random keys: on
PostgreSQL the three tables are emptied with TRUNCATE (new files) and
written again whole, so every row carries the closing's transaction id and
no page keeps a vote's own row; on SQLite the ballot's rows are written
again and VACUUM follows. docs/BALLOTS.md is the threat model.

Who may do what: see `protos/liaison/duties/v1/ballots.proto`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from duties import ballot_models as m
from duties import ballot_rules as rules
from duties.registry import Deputies
from kit import audit
from kit.auth import Principal, Role, require, require_streets
from kit.convert import EnumNames, timestamp
from kit.db import Database
from kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    Violations,
    invalid,
)
from kit.records import page
from kit.workdays import SHANGHAI
from liaison.duties.v1 import ballot_events_pb2 as ev
from liaison.duties.v1 import ballots_pb2 as pb

MAX_ID = 2**63 - 1
MAX_VENUE = 200
MAX_QUESTION = 4000
MAX_QUESTIONS_PER_CALL = 200
CHOICE = EnumNames(pb.BallotChoice, "BALLOT_CHOICE")
BALLOT_STATUS = EnumNames(pb.BallotStatus, "BALLOT_STATUS")
MEETING_STATUS = EnumNames(pb.ReportMeetingStatus, "REPORT_MEETING_STATUS")
OPEN, CLOSED, PUBLISHED = "open", "closed", "published"
# A vote on PostgreSQL, one statement: the code spent only while its ballot
# is open, the paper and the comment written only when it was. Its table
# locks are taken before it reads anything, so a closing (which locks the
# tables first) is either wholly before it or wholly after it.
VOTE_SQL = """
WITH open_ballot AS (
    SELECT id FROM ballots WHERE id = :ballot_id AND status = 'open'
), spent AS (
    UPDATE ballot_codes SET spent = true
    WHERE ballot_id = (SELECT id FROM open_ballot) AND code_hash = :code_hash AND NOT spent
    RETURNING ballot_id
), paper AS (
    INSERT INTO ballot_papers (id, ballot_id, choice)
    SELECT :paper_id, ballot_id, :choice FROM spent
    RETURNING ballot_id
), remark AS (
    INSERT INTO ballot_comments (id, ballot_id, text)
    SELECT CAST(:comment_id AS uuid), ballot_id, :comment FROM spent
    WHERE CAST(:comment_id AS uuid) IS NOT NULL
    RETURNING ballot_id
)
SELECT count(*) FROM paper
"""
SCHEDULED, HELD = "scheduled", "held"

# Who holds the meeting and its ballot.
ORGANISERS = (Role.STREET_COMMITTEE, Role.STANDING_COMMITTEE_OFFICE, Role.ADMIN, Role.SYSTEM)
# Who hands codes out at the meeting and closes the ballot.
POLL_STAFF = (*ORGANISERS, Role.STATION_STAFF)
DISTRICT_READERS = (Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.WORKING_BODY, Role.SYSTEM)
READERS = (*DISTRICT_READERS, Role.STREET_COMMITTEE, Role.STATION_STAFF, Role.DEPUTY)
# The comments go back to the deputy, through their street committee.
COMMENT_READERS = (Role.DEPUTY, Role.STREET_COMMITTEE)


def _id(value: int, field: str = "id") -> int:
    if not 0 < value <= MAX_ID:
        raise invalid(field, "is required: a positive id")
    return value


def _text(v: Violations, field: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        v.add(field, "is required")
    elif len(value) > limit:
        v.add(field, f"is longer than {limit} characters")
    elif "\x00" in value:
        v.add(field, "holds a NUL character")
    return value


def meeting_pb(row: m.ReportMeeting, ballot_id: int | None, *, questions: bool = True) -> Any:
    return pb.ReportMeeting(
        id=row.id,
        deputy_id=row.deputy_id,
        street_id=row.street_id,
        held_on=row.held_on.isoformat(),
        year=row.year,
        venue=row.venue,
        status=MEETING_STATUS.number(row.status),  # type: ignore[arg-type]
        questions=[pb.ReportQuestion(**q) for q in row.questions] if questions else [],
        ballot_id=ballot_id or 0,
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )


def ballot_pb(row: m.Ballot) -> Any:
    return pb.Ballot(
        id=row.id,
        meeting_id=row.meeting_id,
        deputy_id=row.deputy_id,
        street_id=row.street_id,
        year=row.year,
        status=BALLOT_STATUS.number(row.status),  # type: ignore[arg-type]
        codes_issued=row.codes_issued,
        papers_cast=row.papers_cast,
        result_shown=row.result_shown,
        opened_at=timestamp(row.opened_at),
        closed_at=timestamp(row.closed_at),
        published_at=timestamp(row.published_at),
    )


def _tally(row: m.Ballot) -> rules.Tally:
    return rules.Tally(row.satisfied, row.basically_satisfied, row.dissatisfied)


class Ballots:
    """The use cases of report meetings and ballots, over one Database."""

    def __init__(
        self,
        db: Database,
        deputies: Deputies,
        *,
        result_rules: rules.ResultRules | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.deputies = deputies
        self.rules = result_rules or rules.ResultRules()
        self.clock = clock or (lambda: datetime.now(UTC))

    # ------------------------------------------------------------ who

    def _may_read(self, who: Principal, street_id: int, deputy_id: int, doing: str) -> None:
        if who.role is Role.DEPUTY:
            if who.deputy_id != deputy_id:
                raise PermissionDenied(f"a deputy may {doing} only of their own report meetings")
            return
        if who.role in DISTRICT_READERS:
            return
        require_streets(who, [street_id], doing)

    def _meeting(self, s: Session, meeting_id: int, *, lock: bool = False) -> m.ReportMeeting:
        row = s.get(m.ReportMeeting, _id(meeting_id), with_for_update=lock)
        if row is None:
            raise NotFound(f"no report meeting {meeting_id}")
        return row

    def _ballot(self, s: Session, ballot_id: int, *, lock: bool = False) -> m.Ballot:
        row = s.get(m.Ballot, _id(ballot_id), with_for_update=lock)
        if row is None:
            raise NotFound(f"no ballot {ballot_id}")
        return row

    def _ballot_id_of(self, s: Session, meeting_id: int) -> int | None:
        return s.scalar(select(m.Ballot.id).where(m.Ballot.meeting_id == meeting_id))

    # ------------------------------------------------------------ meetings

    def schedule(self, request: Any, actor: Principal | None) -> Any:
        who = require(actor, *ORGANISERS, doing="schedule report meetings")
        v = Violations()
        if not 0 < request.deputy_id <= MAX_ID:
            v.add("deputy_id", "is required: a positive id")
        held_on = v.iso_date("held_on", request.held_on, required=True)
        venue = _text(v, "venue", request.venue, MAX_VENUE)
        v.raise_if_any("the report meeting cannot be scheduled")
        assert held_on is not None
        deputy = self.deputies.deputy(request.deputy_id)
        if not deputy.active:
            raise FailedPrecondition(
                f"deputy {deputy.id} no longer serves: their report meeting cannot be scheduled"
            )
        street_id = deputy.street_id
        require_streets(who, [street_id], "schedule a report meeting of this deputy")
        now = self.clock()
        with self.db.unit_of_work() as uow:
            row = m.ReportMeeting(
                deputy_id=request.deputy_id,
                street_id=street_id,
                held_on=held_on,
                year=held_on.year,
                venue=venue,
                status=SCHEDULED,
                questions=[],
                created_at=now,
                updated_at=now,
            )
            uow.session.add(row)
            uow.session.flush()
            uow.emit(
                ev.ReportMeetingScheduled(
                    meeting=meeting_pb(row, None, questions=False),
                    station_id=deputy.station_id,
                )
            )
            audit.record(
                uow.session,
                who,
                "schedule",
                "report_meeting",
                row.id,
                ["deputy_id", "held_on", "venue"],
            )
            return meeting_pb(row, None)

    def get_meeting(self, meeting_id: int, actor: Principal | None) -> Any:
        who = require(actor, *READERS, doing="read report meetings")
        with self.db.read() as s:
            row = self._meeting(s, meeting_id)
            self._may_read(who, row.street_id, row.deputy_id, "read report meetings")
            return meeting_pb(row, self._ballot_id_of(s, row.id))

    def list_meetings(self, request: Any, actor: Principal | None) -> tuple[list[Any], Any]:
        who = require(actor, *READERS, doing="read report meetings")
        query = select(m.ReportMeeting)
        street_id, deputy_id = request.street_id, request.deputy_id
        if who.role is Role.DEPUTY:
            if deputy_id and deputy_id != who.deputy_id:
                raise PermissionDenied("a deputy may read only their own report meetings")
            deputy_id = who.deputy_id or -1
        elif who.role not in DISTRICT_READERS:
            if street_id and street_id != who.street_id:
                require_streets(who, [street_id], "read report meetings")
            street_id = who.street_id or -1
        if street_id:
            query = query.where(m.ReportMeeting.street_id == street_id)
        if deputy_id:
            query = query.where(m.ReportMeeting.deputy_id == deputy_id)
        if request.year:
            query = query.where(m.ReportMeeting.year == request.year)
        with self.db.read() as s:
            rows, info = page(s, query, m.ReportMeeting.id, request.page, request)
            ballots = dict(
                s.execute(
                    select(m.Ballot.meeting_id, m.Ballot.id).where(
                        m.Ballot.meeting_id.in_([r.id for r in rows])
                    )
                ).all()
            )
            return [meeting_pb(r, ballots.get(r.id)) for r in rows], info

    def record_answers(self, request: Any, actor: Principal | None) -> Any:
        who = require(actor, *ORGANISERS, doing="record a report meeting's answers")
        v = Violations()
        if not request.questions:
            v.add("questions", "is required: at least one question with its answer")
        elif len(request.questions) > MAX_QUESTIONS_PER_CALL:
            v.add("questions", f"at most {MAX_QUESTIONS_PER_CALL} in one request")
        added = [
            {
                "question": _text(v, f"questions[{n}].question", q.question, MAX_QUESTION),
                "answer": _text(v, f"questions[{n}].answer", q.answer, MAX_QUESTION),
            }
            for n, q in enumerate(request.questions[:MAX_QUESTIONS_PER_CALL])
        ]
        v.raise_if_any("the answers cannot be recorded")
        with self.db.unit_of_work() as uow:
            row = self._meeting(uow.session, request.id, lock=True)
            require_streets(who, [row.street_id], "record this report meeting's answers")
            row.questions = [*row.questions, *added]
            row.updated_at = self.clock()
            audit.record(
                uow.session, who, "record_answers", "report_meeting", row.id, ["questions"]
            )
            return meeting_pb(row, self._ballot_id_of(uow.session, row.id))

    # ------------------------------------------------------------ the ballot

    def open_ballot(self, meeting_id: int, actor: Principal | None) -> Any:
        who = require(actor, *ORGANISERS, doing="open ballots")
        now = self.clock()
        with self.db.unit_of_work() as uow:
            meeting = self._meeting(uow.session, meeting_id, lock=True)
            require_streets(who, [meeting.street_id], "open this meeting's ballot")
            if self._ballot_id_of(uow.session, meeting.id) is not None:
                raise AlreadyExists(f"report meeting {meeting.id} has its ballot already")
            today = now.astimezone(SHANGHAI).date()
            if meeting.held_on > today:
                raise FailedPrecondition(
                    f"report meeting {meeting.id} is on {meeting.held_on.isoformat()}: its "
                    "ballot opens at the meeting, not before"
                )
            row = m.Ballot(
                meeting_id=meeting.id,
                deputy_id=meeting.deputy_id,
                street_id=meeting.street_id,
                year=meeting.year,
                status=OPEN,
                codes_issued=0,
                papers_cast=0,
                satisfied=0,
                basically_satisfied=0,
                dissatisfied=0,
                min_turnout=0,
                reelection_share=0.0,
                result_shown=False,
                flagged=False,
                opened_at=now,
            )
            uow.session.add(row)
            meeting.status = HELD
            meeting.updated_at = now
            uow.session.flush()
            view = ballot_pb(row)
            uow.emit(ev.BallotOpened(ballot=view))
            audit.record(uow.session, who, "open", "ballot", row.id, ["status"])
            return view

    def get_ballot(self, ballot_id: int, actor: Principal | None) -> Any:
        who = require(actor, *READERS, doing="read ballots")
        with self.db.read() as s:
            row = self._ballot(s, ballot_id)
            self._may_read(who, row.street_id, row.deputy_id, "read ballots")
            return ballot_pb(row)

    def issue_codes(self, request: Any, actor: Principal | None) -> Any:
        """New codes, answered once: only their hashes are kept."""
        who = require(actor, *POLL_STAFF, doing="issue ballot codes")
        _id(request.ballot_id, "ballot_id")
        with self.db.unit_of_work() as uow:
            self._lock_codes(uow.session)
            row = self._ballot(uow.session, request.ballot_id, lock=True)
            require_streets(who, [row.street_id], "issue codes of this ballot")
            if row.status != OPEN:
                raise FailedPrecondition(f"ballot {row.id} is closed: no more codes")
            rules.check_code_count(request.count, row.codes_issued)
            codes = rules.new_codes(request.count)
            uow.session.execute(
                insert(m.BallotCode),
                [
                    {
                        "ballot_id": row.id,
                        "code_hash": rules.code_hash(row.id, rules.normalise_code(c) or ""),
                        "spent": False,
                    }
                    for c in codes
                ],
            )
            row.codes_issued += len(codes)
            audit.record(uow.session, who, "issue_codes", "ballot", row.id, ["codes_issued"])
            return pb.IssueBallotCodesResponse(
                ballot_id=row.id, codes=codes, codes_issued=row.codes_issued
            )

    def cast_vote(self, request: Any) -> Any:
        """One vote with a code; nobody is asked who they are. Nothing is
        logged, audited or emitted, and nothing written carries a time."""
        _id(request.ballot_id, "ballot_id")
        choice = CHOICE.to_name.get(request.choice, "")
        paper = rules.check_paper(choice, request.comment)
        canonical = rules.normalise_code(request.code)
        if canonical is None:
            raise invalid(
                "code",
                f"is not a ballot code: {rules.CODE_LENGTH} letters and digits, "
                "like 7QK2-M9XD-4HTB-RW3C",
            )
        digest = rules.code_hash(request.ballot_id, canonical)
        comment_id = uuid.uuid4() if paper.comment else None
        with self.db.unit_of_work() as uow:
            s = uow.session
            if self.db.is_postgres:
                counted = s.scalar(
                    text(VOTE_SQL),
                    {
                        "ballot_id": request.ballot_id,
                        "code_hash": digest,
                        "paper_id": uuid.uuid4(),
                        "choice": paper.choice.value,
                        "comment_id": comment_id,
                        "comment": paper.comment,
                    },
                )
            else:
                counted = self._vote_sqlite(s, request.ballot_id, digest, paper, comment_id)
            if not counted:
                self._why_not_counted(s, request.ballot_id, digest)
        return pb.CastVoteResponse(ballot_id=request.ballot_id)

    def _vote_sqlite(
        self,
        s: Session,
        ballot_id: int,
        digest: bytes,
        paper: rules.Paper,
        comment_id: uuid.UUID | None,
    ) -> bool:
        """SQLite (the local run; one writer at a time): the same steps."""
        status = s.scalar(select(m.Ballot.status).where(m.Ballot.id == ballot_id))
        if status != OPEN:
            return False
        spent = s.execute(
            update(m.BallotCode)
            .where(
                m.BallotCode.ballot_id == ballot_id,
                m.BallotCode.code_hash == digest,
                m.BallotCode.spent.is_(False),
            )
            .values(spent=True)
            .returning(m.BallotCode.ballot_id)
        ).first()
        if spent is None:
            return False
        s.execute(
            insert(m.BallotPaper).values(
                id=uuid.uuid4(), ballot_id=ballot_id, choice=paper.choice.value
            )
        )
        if comment_id is not None:
            s.execute(
                insert(m.BallotComment).values(
                    id=comment_id, ballot_id=ballot_id, text=paper.comment
                )
            )
        return True

    def _why_not_counted(self, s: Session, ballot_id: int, digest: bytes) -> None:
        status = s.scalar(select(m.Ballot.status).where(m.Ballot.id == ballot_id))
        if status is None:
            raise NotFound(f"no ballot {ballot_id}")
        if status != OPEN:
            raise FailedPrecondition(f"ballot {ballot_id} is closed: it takes no more votes")
        known = s.scalar(
            select(func.count())
            .select_from(m.BallotCode)
            .where(m.BallotCode.ballot_id == ballot_id, m.BallotCode.code_hash == digest)
        )
        if known:
            raise FailedPrecondition("this code has voted already: a code votes once")
        raise invalid("code", f"is not a code of ballot {ballot_id}")

    def _lock_codes(self, s: Session) -> None:
        """PostgreSQL: the codes' table lock before any ballot's row lock, the
        order closing takes them in (so the two never wait for each other)."""
        if self.db.is_postgres:
            s.execute(text("LOCK TABLE ballot_codes IN ROW EXCLUSIVE MODE"))

    def close(self, ballot_id: int, actor: Principal | None) -> Any:
        who = require(actor, *POLL_STAFF, doing="close ballots")
        now = self.clock()
        with self.db.unit_of_work() as uow:
            s = uow.session
            row = self._ballot(s, ballot_id)
            require_streets(who, [row.street_id], "close this ballot")
            if row.status != OPEN:
                raise FailedPrecondition(f"ballot {row.id} is closed already")
            if self.db.is_postgres:
                # The tables first, then the row (the order of a vote and of an
                # issue of codes): votes under way, of any ballot, commit first
                # and are read and rewritten; later ones wait for the commit.
                s.execute(text(f"LOCK TABLE {', '.join(m.SECRET_TABLES)} IN ACCESS EXCLUSIVE MODE"))
            row = s.execute(
                select(m.Ballot)
                .where(m.Ballot.id == ballot_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).scalar_one()
            if row.status != OPEN:
                raise FailedPrecondition(f"ballot {row.id} is closed already")
            choices = list(
                s.scalars(select(m.BallotPaper.choice).where(m.BallotPaper.ballot_id == row.id))
            )
            if self.db.is_postgres:
                self._rewrite_tables(s, row.id)
            else:
                self._rewrite_ballot(s, row.id)
            tally = rules.Tally.of(choices)
            row.status = CLOSED
            row.closed_at = now
            row.papers_cast = tally.cast
            row.satisfied = tally.satisfied
            row.basically_satisfied = tally.basically_satisfied
            row.dissatisfied = tally.dissatisfied
            row.min_turnout = self.rules.min_turnout
            row.reelection_share = self.rules.reelection_share
            row.result_shown = self.rules.shown(tally.cast)
            row.flagged = self.rules.flagged(tally)
            audit.record(s, who, "close", "ballot", row.id, ["status", "papers_cast"])
            view = ballot_pb(row)
        if not self.db.is_postgres:
            self._vacuum_sqlite()
        return view

    def _vacuum_sqlite(self) -> None:
        """The file rebuilt without the pages the closing freed, and the
        write-ahead log's copies of them checkpointed away. On the driver's
        connection, which runs in autocommit (kit.db): VACUUM runs in no
        transaction."""
        raw = self.db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.close()
        finally:
            raw.close()

    def _rewrite_tables(self, s: Session, closing: int) -> None:
        """PostgreSQL: the three secret tables emptied with TRUNCATE and
        written again whole, each in a random order, papers and comments
        under new random keys, the closing ballot's codes left out.

        TRUNCATE gives each table (its indexes and TOAST) new files and drops
        the old ones at commit, so no page keeps a vote's own row, and no
        other transaction's snapshot can hold dead rows back as it would
        after a DELETE (VACUUM keeps what an older snapshot, e.g. an
        autovacuum's ANALYZE, may still see). Every row of the three tables
        is then this transaction's, the other ballots' too: votes already
        cast in ballots still open lose their transaction ids as well. Its
        exclusive lock, taken by `close` before it reads anything, waits for
        votes under way in other ballots and holds the next ones until the
        commit."""
        papers = s.execute(select(m.BallotPaper.ballot_id, m.BallotPaper.choice)).all()
        comments = s.execute(select(m.BallotComment.ballot_id, m.BallotComment.text)).all()
        codes = s.execute(
            select(m.BallotCode.ballot_id, m.BallotCode.code_hash, m.BallotCode.spent).where(
                m.BallotCode.ballot_id != closing
            )
        ).all()
        s.execute(text(f"TRUNCATE {', '.join(m.SECRET_TABLES)}"))
        self._insert_shuffled(s, papers, comments)
        if codes:
            s.execute(
                insert(m.BallotCode),
                [
                    {"ballot_id": b, "code_hash": h, "spent": spent}
                    for b, h, spent in rules.shuffled(codes)
                ],
            )

    def _rewrite_ballot(self, s: Session, closing: int) -> None:
        """SQLite (the local run): the closing ballot's rows deleted and its
        papers and comments written again shuffled; VACUUM follows the commit."""
        papers = s.execute(
            select(m.BallotPaper.ballot_id, m.BallotPaper.choice).where(
                m.BallotPaper.ballot_id == closing
            )
        ).all()
        comments = s.execute(
            select(m.BallotComment.ballot_id, m.BallotComment.text).where(
                m.BallotComment.ballot_id == closing
            )
        ).all()
        for table in (m.BallotCode, m.BallotPaper, m.BallotComment):
            s.execute(delete(table).where(table.ballot_id == closing))
        self._insert_shuffled(s, papers, comments)

    def _insert_shuffled(self, s: Session, papers: Sequence[Any], comments: Sequence[Any]) -> None:
        if papers:
            s.execute(
                insert(m.BallotPaper),
                [
                    {"id": uuid.uuid4(), "ballot_id": b, "choice": c}
                    for b, c in rules.shuffled(papers)
                ],
            )
        if comments:
            s.execute(
                insert(m.BallotComment),
                [
                    {"id": uuid.uuid4(), "ballot_id": b, "text": t}
                    for b, t in rules.shuffled(comments)
                ],
            )

    def publish(self, ballot_id: int, actor: Principal | None) -> Any:
        who = require(actor, *ORGANISERS, doing="publish ballots")
        with self.db.unit_of_work() as uow:
            row = self._ballot(uow.session, ballot_id, lock=True)
            require_streets(who, [row.street_id], "publish this ballot")
            if row.status == OPEN:
                raise FailedPrecondition(f"ballot {row.id} is still open: close it first")
            if row.status == PUBLISHED:
                raise FailedPrecondition(f"ballot {row.id} is published already")
            row.status = PUBLISHED
            row.published_at = self.clock()
            tally = _tally(row) if row.result_shown else rules.Tally()
            uow.emit(
                ev.BallotPublished(
                    ballot_id=row.id,
                    meeting_id=row.meeting_id,
                    deputy_id=row.deputy_id,
                    street_id=row.street_id,
                    year=row.year,
                    satisfied=tally.satisfied,
                    basically_satisfied=tally.basically_satisfied,
                    dissatisfied=tally.dissatisfied,
                    papers_cast=row.papers_cast,
                    share=tally.share,
                    flagged=row.flagged,
                    withheld=not row.result_shown,
                )
            )
            audit.record(uow.session, who, "publish", "ballot", row.id, ["status"])
            return ballot_pb(row)

    def result(self, ballot_id: int, actor: Principal | None) -> Any:
        """A closed ballot's result for whoever reads the ballot; a published
        one's for anyone. Never while open, never below the minimum turnout."""
        with self.db.read() as s:
            row = self._ballot(s, ballot_id)
            if row.status != PUBLISHED:
                who = require(actor, *READERS, doing="read an unpublished ballot's result")
                self._may_read(who, row.street_id, row.deputy_id, "read ballots")
            self._require_shown(row)
            tally = _tally(row)
            return pb.BallotResult(
                ballot_id=row.id,
                meeting_id=row.meeting_id,
                deputy_id=row.deputy_id,
                year=row.year,
                satisfied=tally.satisfied,
                basically_satisfied=tally.basically_satisfied,
                dissatisfied=tally.dissatisfied,
                papers_cast=row.papers_cast,
                codes_issued=row.codes_issued,
                share=tally.share,
                flagged=row.flagged,
                reelection_share=row.reelection_share,
                min_turnout=row.min_turnout,
                published=row.status == PUBLISHED,
            )

    def _require_shown(self, row: m.Ballot) -> None:
        # The rules in force at closing decided; they are kept with the ballot.
        kept = rules.ResultRules(
            min_turnout=max(row.min_turnout, 1), reelection_share=row.reelection_share
        )
        kept.require_shown(row.id, closed=row.status != OPEN, cast=row.papers_cast)

    def comments(self, ballot_id: int, actor: Principal | None) -> Any:
        who = require(actor, *COMMENT_READERS, doing="read a ballot's comments")
        with self.db.read() as s:
            row = self._ballot(s, ballot_id)
            if who.role is Role.DEPUTY:
                if who.deputy_id != row.deputy_id:
                    raise PermissionDenied("a deputy reads only the comments of their own ballots")
            else:
                require_streets(who, [row.street_id], "read this ballot's comments")
            self._require_shown(row)
            texts = s.scalars(
                select(m.BallotComment.text).where(m.BallotComment.ballot_id == row.id)
            )
            return pb.BallotComments(ballot_id=row.id, comments=rules.shuffled(texts))
