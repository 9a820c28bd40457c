"""Database engine, sessions and the unit of work.

One `Database` per service process. A `UnitOfWork` is one transaction: the
domain change and the events it raises (rows of `outbox_events`) commit
together or not at all; `kit.outbox` relays those rows to the broker.

The events a unit of work emits are kept in memory and inserted as its last
statement before COMMIT: numbering them locks the service's event counter
(`outbox_sequence`) until the commit, so the lock is held for that one
statement and the commit only, and a transaction holding it never waits
for another's lock (no deadlock). See kit.outbox on the sequence.

On PostgreSQL the events' INSERT goes to psycopg directly (one statement
for all of them, prepared on the server after a few uses): a unit of work
with events makes one round trip more than one without (the pool's ping,
BEGIN, the change's statements, the events, COMMIT).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Engine, create_engine, event, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from kit.events import Envelope, new_envelope
from kit.tables import outbox_events, outbox_sequence

WRITE_OPTION = "liaison_write"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    # Statement parameters are people's data: never in error messages or logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        # api (threads) and worker (another process) share the file: WAL lets
        # readers run beside the writer, busy_timeout waits out brief locks.
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN; a unit of work
        # takes the write lock at BEGIN (IMMEDIATE) so two writers never
        # deadlock upgrading their locks, while reads stay concurrent.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # As many kept connections as an api has gRPC threads (kit.grpc_server's
    # 16), so a busy api does not open and close one per call beyond the pool.
    kwargs.setdefault("pool_size", 16)
    kwargs.setdefault("max_overflow", 8)
    return create_engine(url, **kwargs)


class Database:
    """A service's database: engine, session factory and units of work."""

    def __init__(self, url: str, service: str, **engine_kwargs: Any) -> None:
        self.url = normalise_url(url)
        self.service = service
        self.engine = make_engine(self.url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self)

    @contextmanager
    def read(self, *, consistent: bool = False) -> Iterator[Session]:
        """A session for queries only; nothing it does is committed.

        `consistent`: every query sees the same snapshot of the database
        (REPEATABLE READ on PostgreSQL; SQLite's read transaction already
        does), for reads of many tables that must agree with each other.
        """
        session = self.sessions()
        if consistent and self.is_postgres:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """One transaction. Use as a context manager; it commits on a clean exit.

    with db.unit_of_work() as uow:
        uow.session.add(deputy)
        uow.emit(events_pb2.DeputyRegistered(deputy=...))
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.session: Session = db.sessions()
        self._committed = False
        self._events: list[Envelope] = []

    def __enter__(self) -> UnitOfWork:
        self.session.begin()
        self.session.connection(execution_options={WRITE_OPTION: True})
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None and not self._committed:
                self.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()

    def emit(self, message: Message, *, event_type: str | None = None) -> str:
        """Record an event to publish once this transaction commits; its id.

        The event is written to the outbox at commit, after every other
        statement of the unit of work, in the order of the emits."""
        envelope = new_envelope(self.db.service, message, event_type=event_type)
        self._events.append(envelope)
        return envelope.event_id

    def _event_rows(self) -> list[tuple[Any, ...]]:
        return [
            (e.event_id, e.type, e.source, e.correlation_id, e.to_json(), e.occurred_at)
            for e in self._events
        ]

    def _write_events_sqlite(self) -> None:
        # One writer at a time (BEGIN IMMEDIATE): number the events here.
        rows = self._event_rows()
        last = self.session.execute(
            update(outbox_sequence)
            .values(value=outbox_sequence.c.value + len(rows))
            .returning(outbox_sequence.c.value)
        ).scalar_one()
        first = last - len(rows) + 1
        self.session.execute(
            outbox_events.insert(),
            [
                dict(zip(_EVENT_COLUMNS, row, strict=True), sequence=first + n, attempts=0)
                for n, row in enumerate(rows)
            ],
        )

    def _write_events_postgres(self) -> None:
        # Straight to the driver: psycopg prepares the statement on the
        # server after a few uses, and a Core insert would cost several
        # times the CPU. (Sending it with COMMIT in one simple query saves a
        # round trip but costs more here: the server parses and plans it
        # each time, and psycopg binds the values on the client.)
        import psycopg  # here, not at import: kit.green patches before psycopg loads

        rows = self._event_rows()
        driver = self.session.connection().connection.driver_connection
        assert driver is not None, "the session's connection is open"
        statement = ""
        try:
            with driver.cursor() as cursor:
                for start in range(0, len(rows), _ROWS_PER_INSERT):  # 6 parameters a row
                    chunk = rows[start : start + _ROWS_PER_INSERT]
                    statement = _insert_events(len(chunk))
                    cursor.execute(statement, [value for row in chunk for value in row])
        except psycopg.Error as exc:
            # As SQLAlchemy would raise it (IntegrityError, ...), values hidden.
            raise DBAPIError.instance(
                statement,
                None,
                exc,
                psycopg.Error,
                hide_parameters=True,
                dialect=self.db.engine.dialect,
            ) from exc

    def write_events(self) -> None:
        """Write the events emitted so far now, numbered, instead of at
        commit. The service's event counter stays locked until this unit of
        work ends: writers of events wait for it."""
        if self._events:
            self.session.flush()
            if self.db.is_postgres:
                self._write_events_postgres()
            else:
                self._write_events_sqlite()
            self._events = []

    def commit(self) -> None:
        self.write_events()  # the domain change first, the events last
        self.session.commit()
        self._committed = True


_EVENT_COLUMNS = ("event_id", "type", "source", "correlation_id", "body", "occurred_at")


_ROWS_PER_INSERT = 1000  # PostgreSQL takes at most 65535 parameters a statement


@functools.lru_cache(maxsize=64)
def _insert_events(count: int) -> str:
    """INSERT of `count` events, with %s for their values (numbered by the
    table's trigger)."""
    values = ", ".join(["(" + ", ".join(["%s"] * len(_EVENT_COLUMNS)) + ", 0)"] * count)
    return f"INSERT INTO outbox_events ({', '.join(_EVENT_COLUMNS)}, attempts) VALUES {values}"
