"""Fixtures for kit's tests: throwaway PostgreSQL databases and RabbitMQ names.

Service tests run against the real servers (PostgreSQL and RabbitMQ on
localhost by default; LIAISON_TEST_POSTGRES_URL and LIAISON_TEST_AMQP_URI
point elsewhere). When a server is down the tests fail and say so: they never
skip, since a skipped storage test would hide a broken build.

Every test gets its own database (`kit_test_<hex>`, dropped afterwards) and
its own service name (`kt<hex>`, so its exchange is `kt<hex>.events`); the
queues and exchanges it declares are deleted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import kombu
import psycopg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from kit.db import Database
from kit.outbox import event_exchange_name
from kit.tables import platform_metadata

POSTGRES_URL = os.environ.get(
    "LIAISON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
AMQP_URI = os.environ.get("LIAISON_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")

# A table of the tests' own: the "domain change" a unit of work commits
# together with its events, or the effect of an event handler.
test_metadata = MetaData()
notes = Table(
    "kit_test_notes",
    test_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", String(200), nullable=False),
)


def unique_suffix() -> str:
    return uuid.uuid4().hex[:12]


# ------------------------------------------------------------------ PostgreSQL


def _database_url(name: str) -> str:
    parts = urlsplit(POSTGRES_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _admin() -> psycopg.Connection:
    return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server's admin URL; fails the test when it is down."""
    try:
        with _admin() as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}). These tests need a "
            "running server: start it, or set LIAISON_TEST_POSTGRES_URL.",
            pytrace=False,
        )
    return POSTGRES_URL


