"""The duties service's tables (SQLAlchemy 2). No other service reads them.

Each part of the service keeps its tables in a module of its own on this
`Base`, imported below so that the migrations see every table. Besides them,
the platform's tables (outbox, inbox, audit: kit.tables) are made by the
first migration.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# Each part's tables (imported last: they build on Base): activities, research
# and visits; report meetings and ballots; the duty record and ratings; the
# report plan and learning materials.
from duties import (  # noqa: E402, F401
    activity_models,
    ballot_models,
    record_models,
    scorecard_models,
)
