"""Fixtures of the duties service's tests: a migrated PostgreSQL database,
the service served over gRPC on a free port as its bootstrap wires it (the
registry it asks about deputies is `duties.testing`'s, over real gRPC), and
tokens of a test issuer. Throwaway databases come from the platform's
pytest plugin (kit.pytest_plugin)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from duties.api import SERVICE_NAMES, register
from duties.bootstrap import MIGRATIONS, DutiesBootstrap
from duties.settings import DutiesSettings
from duties.testing import FakeRegistry, fake_registry
from kit.db import Database
from kit.grpc_client import with_bearer
from kit.migrations import upgrade
from kit.testrun import DevTokens, field_errors, refused, serving, throwaway_database
from liaison.duties.v1 import duties_pb2_grpc as pb_grpc

TOKENS = DevTokens()
token = TOKENS.token


@dataclass
class Api:
    boot: DutiesBootstrap
    channel: grpc.Channel
    registry: FakeRegistry
    target: str

    refused = staticmethod(refused)
    field_errors = staticmethod(field_errors)

    @staticmethod
    def token(who: str | dict[str, Any]) -> str:
        return token(who)

    @property
    def db(self) -> Database:
        return self.boot.db

    def channel_as(self, who: str | dict[str, Any] | None) -> grpc.Channel:
        """The channel with `who`'s token on every call (None: no token)."""
        return self.channel if who is None else with_bearer(self.channel, token(who))

    def duties(self, who: str | dict[str, Any] | None) -> pb_grpc.DutiesServiceStub:
        return pb_grpc.DutiesServiceStub(self.channel_as(who))


@pytest.fixture(scope="module")
def duties_url(postgres_admin_url: str) -> Iterator[str]:
    """This module's migrated database."""
    with throwaway_database("duties_test", admin_url=postgres_admin_url) as url:
        db = Database(url, "duties")
        try:
            upgrade(db, MIGRATIONS)
        finally:
            db.dispose()
        yield url


@pytest.fixture(scope="module")
def api(duties_url: str) -> Iterator[Api]:
    with fake_registry() as (registry, registry_target):
        settings = dataclasses.replace(
            DutiesSettings.load("duties", "api"),
            database_url=duties_url,
            auth=TOKENS.auth,
            registry_target=registry_target,
        )
        boot = DutiesBootstrap(settings)
        try:
            with serving(
                settings,
                register=lambda server: register(server, boot),
                service_names=SERVICE_NAMES,
                readiness=boot.ready,
            ) as (channel, target):
                yield Api(boot, channel, registry, target)
        finally:
            boot.close()