@pytest.fixture
def make_database(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Creates empty throwaway databases; drops them when the test ends."""
    created: list[str] = []

    def make() -> str:
        name = f"kit_test_{unique_suffix()}"
        with _admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _database_url(name)

    yield make
    with _admin() as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
def service_name() -> str:
    """A service name of this test's own: its exchange is `<name>.events`."""
    return f"kt{unique_suffix()}"


@pytest.fixture
def db(database_url: str, service_name: str) -> Iterator[Database]:
    """A service database with the platform's tables and the tests' notes table."""
    database = Database(database_url, service_name)
    platform_metadata.create_all(database.engine)
    test_metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def notes_table() -> Table:
    """The tests' own table, created in every `db`."""
    return notes


@pytest.fixture
def count_rows() -> Callable[..., int]:
    """count_rows(db, table, *where): rows of a table matching the conditions."""

    def count(database: Database, table: Table, *where: Any) -> int:
        with database.read() as session:
            query = select(func.count()).select_from(table).where(*where)
            return int(session.execute(query).scalar_one())

    return count


# ------------------------------------------------------------------ RabbitMQ


def _broker_is_up(uri: str, timeout: float = 3.0) -> Exception | None:
    try:
        with kombu.Connection(uri, connect_timeout=timeout) as conn:
            conn.connect()
    except Exception as exc:
        return exc
    return None


@pytest.fixture(scope="session")
def amqp_uri() -> str:
    """The broker's URI; fails the test when RabbitMQ is down."""
    error = _broker_is_up(AMQP_URI)
    if error is not None:
        pytest.fail(
            f"RabbitMQ is not reachable at {AMQP_URI} ({error!r}). These tests need a "
            "running broker: start it, or set LIAISON_TEST_AMQP_URI.",
            pytrace=False,
        )
    return AMQP_URI


@dataclass
class Received:
    body: bytes
    routing_key: str
    properties: dict[str, Any]
    headers: dict[str, Any]


class Broker:
    """Declares, reads and finally deletes a test's queues and exchanges."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.queues: set[str] = set()
        self.exchanges: set[str] = set()
        self._conn: kombu.Connection | None = None
        self._channel: Any = None

    @property
    def channel(self) -> Any:
        if self._conn is None or not self._conn.connected or self._channel is None:
            self.close()
            self._conn = kombu.Connection(self.uri, connect_timeout=5)
            self._conn.connect()
            self._channel = self._conn.channel()
        return self._channel

    def forget_later(
        self, *, queues: tuple[str, ...] = (), exchanges: tuple[str, ...] = ()
    ) -> None:
        """Delete these (declared by the code under test) when the test ends."""
        self.queues.update(queues)
        self.exchanges.update(exchanges)

    def bind_events(self, service: str, routing_key: str = "#", name: str | None = None) -> str:
        """A durable queue bound to `<service>.events`, declared as the relay declares it."""
        exchange = event_exchange_name(service)
        queue = name or f"{service}.test-{unique_suffix()}"
        self.forget_later(queues=(queue,), exchanges=(exchange,))
        self.channel.exchange_declare(
            exchange=exchange, type="topic", durable=True, auto_delete=False
        )
        self.channel.queue_declare(queue=queue, durable=True, auto_delete=False)
        self.channel.queue_bind(queue=queue, exchange=exchange, routing_key=routing_key)
        return queue

    def depth(self, queue: str) -> int | None:
        """Messages ready in the queue, or None when it does not exist."""
        try:
            _, count, _ = self.channel.queue_declare(queue=queue, passive=True)
        except Exception:
            self.close()  # a failed passive declare closes the channel
            return None
        return int(count)

    def get(self, queue: str) -> Received | None:
        message = self.channel.basic_get(queue=queue, no_ack=True)
        if message is None:
            return None
        properties = dict(message.properties)
        body = message.body  # py-amqp decodes it when a content_encoding is set
        return Received(
            body=body.encode() if isinstance(body, str) else bytes(body),
            routing_key=message.delivery_info["routing_key"],
            properties=properties,
            headers=dict(properties.get("application_headers") or {}),
        )

    def take(self, queue: str, count: int, timeout: float = 10.0) -> list[Received]:
        """Exactly `count` messages from the queue (fewer when time runs out)."""
        received: list[Received] = []
        deadline = time.monotonic() + timeout
        while len(received) < count and time.monotonic() < deadline:
            message = self.get(queue)
            if message is None:
                time.sleep(0.02)
            else:
                received.append(message)
        return received

    def drain(self, queue: str, settle: float = 0.3) -> list[Received]:
        """Everything in the queue, waiting `settle` seconds for stragglers."""
        received: list[Received] = []
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < settle:
            message = self.get(queue)
            if message is None:
                time.sleep(0.02)
            else:
                received.append(message)
                quiet_since = time.monotonic()
        return received

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.release()
        self._conn, self._channel = None, None

    def cleanup(self) -> None:
        self.close()
        with kombu.Connection(self.uri, connect_timeout=5) as conn:
            channel = conn.channel()
            for queue in sorted(self.queues):
                try:
                    channel.queue_delete(queue=queue)
                except Exception:
                    channel = conn.channel()
            for exchange in sorted(self.exchanges):
                try:
                    channel.exchange_delete(exchange=exchange)
                except Exception:
                    channel = conn.channel()


@pytest.fixture
def broker(amqp_uri: str) -> Iterator[Broker]:
    helper = Broker(amqp_uri)
    yield helper
    helper.cleanup()


def wait_for_broker(uri: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    error = _broker_is_up(uri)
    while error is not None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"RabbitMQ did not come back at {uri}: {error!r}")
        time.sleep(0.5)
        error = _broker_is_up(uri)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)


@contextlib.contextmanager
def broker_stopped(uri: str) -> Iterator[None]:
    """RabbitMQ's application stopped for the block; always started again after."""
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("this test stops and starts RabbitMQ and needs rabbitmqctl", pytrace=False)
    _rabbitmqctl("stop_app")
    try:
        yield
    finally:
        _rabbitmqctl("start_app")
        wait_for_broker(uri)


@pytest.fixture
def stop_broker(amqp_uri: str) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """`with stop_broker(): ...` runs the block while RabbitMQ is stopped."""
    return lambda: broker_stopped(amqp_uri)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def free_port() -> Callable[[], int]:
    """free_port(): a local TCP port nothing listens on now."""
    return _free_port
