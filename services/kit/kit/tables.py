"""The platform's own tables, in every service's database.

A service's first migration creates them (`kit.migrations.create_platform_tables`);
the service's own models never declare them. Everything in kit that reads or
writes them imports them from here: the unit of work (`kit.db`), the relay
(`kit.outbox`), the idempotent consumer (`kit.inbox`) and the migrations.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

platform_metadata = MetaData()

_id_type = BigInteger().with_variant(Integer(), "sqlite")

# Events written with the change they describe; the relay publishes them.
outbox_events = Table(
    "outbox_events",
    platform_metadata,
    Column("id", _id_type, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("source", String(50), nullable=False),
    Column("correlation_id", String(64), nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Index(
        "ix_outbox_events_unsent",
        "id",
        postgresql_where=text("sent_at IS NULL"),
        sqlite_where=text("sent_at IS NULL"),
    ),
)

# (event_id, handler) of every event a consumer handled or dead-lettered,
# written in the transaction of the handler's effect.
processed_events = Table(
    "processed_events",
    platform_metadata,
    Column("event_id", String(36), nullable=False),
    Column("handler", String(200), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("outcome", String(20), nullable=False),  # handled | dead_lettered
    Column("processed_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("event_id", "handler"),
)

# Failed attempts of a handler on an event, so the retry count survives restarts.
event_failures = Table(
    "event_failures",
    platform_metadata,
    Column("event_id", String(36), nullable=False),
    Column("handler", String(200), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("event_id", "handler"),
)

# Every change a service made and who made it (kit.audit writes and reads it;
# on PostgreSQL a trigger makes it append-only).
audit_entries = Table(
    "audit_entries",
    platform_metadata,
    Column("id", _id_type, primary_key=True, autoincrement=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor_subject", String(200), nullable=False),
    Column("actor_role", String(40), nullable=False),
    Column("actor_street_id", BigInteger, nullable=True),
    Column("action", String(40), nullable=False),
    Column("record_kind", String(40), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    # Names of the fields that changed, comma separated; never values.
    Column("changed_fields", Text, nullable=False, default=""),
    Column("correlation_id", String(128), nullable=False, default=""),
    Index("ix_audit_entries_record", "record_kind", "record_id"),
    Index("ix_audit_entries_actor", "actor_subject"),
)
