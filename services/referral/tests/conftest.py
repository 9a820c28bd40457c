"""Fixtures of the referral service's tests: a migrated PostgreSQL database,
the service served over gRPC on a free port, and tokens of a test issuer.
Throwaway databases come from the platform's pytest plugin
(kit.pytest_plugin)."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from kit.db import Database
from kit.grpc_client import with_bearer
from kit.migrations import upgrade
from kit.tables import outbox_events
from kit.testrun import DevTokens, field_errors, refused, serving, throwaway_database
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import departments_pb2_grpc as dpb_grpc
from liaison.referral.v1 import referral_pb2 as pb
from liaison.referral.v1 import referral_pb2_grpc as pb_grpc
from liaison.registry.v1 import registry_pb2 as rpb
from liaison.registry.v1 import registry_pb2_grpc as rpb_grpc
from referral import models
from referral.api import SERVICE_NAME, register
from referral.bootstrap import MIGRATIONS
from referral.department_api import SERVICE_NAME as DEPARTMENTS_SERVICE_NAME
from referral.department_api import DepartmentServicer
from referral.departments import RegistryDepartments
from referral.files import LocalFileStore
from referral.service import OPENER, Referral
from referral.settings import ReferralSettings
from referral.suggestion_api import SUGGESTION_SERVICE_NAME, with_suggestions
from referral.suggestion_service import Suggestions

TOKENS = DevTokens()
token = TOKENS.token


@dataclass
class Api:
    referral: Referral
    channel: grpc.Channel
    departments: DepartmentServicer
    target: str  # the server's address, for clients of their own

    @staticmethod
    def token(who: str | dict[str, Any]) -> str:
        return token(who)

    @property
    def db(self) -> Database:
        return self.referral.db

    @property
    def anonymous(self) -> pb_grpc.ReferralServiceStub:
        return pb_grpc.ReferralServiceStub(self.channel)

    def as_(self, who: str | dict[str, Any]) -> pb_grpc.ReferralServiceStub:
        return pb_grpc.ReferralServiceStub(with_bearer(self.channel, token(who)))

    def department(self, who: str | dict[str, Any]) -> dpb_grpc.DepartmentServiceStub:
        """The departments' own API, as `who`."""
        return dpb_grpc.DepartmentServiceStub(with_bearer(self.channel, token(who)))

    # -- refused calls (test modules do not import conftest: they reach
    # these through the fixture), and what they must leave as it was

    refused = staticmethod(refused)
    field_errors = staticmethod(field_errors)

    def trail_length(self, letter_id: int) -> int:
        with self.db.read() as session:
            return int(
                session.scalar(select(func.count()).where(models.TrailEntry.letter_id == letter_id))
                or 0
            )

    def moved_events(self) -> int:
        return self.events("letter_moved")

    def last_payload(self, kind: str) -> dict[str, Any]:
        """The payload of the newest event of `kind` in the outbox."""
        with self.db.read() as session:
            body = session.scalar(
                select(outbox_events.c.body)
                .where(outbox_events.c.type == kind)
                .order_by(outbox_events.c.sequence.desc())
                .limit(1)
            )
        assert body is not None, f"no {kind} event"
        payload: dict[str, Any] = json.loads(body)["payload"]
        return payload

    def events(self, kind: str) -> int:
        """How many events of `kind` the outbox holds."""
        with self.db.read() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(outbox_events)
                    .where(outbox_events.c.type == kind)
                )
                or 0
            )

    def unchanged(
        self, letter_id: int, call: Callable[[], Any], code: grpc.StatusCode
    ) -> grpc.RpcError:
        """`call` is refused with `code`, and the letter, its trail and the
        outbox are as they were."""
        before = self.as_("admin").GetLetter(pb.GetLetterRequest(id=letter_id))
        entries, events = self.trail_length(letter_id), self.moved_events()
        error = refused(call, code)
        assert self.as_("admin").GetLetter(pb.GetLetterRequest(id=letter_id)) == before
        assert self.trail_length(letter_id) == entries
        assert self.moved_events() == events
        return error


@pytest.fixture(scope="module")
def referral_url(postgres_admin_url: str) -> Iterator[str]:
    """This module's migrated database."""
    with throwaway_database("referral_test", admin_url=postgres_admin_url) as url:
        db = Database(url, "referral")
        try:
            upgrade(db, MIGRATIONS)
        finally:
            db.dispose()
        yield url


