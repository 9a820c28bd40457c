"""The platform's own tables, in every service's database.

A service's first migration creates them (`kit.migrations.create_platform_tables`);
the service's own models never declare them. DDL events attached here make
every way of creating them (a migration, `create_all` in tests) give the same
schema: the one row of `outbox_sequence` and, on PostgreSQL, the trigger that
numbers events. Everything in kit that reads or
writes them imports them from here: the unit of work (`kit.db`), the relay
(`kit.outbox`), the idempotent consumer (`kit.inbox`) and the migrations.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    FetchedValue,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    event,
    text,
)

platform_metadata = MetaData()

# Every service's surrogate keys: BIGINT, INTEGER on SQLite (its rowid).
Id = BigInteger().with_variant(Integer(), "sqlite")
_id_type = Id


def utcnow() -> datetime:
    """Now, in UTC: the default of every timestamp column."""
    return datetime.now(UTC)


# The PostgreSQL channel the outbox trigger notifies to wake a sleeping relay
# (LISTEN/NOTIFY are per database, and a service's database is its own).
WAKEUP_CHANNEL = "liaison_outbox"

# Events written with the change they describe; the relay publishes them.
# `sequence` numbers a service's events 1, 2, 3, ... in commit order, with no
# hole (kit.outbox explains how), and is the key; `body` is the envelope
# without it, since the number is known only once the row is inserted (the
# relay adds it). Two indexes only, since every event is written once and
# marked sent once: the key, and the unsent events in order for the relay.
# `event_id` (a random UUID) has no index: nothing looks an event up by it.
outbox_events = Table(
    "outbox_events",
    platform_metadata,
    # Given by the insert trigger on PostgreSQL, by the unit of work on SQLite.
    Column(
        "sequence", _id_type, primary_key=True, autoincrement=False, server_default=FetchedValue()
    ),
    Column("event_id", String(36), nullable=False),
    Column("type", String(100), nullable=False),
    Column("source", String(50), nullable=False),
    Column("correlation_id", String(64), nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Index(
        "ix_outbox_events_pending",
        "sequence",
        postgresql_where=text("sent_at IS NULL"),
        sqlite_where=text("sent_at IS NULL"),
    ),
)

# The last sequence given to an event of this service: one row, whose lock a
# writing transaction holds from its first event until it commits.
# `wake_after`: the relay, going to sleep, asks to be notified of the first
# event numbered after this (kit.outbox.OutboxWakeup).
outbox_sequence = Table(
    "outbox_sequence",
    platform_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
    Column("wake_after", BigInteger, nullable=False, server_default=text("0")),
    CheckConstraint("id = 1", name="ck_outbox_sequence_one_row"),
)


# PostgreSQL numbers each inserted event itself, in a BEFORE INSERT trigger:
# the counter's row lock, taken there, is held until the transaction ends,
# so a later number always belongs to a later commit, and a rollback gives
# its numbers back. The same trigger wakes a sleeping relay: NOTIFY, sent at
# commit, for the first event after the relay's `wake_after` only.
SEQUENCE_TRIGGER_SQL = (
    f"""
    CREATE OR REPLACE FUNCTION liaison_outbox_sequence() RETURNS trigger AS $$
    DECLARE
      wake bigint;
    BEGIN
      UPDATE outbox_sequence SET value = value + 1 WHERE id = 1
        RETURNING value, wake_after INTO NEW.sequence, wake;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'outbox_sequence has no row';
      END IF;
      IF NEW.sequence = wake + 1 THEN
        PERFORM pg_notify('{WAKEUP_CHANNEL}', '');
      END IF;
      RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER outbox_events_sequence
    BEFORE INSERT ON outbox_events
    FOR EACH ROW EXECUTE FUNCTION liaison_outbox_sequence()
    """,
)
SEQUENCE_TRIGGER_DROP_SQL = (
    "DROP TRIGGER IF EXISTS outbox_events_sequence ON outbox_events",
    "DROP FUNCTION IF EXISTS liaison_outbox_sequence()",
)

# The counter comes with its row and, on PostgreSQL, the trigger (so a
# service whose outbox predates the counter gets both in one step).
outbox_sequence.add_is_dependent_on(outbox_events)
event.listen(
    outbox_sequence, "after_create", DDL("INSERT INTO outbox_sequence (id, value) VALUES (1, 0)")
)
for _statement in SEQUENCE_TRIGGER_SQL:
    event.listen(outbox_sequence, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SEQUENCE_TRIGGER_DROP_SQL:
    event.listen(outbox_sequence, "before_drop", DDL(_statement).execute_if(dialect="postgresql"))

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
