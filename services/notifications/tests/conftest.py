"""Fixtures of the notifications service's tests: a migrated PostgreSQL database,
the service served over gRPC on a free port as its bootstrap wires it, and
tokens of a test issuer. Throwaway databases come from the platform's
pytest plugin (kit.pytest_plugin)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from kit.db import Database
from kit.grpc_client import with_bearer
from kit.migrations import upgrade
from kit.testrun import DevTokens, field_errors, refused, serving, throwaway_database
from liaison.notifications.v1 import inbox_pb2_grpc, preferences_pb2_grpc
from liaison.notifications.v1 import notifications_pb2_grpc as pb_grpc
from notifications.api import SERVICE_NAMES, register
from notifications.bootstrap import MIGRATIONS, NotificationsBootstrap
from notifications.settings import NotificationsSettings

TOKENS = DevTokens()
token = TOKENS.token


@dataclass
class Api:
    boot: NotificationsBootstrap
    channel: grpc.Channel
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

    def notifications(self, who: str | dict[str, Any] | None) -> pb_grpc.NotificationsServiceStub:
        return pb_grpc.NotificationsServiceStub(self.channel_as(who))

    def inbox(self, who: str | dict[str, Any] | None) -> inbox_pb2_grpc.InboxServiceStub:
        return inbox_pb2_grpc.InboxServiceStub(self.channel_as(who))

    def preferences(
        self, who: str | dict[str, Any] | None
    ) -> preferences_pb2_grpc.PreferenceServiceStub:
        return preferences_pb2_grpc.PreferenceServiceStub(self.channel_as(who))


@pytest.fixture(scope="module")
def notifications_url(postgres_admin_url: str) -> Iterator[str]:
    """This module's migrated database."""
    with throwaway_database("notifications_test", admin_url=postgres_admin_url) as url:
        db = Database(url, "notifications")
        try:
            upgrade(db, MIGRATIONS)
        finally:
            db.dispose()
        yield url


@pytest.fixture(scope="module")
def db(notifications_url: str) -> Iterator[Database]:
    """This module's migrated database, to write and read rows in."""
    database = Database(notifications_url, "notifications")
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def ruled_db(notifications_url: str) -> Iterator[Database]:
    """This module's migrated database, with the default rules and templates."""
    from notifications.rules_service import RuleBook

    database = Database(notifications_url, "notifications")
    try:
        RuleBook(database).load_defaults()
        yield database
    finally:
        database.dispose()


@contextlib.contextmanager
def serve_api(database_url: str, **settings: Any) -> Iterator[Api]:
    """The api on `database_url` as its bootstrap wires it, with `settings`
    replaced (e.g. the registry's and reception's targets)."""
    replaced = dataclasses.replace(
        NotificationsSettings.load("notifications", "api"),
        database_url=database_url,
        auth=TOKENS.auth,
        **settings,
    )
    boot = NotificationsBootstrap(replaced)
    try:
        with serving(
            replaced,
            register=lambda server: register(server, boot),
            service_names=SERVICE_NAMES,
            readiness=boot.ready,
        ) as (channel, target):
            yield Api(boot, channel, target)
    finally:
        boot.close()


@contextlib.contextmanager
def serve_with_upstreams(database_url: str) -> Iterator[tuple[Api, Any]]:
    """The api on `database_url` with the registry and reception of
    `notifications.conversation_testing`: the api, and that reception."""
    from notifications.conversation_testing import upstreams

    with (
        upstreams() as (reception, registry_target, reception_target),
        serve_api(
            database_url, registry_target=registry_target, reception_target=reception_target
        ) as served,
    ):
        yield served, reception


@pytest.fixture(scope="module")
def api(notifications_url: str) -> Iterator[Api]:
    with serve_api(notifications_url) as served:
        yield served