# The registry's units as the referral service asks them (GetUnit): the
# demo's housing and transport bureaux, a street committee, a department
# no longer active, and the departments the departments' API's tests use.
UNITS = {
    52: rpb.Unit(id=52, name="天河区住房和城乡建设局", kind=rpb.UNIT_KIND_DEPARTMENT, active=True),
    53: rpb.Unit(id=53, name="天河区交通运输局", kind=rpb.UNIT_KIND_DEPARTMENT, active=True),
    9: rpb.Unit(id=9, name="五山街道人大工委", kind=rpb.UNIT_KIND_STREET_COMMITTEE, active=True),
    70: rpb.Unit(id=70, name="已撤销的局", kind=rpb.UNIT_KIND_DEPARTMENT, active=False),
    # The departments' own API's tests: water, roads, parks.
    61: rpb.Unit(id=61, name="天河区水务局", kind=rpb.UNIT_KIND_DEPARTMENT, active=True),
    62: rpb.Unit(id=62, name="天河区道路管理所", kind=rpb.UNIT_KIND_DEPARTMENT, active=True),
    71: rpb.Unit(id=71, name="天河区园林所", kind=rpb.UNIT_KIND_DEPARTMENT, active=True),
}


class RegistryUnits(rpb_grpc.RegistryServiceServicer):
    """The registry's public GetUnit, over gRPC, for these units only."""

    def GetUnit(self, request: rpb.GetRequest, context: grpc.ServicerContext) -> rpb.Unit:
        if request.id not in UNITS:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no unit {request.id}")
        return UNITS[request.id]


@pytest.fixture(scope="module")
def registry_stub() -> Iterator[Any]:
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    rpb_grpc.add_RegistryServiceServicer_to_server(RegistryUnits(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield rpb_grpc.RegistryServiceStub(channel)
    finally:
        channel.close()
        server.stop(0).wait()


@pytest.fixture(scope="module")
def api(
    referral_url: str, tmp_path_factory: pytest.TempPathFactory, registry_stub: Any
) -> Iterator[Api]:
    db = Database(referral_url, "referral")
    referral = Referral(
        db,
        files=LocalFileStore(tmp_path_factory.mktemp("files")),
        max_file_bytes=64 * 1024,
        departments=RegistryDepartments(registry_stub),
    )
    settings = dataclasses.replace(
        ReferralSettings.load("referral", "api"), database_url=db.url, auth=TOKENS.auth
    )
    # Two watches at most, looking every 0.1 s: the tests fill them quickly.
    departments = DepartmentServicer(referral, max_watches=2, poll=0.1)
    try:
        with serving(
            settings,
            register=lambda s: register(
                with_suggestions(s, Suggestions(db)), referral, departments
            ),
            service_names=[SERVICE_NAME, SUGGESTION_SERVICE_NAME, DEPARTMENTS_SERVICE_NAME],
            readiness=db.ping,
            on_stop=departments.drain,
        ) as (channel, target):
            yield Api(referral, channel, departments, target)
    finally:
        db.dispose()


_opinion_ids = itertools.count(500_000)


@pytest.fixture
def open_letter(api: Api) -> Callable[..., int]:
    """Open a letter of street 1 as the worker opens one from
    `opinion_handed_on` (taken by the demo deputy unless `deputy` says); its id."""

    def open_one(*, deputy: int = 1, street_id: int = 1, raiser_sub: str = "") -> int:
        opinion_id = next(_opinion_ids)
        facts = rev.OpinionFacts(
            id=opinion_id,
            tracking_code=f"TH-2026-{opinion_id:06d}",
            source=opb.OPINION_SOURCE_RECEPTION,
            category=opb.OPINION_CATEGORY_PROPERTY,
            content="老旧小区外墙脱落，需要维修",
            community_id=3,
            community_name="测试社区",
            station_id=2,
            street_id=street_id,
            taken_by_deputy_id=deputy,
        )
        with api.db.unit_of_work() as uow:
            letter = api.referral.open_from_opinion(uow, OPENER, facts, "请街道研究", raiser_sub)
        assert letter is not None
        return int(letter.id)

    return open_one


@pytest.fixture
def to_assignment(api: Api, open_letter: Callable[..., int]) -> Callable[[], int]:
    """Open a letter of street 1 and take it the district's way to the
    government office's assignment; its id."""

    def take() -> int:
        letter_id = open_letter()
        api.as_("street-committee").DecideJurisdiction(
            pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_DISTRICT)
        )
        api.as_("working-body").ReviewLetter(
            pb.ReviewLetterRequest(letter_id=letter_id, accept=True)
        )
        api.as_("standing-committee-office").DispatchLetter(
            pb.DispatchLetterRequest(letter_id=letter_id)
        )
        return letter_id

    return take
