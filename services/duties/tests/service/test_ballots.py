"""Report meetings and the secret ballot on a real PostgreSQL: who may do
what, bad input refused with nothing changed, and each case of the threat
model (docs/BALLOTS.md): nothing in the database joins a code to a paper
after closing (every column of every table, the rows' xmin and place, the
raw pages); a code votes once, even in concurrent requests; no result
before closing or below the minimum turnout; staff see nothing of a single
vote; no code and no comment in the logs, the events or the audit trail."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select, text

from duties import ballot_models as m
from duties.ballot_rules import ResultRules, normalise_code
from duties.ballots import Ballots
from duties.bootstrap import MIGRATIONS
from duties.registry import RegistryDeputies
from duties.testing import fake_registry
from kit.auth import Principal, Role
from kit.db import Database
from kit.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from kit.migrations import upgrade
from kit.tables import audit_entries, outbox_events
from kit.testrun import throwaway_database
from liaison.duties.v1 import ballots_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc

pytestmark = pytest.mark.postgres

# duties.testing's registry: deputy 1 serves street 1, deputy 5 street 2,
# deputy 7 no longer serves.
DEPUTY, OTHER_DEPUTY, RETIRED = 1, 5, 7
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
COMMITTEE = Principal("sc-1", Role.STREET_COMMITTEE, street_id=1)
OTHER_COMMITTEE = Principal("sc-2", Role.STREET_COMMITTEE, street_id=2)
STATION = Principal("st-1", Role.STATION_STAFF, street_id=1)
THE_DEPUTY = Principal("dep-1", Role.DEPUTY, deputy_id=DEPUTY)
OTHER = Principal("dep-5", Role.DEPUTY, deputy_id=OTHER_DEPUTY)
ADMIN = Principal("admin", Role.ADMIN)
CONSTITUENT = Principal("c-1", Role.CONSTITUENT)
S, B, D = (
    pb.BALLOT_CHOICE_SATISFIED,
    pb.BALLOT_CHOICE_BASICALLY_SATISFIED,
    pb.BALLOT_CHOICE_DISSATISFIED,
)


@pytest.fixture
def db(postgres_admin_url: str) -> Iterator[Database]:
    """A migrated database of its own: the tests read every table whole."""
    with throwaway_database("duties_ballots", admin_url=postgres_admin_url) as url:
        database = Database(url, "duties")
        try:
            upgrade(database, MIGRATIONS)
            yield database
        finally:
            database.dispose()


@pytest.fixture(scope="module")
def deputies() -> Iterator[RegistryDeputies]:
    with fake_registry() as (_, target):
        channel = grpc.insecure_channel(target)
        try:
            yield RegistryDeputies(rpb_grpc.RegistryServiceStub(channel))
        finally:
            channel.close()


@pytest.fixture
def ballots(db: Database, deputies: RegistryDeputies) -> Ballots:
    return Ballots(
        db,
        deputies,
        result_rules=ResultRules(min_turnout=10, reelection_share=0.6),
        clock=lambda: NOW,
    )


def meeting(ballots: Ballots, deputy: int = DEPUTY, who: Principal = COMMITTEE) -> Any:
    return ballots.schedule(
        pb.ScheduleReportMeetingRequest(
            deputy_id=deputy, held_on="2026-11-20", venue="天河南街党群服务中心"
        ),
        who,
    )


def opened(ballots: Ballots, codes: int) -> tuple[int, list[str]]:
    ballot = ballots.open_ballot(meeting(ballots).id, COMMITTEE)
    issued = ballots.issue_codes(
        pb.IssueBallotCodesRequest(ballot_id=ballot.id, count=codes), STATION
    )
    return ballot.id, list(issued.codes)


def vote(ballots: Ballots, ballot_id: int, code: str, choice: int = S, comment: str = "") -> Any:
    return ballots.cast_vote(
        pb.CastVoteRequest(ballot_id=ballot_id, code=code, choice=choice, comment=comment)
    )


def count(db: Database, table: Any) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


# ---------------------------------------------------------------- meetings


def test_the_street_committee_schedules_its_deputies_meetings_and_records_answers(
    ballots: Ballots, db: Database
) -> None:
    made = meeting(ballots)
    assert (made.street_id, made.year, made.status) == (1, 2026, pb.REPORT_MEETING_STATUS_SCHEDULED)
    recorded = ballots.record_answers(
        pb.RecordAnswersRequest(
            id=made.id,
            questions=[
                pb.ReportQuestion(
                    question="小区加装电梯进展？", answer="已转交住建局，三个月内答复"
                )
            ],
        ),
        COMMITTEE,
    )
    assert [q.question for q in recorded.questions] == ["小区加装电梯进展？"]
    assert ballots.get_meeting(made.id, THE_DEPUTY).questions == recorded.questions
    items, info = ballots.list_meetings(pb.ListReportMeetingsRequest(), STATION)
    assert [i.id for i in items] == [made.id] and info.total_size == 1
    assert ballots.list_meetings(pb.ListReportMeetingsRequest(), OTHER_COMMITTEE)[0] == []
    with db.read() as s:
        kinds = s.scalars(select(outbox_events.c.type)).all()
    assert kinds == ["report_meeting_scheduled"]


def test_a_scheduled_meeting_s_event_names_the_street_the_station_and_the_day(
    ballots: Ballots, db: Database
) -> None:
    """What the notifications service needs to tell the street committee and
    the station's staff (who hand the codes out); no deputy's name."""
    made = meeting(ballots)
    with db.read() as s:
        (body,) = s.scalars(
            select(outbox_events.c.body).where(outbox_events.c.type == "report_meeting_scheduled")
        ).all()
    payload = json.loads(body)["payload"]
    # duties.testing's registry: deputy 1 serves station 1 of street 1.
    assert payload["station_id"] == "1"
    assert (payload["meeting"]["id"], payload["meeting"]["street_id"]) == (str(made.id), "1")
    assert payload["meeting"]["held_on"] == "2026-11-20"
    assert "questions" not in payload["meeting"]
    assert "陈代表" not in json.dumps(payload, ensure_ascii=False)


def test_meetings_are_refused_outside_the_callers_street_and_role(
    ballots: Ballots, db: Database
) -> None:
    with pytest.raises(PermissionDenied, match="street 2 is outside"):
        meeting(ballots, deputy=OTHER_DEPUTY)
    for who in (THE_DEPUTY, STATION, CONSTITUENT):
        with pytest.raises(PermissionDenied):
            meeting(ballots, who=who)
    made = meeting(ballots)
    for who in (OTHER_COMMITTEE, OTHER, CONSTITUENT):
        with pytest.raises(PermissionDenied):
            ballots.get_meeting(made.id, who)
    with pytest.raises(PermissionDenied):
        ballots.record_answers(
            pb.RecordAnswersRequest(
                id=made.id, questions=[pb.ReportQuestion(question="q", answer="a")]
            ),
            OTHER_COMMITTEE,
        )
    assert count(db, m.ReportMeeting) == 1


def test_bad_meetings_name_their_fields(ballots: Ballots, db: Database) -> None:
    with pytest.raises(InvalidArgument) as caught:
        ballots.schedule(pb.ScheduleReportMeetingRequest(held_on="20-11-2026"), COMMITTEE)
    assert {v.field for v in caught.value.violations} == {"deputy_id", "held_on", "venue"}
    with pytest.raises(NotFound, match="no deputy 99"):
        ballots.schedule(
            pb.ScheduleReportMeetingRequest(deputy_id=99, held_on="2026-11-20", venue="x"), ADMIN
        )
    with pytest.raises(FailedPrecondition, match="no longer serves"):
        ballots.schedule(
            pb.ScheduleReportMeetingRequest(deputy_id=RETIRED, held_on="2026-11-20", venue="x"),
            ADMIN,
        )
    made = meeting(ballots)
    with pytest.raises(InvalidArgument) as caught:
        ballots.record_answers(
            pb.RecordAnswersRequest(id=made.id, questions=[pb.ReportQuestion(question="q")]),
            COMMITTEE,
        )
    assert [v.field for v in caught.value.violations] == ["questions[0].answer"]
    assert ballots.get_meeting(made.id, ADMIN).questions == []


def test_a_ballot_opens_once_and_not_before_its_meeting(ballots: Ballots, db: Database) -> None:
    later = ballots.schedule(
        pb.ScheduleReportMeetingRequest(deputy_id=DEPUTY, held_on="2026-12-20", venue="x"),
        COMMITTEE,
    )
    with pytest.raises(FailedPrecondition, match="opens at the meeting"):
        ballots.open_ballot(later.id, COMMITTEE)
    made = meeting(ballots)
    with pytest.raises(PermissionDenied):
        ballots.open_ballot(made.id, OTHER_COMMITTEE)
    ballot = ballots.open_ballot(made.id, COMMITTEE)
    assert ballots.get_meeting(made.id, COMMITTEE).ballot_id == ballot.id
    with pytest.raises(AlreadyExists, match="has its ballot already"):
        ballots.open_ballot(made.id, COMMITTEE)
    assert count(db, m.Ballot) == 1


# ---------------------------------------------------------------- a whole ballot


def test_a_ballot_from_codes_to_its_published_result(ballots: Ballots, db: Database) -> None:
    ballot_id, codes = opened(ballots, 14)
    assert len(set(codes)) == 14 and all(normalise_code(c) for c in codes)
    choices = [S] * 5 + [B] * 2 + [D] * 5
    comments = {0: "多来社区走走", 7: "电梯的事请继续跟进", 11: "回答问题很具体"}
    for n, choice in enumerate(choices):
        typed = codes[n].lower().replace("-", " ") if n % 2 else codes[n]
        vote(ballots, ballot_id, typed, choice, comments.get(n, ""))
    assert ballots.get_ballot(ballot_id, COMMITTEE).papers_cast == 0  # nothing counted while open
    closed = ballots.close(ballot_id, STATION)
    assert (closed.status, closed.papers_cast, closed.codes_issued) == (
        pb.BALLOT_STATUS_CLOSED,
        12,
        14,
    )
    result = ballots.result(ballot_id, THE_DEPUTY)
    assert (result.satisfied, result.basically_satisfied, result.dissatisfied) == (5, 2, 5)
    assert result.share == pytest.approx(7 / 12)
    assert result.flagged and not result.published
    assert sorted(ballots.comments(ballot_id, THE_DEPUTY).comments) == sorted(comments.values())
    assert sorted(ballots.comments(ballot_id, COMMITTEE).comments) == sorted(comments.values())
    for who in (STATION, ADMIN, OTHER, OTHER_COMMITTEE):
        with pytest.raises(PermissionDenied):
            ballots.comments(ballot_id, who)
    with pytest.raises(Unauthenticated):
        ballots.result(ballot_id, None)  # not yet published: readers only
    ballots.publish(ballot_id, COMMITTEE)
    assert ballots.result(ballot_id, None).published  # now anyone's
    with db.read() as s:
        event = s.execute(
            select(outbox_events.c.body).where(outbox_events.c.type == "ballot_published")
        ).scalar_one()
    payload = json.loads(event)["payload"]
    assert payload["flagged"] is True and payload["satisfied"] == 5
    for secret in [*codes, *comments.values()]:
        assert secret not in event


def test_a_result_below_the_minimum_turnout_is_withheld(ballots: Ballots, db: Database) -> None:
    ballot_id, codes = opened(ballots, 12)
    for code in codes[:9]:
        vote(ballots, ballot_id, code, D, "太差")
    with pytest.raises(FailedPrecondition, match="still open"):
        ballots.result(ballot_id, ADMIN)
    with pytest.raises(FailedPrecondition, match="still open"):
        ballots.comments(ballot_id, THE_DEPUTY)
    closed = ballots.close(ballot_id, COMMITTEE)
    assert closed.papers_cast == 9 and not closed.result_shown
    with pytest.raises(FailedPrecondition, match="fewer than the minimum turnout of 10"):
        ballots.result(ballot_id, ADMIN)
    with pytest.raises(FailedPrecondition, match="fewer than the minimum turnout"):
        ballots.comments(ballot_id, THE_DEPUTY)
    ballots.publish(ballot_id, COMMITTEE)
    with pytest.raises(FailedPrecondition, match="fewer than the minimum turnout"):
        ballots.result(ballot_id, None)
    with db.read() as s:
        event = s.execute(
            select(outbox_events.c.body).where(outbox_events.c.type == "ballot_published")
        ).scalar_one()
    payload = json.loads(event)["payload"]
    assert payload["withheld"] is True and payload["papers_cast"] == 9
    assert "dissatisfied" not in payload and "flagged" not in payload


# ---------------------------------------------------------------- bad votes


def test_a_spent_unknown_or_mistyped_code_and_a_vote_after_closing_are_refused(
    ballots: Ballots, db: Database
) -> None:
    ballot_id, codes = opened(ballots, 3)
    other_id, other_codes = opened(ballots, 1)
    vote(ballots, ballot_id, codes[0], S)
    with pytest.raises(FailedPrecondition, match="voted already"):
        vote(ballots, ballot_id, codes[0].lower(), D)
    with pytest.raises(InvalidArgument, match=f"not a code of ballot {ballot_id}"):
        vote(ballots, ballot_id, other_codes[0], D)  # another ballot's code
    with pytest.raises(InvalidArgument) as caught:
        vote(ballots, ballot_id, "NOT-A-CODE", D)
    assert [v.field for v in caught.value.violations] == ["code"]
    with pytest.raises(InvalidArgument) as caught:
        vote(ballots, ballot_id, codes[1], 0)
    assert [v.field for v in caught.value.violations] == ["choice"]
    with pytest.raises(NotFound):
        vote(ballots, 999, codes[1], S)
    assert count(db, m.BallotPaper) == 1 and count(db, m.BallotComment) == 0
    ballots.close(ballot_id, COMMITTEE)
    with pytest.raises(FailedPrecondition, match="takes no more votes"):
        vote(ballots, ballot_id, codes[1], S)
    with pytest.raises(FailedPrecondition, match="closed"):
        ballots.issue_codes(pb.IssueBallotCodesRequest(ballot_id=ballot_id, count=1), COMMITTEE)
    with pytest.raises(FailedPrecondition, match="closed already"):
        ballots.close(ballot_id, COMMITTEE)
    assert ballots.get_ballot(ballot_id, ADMIN).papers_cast == 1


def test_codes_are_issued_only_by_the_streets_staff(ballots: Ballots, db: Database) -> None:
    ballot = ballots.open_ballot(meeting(ballots).id, COMMITTEE)
    for who in (THE_DEPUTY, OTHER_COMMITTEE, CONSTITUENT, Principal("wb", Role.WORKING_BODY)):
        with pytest.raises(PermissionDenied):
            ballots.issue_codes(pb.IssueBallotCodesRequest(ballot_id=ballot.id, count=5), who)
        with pytest.raises(PermissionDenied):
            ballots.close(ballot.id, who)
    with pytest.raises(InvalidArgument) as caught:
        ballots.issue_codes(pb.IssueBallotCodesRequest(ballot_id=ballot.id, count=501), COMMITTEE)
    assert [v.field for v in caught.value.violations] == ["count"]
    assert count(db, m.BallotCode) == 0
    assert ballots.get_ballot(ballot.id, THE_DEPUTY).codes_issued == 0


def test_a_code_votes_once_even_in_concurrent_requests(ballots: Ballots, db: Database) -> None:
    ballot_id, codes = opened(ballots, 20)
    barrier = threading.Barrier(16)

    def race(n: int) -> str:
        barrier.wait()
        try:
            vote(ballots, ballot_id, codes[0], [S, B, D][n % 3])
        except FailedPrecondition:
            return "refused"
        return "counted"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(race, range(16)))
    assert outcomes.count("counted") == 1 and outcomes.count("refused") == 15
    # And sixteen different codes at once all count, once each.
    barrier = threading.Barrier(16)

    def each(n: int) -> None:
        barrier.wait()
        vote(ballots, ballot_id, codes[n + 1], S)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(each, range(16)))
    assert ballots.close(ballot_id, COMMITTEE).papers_cast == 17


# ---------------------------------------------------------------- what is stored


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the database, as a curious admin reads it."""
    with db.read() as s:
        tables = s.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        ).all()
        return {t: [tuple(r) for r in s.execute(text(f'SELECT * FROM "{t}"'))] for t in tables}


