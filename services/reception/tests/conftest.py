"""Fixtures of the reception service's tests: a migrated PostgreSQL database
whose read model holds a small district (`reception.testing`), the service
served over gRPC on a free port, and tokens of a test issuer. Throwaway
databases come from the platform's pytest plugin (kit.pytest_plugin)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from kit.db import Database
from kit.grpc_client import with_bearer
from kit.migrations import upgrade
from kit.testrun import DevTokens, serving, throwaway_database
from liaison.reception.v1 import reception_pb2 as pb
from liaison.reception.v1 import reception_pb2_grpc as pb_grpc
from reception.api import ReceptionServicer
from reception.bootstrap import MIGRATIONS
from reception.readmodel import apply_snapshot
from reception.service import Reception
from reception.settings import ReceptionSettings
from reception.testing import small_district

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ReceptionService"].full_name
TOKENS = DevTokens()
TEST_AUTH = TOKENS.auth
token = TOKENS.token


@dataclass
class Api:
    reception: Reception
    channel: grpc.Channel

    @property
    def db(self) -> Database:
        return self.reception.db

    @property
    def anonymous(self) -> pb_grpc.ReceptionServiceStub:
        return pb_grpc.ReceptionServiceStub(self.channel)

    def as_(self, who: str | dict[str, Any]) -> pb_grpc.ReceptionServiceStub:
        return pb_grpc.ReceptionServiceStub(with_bearer(self.channel, token(who)))


@pytest.fixture(scope="module")
def reception_url(postgres_admin_url: str) -> Iterator[str]:
    """This module's migrated database, its read model holding the small district."""
    with throwaway_database("reception_test", admin_url=postgres_admin_url) as url:
        db = Database(url, "reception")
        try:
            upgrade(db, MIGRATIONS)
            with db.unit_of_work() as uow:
                apply_snapshot(uow.session, small_district())
        finally:
            db.dispose()
        yield url


@pytest.fixture(scope="module")
def api(reception_url: str) -> Iterator[Api]:
    db = Database(reception_url, "reception")
    reception = Reception(db)
    settings = dataclasses.replace(
        ReceptionSettings.load("reception", "api"), database_url=db.url, auth=TEST_AUTH
    )
    try:
        with serving(
            settings,
            register=lambda s: pb_grpc.add_ReceptionServiceServicer_to_server(
                ReceptionServicer(reception), s
            ),
            service_names=[SERVICE_NAME],
            readiness=db.ping,
        ) as (channel, _):
            yield Api(reception, channel)
    finally:
        db.dispose()
