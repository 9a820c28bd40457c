"""Fixtures of the registry's tests: the demo district's database (built
once as a template, copied per module), a real gRPC server hosting the
registry on a free port, helpers to read the outbox and the error details
of a failed call, and hostile roster workbooks. Throwaway databases come
from the platform's pytest plugin (kit.pytest_plugin); they never skip.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from grpc_status import rpc_status
from sqlalchemy import func, select

from kit.db import Database
from kit.errors import FieldViolation, violations_from_status
from kit.grpc_client import with_bearer
from kit.grpc_server import build_server
from kit.migrations import is_current, upgrade
from kit.settings import Settings
from kit.tables import outbox_events
from kit.testrun import DevTokens, throwaway_database
from liaison.registry.v1 import registry_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as pb_grpc
from registry.api import RegistryServicer
from registry.bootstrap import MIGRATIONS
from registry.demo_data import District, build_district
from registry.loading import Loader
from registry.service import Registry
from registry.testing import HostileRosters

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["RegistryService"].full_name

# Tokens of the development issuer, with a secret of this test run.
TOKENS = DevTokens()
TEST_AUTH = TOKENS.auth
token = TOKENS.token


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def demo_template_url(postgres_admin_url: str) -> Iterator[str]:
    """A migrated database with the demo district loaded, once per run;
    modules work on copies of it (CREATE DATABASE ... TEMPLATE)."""
    with throwaway_database("registry_demo", admin_url=postgres_admin_url) as url:
        db = Database(url, "registry")
        try:
            upgrade(db, MIGRATIONS)
            Loader(Registry(db)).load_district(build_district())
        finally:
            db.dispose()  # a template must have no connections
        yield url


@pytest.fixture(scope="module")
def demo_pg_url(demo_template_url: str, postgres_admin_url: str) -> Iterator[str]:
    """This module's own copy of the demo district's database."""
    with throwaway_database(
        "registry_test", template=demo_template_url, admin_url=postgres_admin_url
    ) as url:
        yield url


@pytest.fixture
def migrated_registry(database_url: str) -> Iterator[Registry]:
    """A registry over a freshly migrated, empty database (one test)."""
    db = Database(database_url, "registry")
    upgrade(db, MIGRATIONS)
    try:
        yield Registry(db)
    finally:
        db.dispose()


# ---------------------------------------------------------------- the server


@dataclass
class Api:
    """A running registry gRPC server with the demo district loaded."""

    stub: pb_grpc.RegistryServiceStub  # calls as the admin
    registry: Registry
    district: District
    channel: grpc.Channel  # no token: an anonymous caller

    @property
    def db(self) -> Database:
        return self.registry.db

    @property
    def anonymous(self) -> pb_grpc.RegistryServiceStub:
        return pb_grpc.RegistryServiceStub(self.channel)

    def as_(self, who: str | dict[str, Any]) -> pb_grpc.RegistryServiceStub:
        """A stub calling as a demo account (by name) or with any claims."""
        return pb_grpc.RegistryServiceStub(with_bearer(self.channel, token(who)))

    # -- the outbox

    def outbox_mark(self) -> int:
        """The sequence of the newest event: events after it are new."""
        with self.db.read() as session:
            query = select(func.coalesce(func.max(outbox_events.c.sequence), 0))
            return int(session.scalar(query))

    def events_since(self, mark: int) -> list[tuple[str, dict[str, Any], str]]:
        """(type, payload, raw body) of every outbox row written after `mark`."""
        with self.db.read() as session:
            rows = session.execute(
                select(outbox_events.c.type, outbox_events.c.body)
                .where(outbox_events.c.sequence > mark)
                .order_by(outbox_events.c.sequence)
            ).all()
        found = []
        for type_, body in rows:
            parsed = json.loads(body)
            assert parsed["type"] == type_
            assert parsed["source"] == "registry"
            found.append((type_, parsed["payload"], body))
        return found

    def count(self, model: type[Any]) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


@dataclass
class RpcFailure:
    code: grpc.StatusCode
    message: str
    violations: list[FieldViolation]
    details: list[Any]  # the google.protobuf.Any details of the status

    @property
    def fields(self) -> set[str]:
        return {v.field for v in self.violations}

    def detail(self, message_type: type[Message]) -> Message | None:
        for any_detail in self.details:
            if any_detail.Is(message_type.DESCRIPTOR):
                found = message_type()
                any_detail.Unpack(found)
                return found
        return None


def fails(call: Callable[..., Any], request: Message) -> RpcFailure:
    """Make a call that must fail; its status code, message and details."""
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=30)
    error = caught.value
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return RpcFailure(error.code(), error.details() or "", [], [])  # type: ignore[attr-defined]
    return RpcFailure(
        error.code(), status.message, violations_from_status(status), list(status.details)
    )  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def rpc_fails() -> Callable[[Callable[..., Any], Message], RpcFailure]:
    return fails


def start_server(registry: Registry) -> tuple[grpc.Server, Any, int]:
    settings = dataclasses.replace(
        Settings.load("registry", "api"),
        database_url=registry.db.url,
        grpc_port=0,
        auth=TEST_AUTH,
    )
    db = registry.db
    server, health = build_server(
        settings,
        register=lambda s: pb_grpc.add_RegistryServiceServicer_to_server(
            RegistryServicer(registry), s
        ),
        service_names=[SERVICE_NAME],
        readiness=lambda: db.ping() and is_current(db, MIGRATIONS),
        max_workers=8,
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, health, port


@pytest.fixture(scope="module")
def api(demo_pg_url: str) -> Iterator[Api]:
    """The registry over this module's database holding the demo district,
    served over gRPC on a free port."""
    db = Database(demo_pg_url, "registry")
    registry = Registry(db)
    district = build_district()
    server, health, port = start_server(registry)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=10)
    try:
        admin = pb_grpc.RegistryServiceStub(with_bearer(channel, token("admin")))
        yield Api(admin, registry, district, channel)
    finally:
        channel.close()
        health.stop()
        server.stop(0).wait()
        db.dispose()


# ---------------------------------------------------------------- hostile rosters


@pytest.fixture(scope="session")
def hostile() -> type[HostileRosters]:
    """Builders of workbooks made to exhaust a roster parser."""
    return HostileRosters
