"""The notifications service's tables (SQLAlchemy 2). No other service reads them.

Each part of the service keeps its tables in a module of its own on this
`Base`, imported below so that the migrations see every table. Besides them,
the platform's tables (outbox, inbox, audit: kit.tables) are made by the
first migration.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


# Each part's tables, on Base (imported for their side effect).
from notifications import (  # noqa: E402, F401
    calendar_models,
    conversation_models,
    message_models,
    preference_models,
    rule_models,
    template_models,
)