def xmins(db: Database, table: str) -> list[int]:
    with db.read() as s:
        return [int(x) for x in s.scalars(text(f"SELECT xmin::text::bigint FROM {table}"))]


def raw_pages(db: Database) -> dict[str, bytes]:
    """Every page of every relation of the schema (tables, indexes, TOAST)."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
        relations = conn.execute(
            text(
                "SELECT c.oid::regclass::text, pg_relation_size(c.oid) / current_setting('block_size')::int "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname IN ('public', 'pg_toast') AND c.relkind IN ('r', 'i', 't') "
                "AND c.relpersistence = 'p'"
            )
        ).all()
        pages = {
            name: b"".join(
                bytes(
                    conn.execute(
                        text("SELECT get_raw_page(:r, :b)"), {"r": name, "b": block}
                    ).scalar_one()
                )
                for block in range(int(blocks))
            )
            for name, blocks in relations
        }
        conn.commit()
    return pages


def test_after_closing_nothing_joins_a_code_to_a_paper(ballots: Ballots, db: Database) -> None:
    ballot_id, codes = opened(ballots, 12)
    for n, code in enumerate(codes):
        vote(ballots, ballot_id, code, [S, B, D][n % 3], f"意见 {n}" if n % 4 == 0 else "")
    # While open, the database's bookkeeping does tie a vote's rows together:
    # the spent code and its paper share a transaction id. This is the
    # residual risk docs/BALLOTS.md names (someone watching the database live).
    with db.read() as s:
        spent = set(s.scalars(text("SELECT xmin::text FROM ballot_codes WHERE spent")))
        papers = set(s.scalars(text("SELECT xmin::text FROM ballot_papers")))
        open_keys = [r.bytes for r in s.scalars(select(m.BallotPaper.id))]
        open_keys += [r.bytes for r in s.scalars(select(m.BallotComment.id))]
        hashes = [bytes(h) for h in s.scalars(select(m.BallotCode.code_hash))]
    assert spent == papers and len(papers) == 12

    ballots.close(ballot_id, COMMITTEE)

    with db.read() as s:
        closing = s.scalar(
            text("SELECT xmin::text::bigint FROM ballots WHERE id = :id"), {"id": ballot_id}
        )
    # Every paper and comment was written by the closing, none by a vote;
    # the codes are gone.
    assert set(xmins(db, "ballot_papers")) == {closing}
    assert set(xmins(db, "ballot_comments")) == {closing}
    assert count(db, m.BallotCode) == 0
    # Every column of every table: no code (as typed or canonical), no code
    # hash, no key a paper or comment had while open, no time on a paper.
    rows = snapshot(db)
    flat = repr(rows)
    for code in codes:
        assert code not in flat and (normalise_code(code) or "") not in flat
    cells = [c for table in rows.values() for r in table for c in r]
    assert not {bytes(c) for c in cells if isinstance(c, bytes | memoryview)} & set(hashes)
    assert not {c.bytes for c in cells if hasattr(c, "bytes") and not isinstance(c, bytes)} & set(
        open_keys
    )
    with db.read() as s:
        columns = {
            (t, c, ty)
            for t, c, ty in s.execute(
                text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_name IN ('ballot_papers', 'ballot_comments', 'ballot_codes')"
                )
            )
        }
    assert {c for _, c, _ in columns} == {"id", "ballot_id", "choice", "text", "code_hash", "spent"}
    assert not [ty for _, _, ty in columns if "time" in ty or ty == "date"]
    # Nor do the raw pages of any relation keep the rows the closing deleted.
    pages = raw_pages(db)
    for secret in [*hashes, *open_keys]:
        assert not [name for name, raw in pages.items() if secret in raw]
    # The papers' places in the heap are in no order the votes made: the
    # closing wrote them shuffled (the tally is all they add up to).
    with db.read() as s:
        by_place = s.scalars(text("SELECT choice FROM ballot_papers ORDER BY ctid")).all()
    assert sorted(by_place) == sorted(
        [["satisfied", "basically_satisfied", "dissatisfied"][n % 3] for n in range(12)]
    )


def test_staff_see_nothing_of_a_single_vote(
    ballots: Ballots, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """No audit entry, event or log line per vote; no code or comment in
    any log line, event or audit entry."""
    ballot_id, codes = opened(ballots, 10)
    audits, events = count(db, audit_entries), count(db, outbox_events)
    caplog.set_level(logging.DEBUG)
    secret_comment = "我住在3栋502，名字不写了"
    for code in codes:
        vote(ballots, ballot_id, code, B, secret_comment)
    with pytest.raises(FailedPrecondition):
        vote(ballots, ballot_id, codes[0], D, secret_comment)
    assert (count(db, audit_entries), count(db, outbox_events)) == (audits, events)
    ballots.close(ballot_id, COMMITTEE)
    ballots.publish(ballot_id, COMMITTEE)
    logged = caplog.text
    with db.read() as s:
        stored = repr(s.execute(select(outbox_events)).all()) + repr(
            s.execute(select(audit_entries)).all()
        )
    for secret in [*codes, secret_comment]:
        assert secret not in logged and secret not in stored


def test_closing_one_ballot_loses_no_vote_of_another_cast_meanwhile(
    ballots: Ballots, db: Database
) -> None:
    closing_id, closing_codes = opened(ballots, 12)
    for code in closing_codes:
        vote(ballots, closing_id, code, S)
    other_id, other_codes = opened(ballots, 120)
    barrier = threading.Barrier(9)

    def voter(n: int) -> int:
        barrier.wait()
        counted = 0
        for code in other_codes[n * 15 : (n + 1) * 15]:
            vote(ballots, other_id, code, D)
            counted += 1
        return counted

    def closer() -> int:
        barrier.wait()
        return int(ballots.close(closing_id, COMMITTEE).papers_cast)

    with ThreadPoolExecutor(9) as pool:
        votes = [pool.submit(voter, n) for n in range(8)]
        closed = pool.submit(closer)
        assert sum(v.result() for v in votes) == 120
        assert closed.result() == 12
    with db.read() as s:
        spent = s.scalar(select(func.count()).select_from(m.BallotCode).where(m.BallotCode.spent))
    assert spent == 120  # the other ballot's codes survived the rewrite, spent
    assert ballots.close(other_id, COMMITTEE).papers_cast == 120


def test_a_ballot_on_sqlite_as_the_local_run_keeps_it(
    tmp_path: Any, deputies: RegistryDeputies
) -> None:
    """The local run's SQLite: the secret tables have no rowid to count the
    votes by, and a ballot runs from codes to its result."""
    db = Database(f"sqlite:///{tmp_path / 'duties.db'}", "duties")
    try:
        upgrade(db, MIGRATIONS)
        with db.read() as s:
            for table in m.SECRET_TABLES:
                sql = s.scalar(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table})
                assert "WITHOUT ROWID" in sql
        local = Ballots(db, deputies, result_rules=ResultRules(min_turnout=3), clock=lambda: NOW)
        ballot_id, codes = opened(local, 4)
        for n, code in enumerate(codes[:3]):
            vote(local, ballot_id, code, [S, B, D][n], "意见" if n == 0 else "")
        with pytest.raises(FailedPrecondition, match="voted already"):
            vote(local, ballot_id, codes[0], S)
        with db.read() as s:
            keys = [k.hex.encode() for k in s.scalars(select(m.BallotPaper.id))]
            hashes = [bytes(h) for h in s.scalars(select(m.BallotCode.code_hash))]
        assert local.close(ballot_id, COMMITTEE).papers_cast == 3
        # Neither the file nor its write-ahead log keeps what the closing removed.
        stored = b"".join(p.read_bytes() for p in tmp_path.glob("duties.db*"))
        assert keys and hashes and not [k for k in [*keys, *hashes] if k in stored]
        result = local.result(ballot_id, ADMIN)
        assert (result.satisfied, result.basically_satisfied, result.dissatisfied) == (1, 1, 1)
        assert local.comments(ballot_id, THE_DEPUTY).comments == ["意见"]
        assert count(db, m.BallotCode) == 0
    finally:
        db.dispose()


def test_codes_issued_while_the_ballot_closes_never_deadlock(
    ballots: Ballots, db: Database
) -> None:
    """Issuing codes and closing take their locks in one order (the tables,
    then the ballot's row): one waits for the other, neither fails."""
    ballot_id, codes = opened(ballots, 5)
    for code in codes:
        vote(ballots, ballot_id, code, S)
    barrier = threading.Barrier(2)

    def issue() -> list[str]:
        barrier.wait()
        outcomes = []
        for _ in range(20):
            try:
                ballots.issue_codes(
                    pb.IssueBallotCodesRequest(ballot_id=ballot_id, count=1), COMMITTEE
                )
                outcomes.append("issued")
            except FailedPrecondition:
                outcomes.append("closed")
        return outcomes

    def close() -> int:
        barrier.wait()
        return int(ballots.close(ballot_id, COMMITTEE).papers_cast)

    with ThreadPoolExecutor(2) as pool:
        issued, closed = pool.submit(issue), pool.submit(close)
        assert closed.result() == 5
        outcomes = issued.result()
    assert set(outcomes) <= {"issued", "closed"} and outcomes[-1] == "closed"
    assert count(db, m.BallotCode) == 0
