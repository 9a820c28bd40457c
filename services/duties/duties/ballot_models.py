"""The tables of duty reports and secret ballots.

- `report_meetings`: a deputy's report meeting (履职报告会): the deputy, their
  street, the day and venue, and the questions asked with their answers.
- `ballots`: one per meeting: its status, how many codes were issued, and,
  from its closing on, the counts and what the rules in force decided
  (shown, flagged).
- `ballot_codes`, `ballot_papers`, `ballot_comments`: the secret part, kept
  apart. A code is its hash and whether it has voted; a paper is a random
  key and a choice; a comment a random key and its text. No timestamp, no
  sequential id, nothing that joins one to another. While a ballot is open
  the database's own bookkeeping still ties a vote's rows together (the
  same transaction id, neighbouring places in the heap): closing rewrites
  the papers and comments in a random order in one transaction, deletes
  the codes, and rewrites the tables (docs/BALLOTS.md). On SQLite (the
  local run) the three are WITHOUT ROWID tables, stored in key order, so no
  hidden rowid counts the votes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from duties.models import Base
from kit.tables import Id

SECRET_TABLE_OPTIONS = {"sqlite_with_rowid": False}


class ReportMeeting(Base):
    __tablename__ = "report_meetings"
    __table_args__ = (
        Index("ix_report_meetings_street_year", "street_id", "year"),
        Index("ix_report_meetings_deputy", "deputy_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    deputy_id: Mapped[int] = mapped_column(BigInteger)
    street_id: Mapped[int] = mapped_column(BigInteger)
    held_on: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    venue: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    # [{"question": ..., "answer": ...}] in the order they were asked.
    questions: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Ballot(Base):
    __tablename__ = "ballots"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(
        ForeignKey("report_meetings.id"), unique=True, index=True
    )
    deputy_id: Mapped[int] = mapped_column(BigInteger, index=True)
    street_id: Mapped[int] = mapped_column(BigInteger)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    codes_issued: Mapped[int] = mapped_column(Integer, default=0)
    # Counted at closing; 0 while open.
    papers_cast: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    basically_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    dissatisfied: Mapped[int] = mapped_column(Integer, default=0)
    # The rules in force at closing, and what they decided.
    min_turnout: Mapped[int] = mapped_column(Integer, default=0)
    reelection_share: Mapped[float] = mapped_column(Float, default=0.0)
    result_shown: Mapped[bool] = mapped_column(Boolean, default=False)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BallotCode(Base):
    """An issued code: its hash (duties.ballot_rules.code_hash) and whether it
    has voted. Deleted when the ballot closes."""

    __tablename__ = "ballot_codes"
    __table_args__ = SECRET_TABLE_OPTIONS

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), primary_key=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    spent: Mapped[bool] = mapped_column(Boolean, default=False)


class BallotPaper(Base):
    """A vote: a random key and a choice, nothing else."""

    __tablename__ = "ballot_papers"
    __table_args__ = (Index("ix_ballot_papers_ballot", "ballot_id"), SECRET_TABLE_OPTIONS)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"))
    choice: Mapped[str] = mapped_column(String(24))


class BallotComment(Base):
    """A vote's comment, apart from its paper: a random key and the text."""

    __tablename__ = "ballot_comments"
    __table_args__ = (Index("ix_ballot_comments_ballot", "ballot_id"), SECRET_TABLE_OPTIONS)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"))
    text: Mapped[str] = mapped_column(Text)


SECRET_TABLES = (BallotCode.__tablename__, BallotPaper.__tablename__, BallotComment.__tablename__)
