"""A real gRPC server in the test process, hosting an in-memory registry.

The registry is outside the gateway's bounded context, so the tests fake it at
the gRPC seam: the gateway's client, metadata, deadlines and error details all
go over a real channel.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from kit.errors import (
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    to_rpc_status,
)
from liaison.common.v1 import auth_pb2, envelope_pb2
from liaison.duties.v1 import duties_pb2_grpc
from liaison.notifications.v1 import notifications_pb2_grpc
from liaison.reception.v1 import reception_pb2_grpc, rota_pb2
from liaison.referral.v1 import referral_pb2, referral_pb2_grpc, suggestions_pb2_grpc
from liaison.referral.v1 import suggestions_pb2 as spb
from liaison.registry.v1 import registry_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc

# pytest's importlib mode names this file `gateway.tests.conftest` and, to do
# so, registers the folder gateway/ as a namespace package `gateway`, which
# shadows the real package in gateway/gateway/. Give that module both folders
# so `gateway.tests` and `gateway.app` resolve alike.
_shadow = sys.modules.get("gateway")
_real_package = str(Path(__file__).resolve().parents[1] / "gateway")
if _shadow is not None and getattr(_shadow, "__file__", None) is None:
    _shadow.__path__ = [*list(_shadow.__path__), _real_package]

from gateway.app import create_app  # noqa: E402
from gateway.config import GatewaySettings  # noqa: E402
from kit.auth import AuthSettings  # noqa: E402

# The development issuer, with a secret of this test run.
TEST_AUTH = AuthSettings(env="test", dev_issuer=True).with_secret()

# kind -> (message class, singular, plural, list field)
KINDS: dict[str, tuple[type[Message], str, str, str]] = {
    "street": (pb.Street, "Street", "Streets", "streets"),
    "area": (pb.Area, "Area", "Areas", "areas"),
    "community": (pb.Community, "Community", "Communities", "communities"),
    "venue": (pb.Venue, "Venue", "Venues", "venues"),
    "station": (pb.Station, "Station", "Stations", "stations"),
    "unit": (pb.Unit, "Unit", "Units", "units"),
    "deputy": (pb.Deputy, "Deputy", "Deputies", "deputies"),
    "position": (pb.Position, "Position", "Positions", "positions"),
    "budget_line": (pb.BudgetLine, "BudgetLine", "BudgetLines", "budget_lines"),
}
# List request filters that the fake applies when non-zero.
FILTERS = (
    "street_id",
    "area_id",
    "unit_id",
    "station_id",
    "deputy_id",
    "year",
    "kind",
    "level",
    "role",
)


@dataclass
class Call:
    method: str
    request: Message
    metadata: dict[str, str]


@dataclass
class Failure:
    status: status_pb2.Status


@dataclass
class FakeRegistry(registry_pb2_grpc.RegistryServiceServicer):
    records: dict[str, dict[int, Message]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, status_pb2.Status] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    roster: bytes = b"code,name\nd1,One\n"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for kind, (_, singular, plural, list_field) in KINDS.items():
            self._bind(f"List{plural}", self._list(kind, list_field))
            self._bind(f"Get{singular}", self._get(kind))
            create = "FillPosition" if kind == "position" else f"Create{singular}"
            self._bind(create, self._create(kind))
            self._bind(f"Update{singular}", self._update(kind))
            if kind != "position":
                self._bind(f"Deactivate{singular}", self._deactivate(kind))
        for name in (
            "GetDeputyProfile",
            "VacatePosition",
            "CheckBudgets",
            "FindStation",
            "ImportRoster",
            "ExportRoster",
            "ListAuditEntries",
        ):
            self._bind(name, getattr(self, f"_{name}"))
        self.reset()

    # ------------------------------------------------------------ plumbing

    def _bind(self, method: str, handler: Callable[[Any], Message]) -> None:
        def rpc(request: Message, context: grpc.ServicerContext) -> Message:
            metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
            with self.lock:
                self.calls.append(Call(method, request, metadata))
                failure = self.failures.pop(method, None)
                delay = self.delays.get(method, 0.0)
            if delay:
                time.sleep(delay)
            if failure is not None:
                context.abort_with_status(rpc_status.to_status(failure))
            try:
                with self.lock:
                    return handler(request)
            except DomainError as error:
                context.abort_with_status(rpc_status.to_status(to_rpc_status(error, "registry")))
                raise  # unreachable: abort raises

        setattr(self, method, rpc)

    def fail(self, method: str, code: grpc.StatusCode, message: str, *details: Message) -> None:
        packed = []
        for detail in details:
            any_detail = any_pb2.Any()
            any_detail.Pack(detail)
            packed.append(any_detail)
        self.failures[method] = status_pb2.Status(
            code=getattr(code_pb2, code.name), message=message, details=packed
        )

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def writes(self) -> list[Call]:
        prefixes = ("Create", "Update", "Deactivate", "Fill", "Vacate", "Import")
        return [c for c in self.calls if c.method.startswith(prefixes)]

    def add(self, record_kind: str, /, **values: Any) -> Message:
        kind = record_kind
        cls = KINDS[kind][0]
        record = cls(**values)
        if "active" in cls.DESCRIPTOR.fields_by_name and "active" not in values:
            record.active = True  # type: ignore[attr-defined]
        self.records[kind][record.id] = record  # type: ignore[attr-defined]
        return record

    def reset(self) -> None:
        self.records = {kind: {} for kind in KINDS}
        self.calls.clear()
        self.failures.clear()
        self.delays.clear()
        self.add("street", id=1, code="linhe", name="林和街道")
        self.add("street", id=2, code="tangxia", name="棠下街道")
        self.add("area", id=1, code="linhe-a", name="林和片区一", street_id=1)
        self.add("area", id=2, code="tangxia-a", name="棠下片区一", street_id=2)
        self.add(
            "community", id=1, code="linhe-east", name="林和东社区", street_id=1, area_id=1,
            address_keywords=["林和东路"],
        )  # fmt: skip
        self.add("venue", id=1, code="linhe-v1", name="林和联络站场地", street_id=1, capacity=40)
        self.add(
            "station", id=1, code="linhe-1", name="林和街第一联络站", area_id=1, street_id=1,
            venue_id=1, community_ids=[1], opened_on="2013-05-01",
        )  # fmt: skip
        self.add("station", id=2, code="tangxia-1", name="棠下街第一联络站", area_id=2, street_id=2)
        self.add(
            "unit", id=1, code="linhe-sc", name="林和街道工委",
            kind=pb.UNIT_KIND_STREET_COMMITTEE, street_id=1,
        )  # fmt: skip
        self.add(
            "unit", id=2, code="tangxia-sc", name="棠下街道工委",
            kind=pb.UNIT_KIND_STREET_COMMITTEE, street_id=2,
        )  # fmt: skip
        self.add(
            "unit",
            id=3,
            code="sco",
            name="常委会办公室",
            kind=pb.UNIT_KIND_STANDING_COMMITTEE_OFFICE,
        )
        self.add(
            "deputy", id=1, code="D001", name="张三", gender="男", level=pb.DEPUTY_LEVEL_DISTRICT,
            street_id=1, station_id=1, expertise=["城市管理"],
            contact=pb.DeputyContact(phone="13800000001", email="z@example.org"),
        )  # fmt: skip
        self.add(
            "deputy", id=2, code="D002", name="李四", gender="女", level=pb.DEPUTY_LEVEL_CITY,
            street_id=2, station_id=2, contact=pb.DeputyContact(phone="13800000002"),
        )  # fmt: skip
        self.add(
            "position", id=1, role=pb.POSITION_ROLE_STATION_HEAD, station_id=1, deputy_id=1,
            holder_name="张三", started_on="2022-01-01",
        )  # fmt: skip
        self.add(
            "position", id=2, role=pb.POSITION_ROLE_STREET_DIRECTOR, unit_id=2,
            holder_name="王五", started_on="2021-01-01",
        )  # fmt: skip
        self.add(
            "budget_line", id=1, unit_id=1, year=2024, kind=pb.BUDGET_LINE_KIND_PERSONNEL,
            amount_yuan=70000,
        )  # fmt: skip
        self.add(
            "budget_line", id=2, unit_id=2, year=2024, kind=pb.BUDGET_LINE_KIND_OPERATIONS,
            amount_yuan=300000,
        )  # fmt: skip

    def _find(self, kind: str, record_id: int) -> Message:
        record = self.records[kind].get(record_id)
        if record is None:
            from kit.errors import NotFound

            raise NotFound(f"{kind} {record_id} not found")
        return record

    # ------------------------------------------------------------ generic CRUD

    def _list(self, kind: str, list_field: str) -> Callable[[Any], Message]:
        response_cls = getattr(pb, f"List{KINDS[kind][2]}Response")

        def handler(request: Any) -> Message:
            items = sorted(self.records[kind].values(), key=lambda r: r.id)
            if not getattr(request, "include_inactive", False) and kind != "position":
                items = [r for r in items if r.active]
            if kind == "position" and not request.include_ended:
                items = [r for r in items if not r.ended_on]
            for name in FILTERS:
                if name in request.DESCRIPTOR.fields_by_name and getattr(request, name):
                    if name == "street_id" and kind == "position":
                        continue
                    items = [r for r in items if getattr(r, name) == getattr(request, name)]
            size = request.page.page_size or 50
            token = request.page.page_token or "0"
            if not (token.isascii() and token.isdigit()):
                # As the registry answers a token it did not give out.
                raise InvalidArgument(
                    "bad page token", [FieldViolation("page.page_token", "is not a page token")]
                )
            offset = int(token)
            page = items[offset : offset + size]
            next_token = str(offset + size) if offset + size < len(items) else ""
            return response_cls(
                **{list_field: page},
                page=envelope_pb2.PageInfo(next_page_token=next_token, total_size=len(items)),
            )

        return handler

    def _get(self, kind: str) -> Callable[[Any], Message]:
        return lambda request: self._find(kind, request.id)

    def _create(self, kind: str) -> Callable[[Any], Message]:
        def handler(request: Any) -> Message:
            record = getattr(request, kind)
            code = getattr(record, "code", None)
            if code is not None and not code:
                raise InvalidArgument(
                    "code is required", [FieldViolation(f"{kind}.code", "is required")]
                )
            if code and any(r.code == code for r in self.records[kind].values()):
                from kit.errors import AlreadyExists

                raise AlreadyExists(f"{kind} {code} exists")
            new = type(record)()
            new.CopyFrom(record)
            new.id = max(self.records[kind], default=0) + 1
            if "active" in new.DESCRIPTOR.fields_by_name:
                new.active = True
            if kind == "station":
                new.street_id = self._find("area", new.area_id).street_id
            self.records[kind][new.id] = new
            return new

        return handler

    def _update(self, kind: str) -> Callable[[Any], Message]:
        def handler(request: Any) -> Message:
            change = getattr(request, kind)
            record = self._find(kind, change.id)
            for path in request.update_mask.paths:
                record.ClearField(path)
                if change.DESCRIPTOR.fields_by_name[path].is_repeated:
                    getattr(record, path).extend(getattr(change, path))
                elif change.DESCRIPTOR.fields_by_name[path].message_type is not None:
                    getattr(record, path).CopyFrom(getattr(change, path))
                else:
                    setattr(record, path, getattr(change, path))
            return record

        return handler

    def _deactivate(self, kind: str) -> Callable[[Any], Message]:
        def handler(request: Any) -> Message:
            record = self._find(kind, request.id)
            if not request.reason:
                raise InvalidArgument(
                    "reason is required", [FieldViolation("reason", "is required")]
                )
            record.active = False
            record.deactivation.reason = request.reason
            record.deactivation.deactivated_at.GetCurrentTime()
            return record

        return handler

    # ------------------------------------------------------------ the rest

    def _GetDeputyProfile(self, request: Any) -> Message:
        deputy = self._find("deputy", request.id)
        street = self._find("street", deputy.street_id)
        return pb.DeputyProfile(
            id=deputy.id, code=deputy.code, name=deputy.name, gender=deputy.gender,
            level=deputy.level, street_id=deputy.street_id, street_name=street.name,
            station_id=deputy.station_id, expertise=deputy.expertise, active=deputy.active,
        )  # fmt: skip

    def _VacatePosition(self, request: Any) -> Message:
        position = self._find("position", request.id)
        position.ended_on = request.ended_on or "2024-06-30"
        position.end_reason = request.reason
        return position

    def _CheckBudgets(self, request: Any) -> Message:
        checks = []
        for unit in self.records["unit"].values():
            if unit.kind != pb.UNIT_KIND_STREET_COMMITTEE:
                continue
            if request.unit_id and unit.id != request.unit_id:
                continue
            lines = [
                b for b in self.records["budget_line"].values()
                if b.unit_id == unit.id and b.year == request.year
            ]  # fmt: skip
            total = sum(b.amount_yuan for b in lines)
            checks.append(
                pb.StreetBudgetCheck(
                    unit_id=unit.id, unit_name=unit.name, year=request.year,
                    personnel_yuan=sum(b.amount_yuan for b in lines if b.kind == 1),
                    operations_yuan=sum(b.amount_yuan for b in lines if b.kind == 2),
                    total_yuan=total, minimum_yuan=370000, meets_minimum=total >= 370000,
                    shortfall_yuan=max(0, 370000 - total),
                )
            )  # fmt: skip
        return pb.CheckBudgetsResponse(checks=checks)

    def _FindStation(self, request: Any) -> Message:
        by = request.WhichOneof("by")
        communities = list(self.records["community"].values())
        if by == "community_id":
            found = [c for c in communities if c.id == request.community_id]
        elif by == "community_code":
            found = [c for c in communities if c.code == request.community_code]
        else:
            found = [
                c for c in communities
                if any(k in request.address for k in c.address_keywords)
            ]  # fmt: skip
        if not found:
            from kit.errors import NotFound

            raise NotFound("no community matches")
        community = found[0]
        station = next(
            (s for s in self.records["station"].values() if community.id in s.community_ids),
            None,
        )
        if station is None:
            from kit.errors import NotFound

            raise NotFound("no station serves the community")
        deputies = [
            pb.StationDeputy(
                deputy=self._GetDeputyProfile(pb.GetRequest(id=d.id)), is_station_head=True
            )
            for d in self.records["deputy"].values()
            if d.station_id == station.id
        ]
        return pb.FindStationResponse(
            community=community, station=station,
            venue=self.records["venue"].get(station.venue_id),
            street=self.records["street"][station.street_id], deputies=deputies,
        )  # fmt: skip

    def _ImportRoster(self, request: Any) -> Message:
        if b"bad" in request.content:
            # Like the registry: the rows as field violations and as row errors.
            raise InvalidArgument(
                "2 bad rows",
                [
                    FieldViolation("row 2: level", "unknown level"),
                    FieldViolation("row 3: street", "no such street"),
                ],
                details=[
                    pb.RosterImportErrors(
                        errors=[
                            pb.RosterRowError(row=2, column="level", reason="unknown level"),
                            pb.RosterRowError(row=3, column="street", reason="no such street"),
                        ]
                    )
                ],
            )
        rows = request.content.count(b"\n")
        return pb.ImportRosterResponse(created=rows, updated=0)

    def _ListAuditEntries(self, request: Any) -> Message:
        # Who wrote through this fake, as the registry's audit would say.
        entries = [
            auth_pb2.AuditEntry(id=i, action=c.method, actor_subject="test", actor_role="admin")
            for i, c in enumerate(self.writes(), start=1)
        ]
        return auth_pb2.ListAuditEntriesResponse(
            entries=entries[: request.page.page_size or 50],
            page=envelope_pb2.PageInfo(total_size=len(entries)),
        )

    def _ExportRoster(self, request: Any) -> Message:
        if request.format == pb.ROSTER_FORMAT_XLSX:
            return pb.ExportRosterResponse(
                content=b"PK\x03\x04fake",
                filename="代表名册.xlsx",
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        return pb.ExportRosterResponse(
            content=self.roster, filename="deputies.csv", content_type="text/csv; charset=utf-8"
        )


@contextlib.contextmanager
def reception_database(admin_url: str, name: str) -> Iterator[Any]:
    """A throwaway PostgreSQL database of the real reception service,
    migrated, holding its small district (reception.testing)."""
    from kit.db import Database
    from kit.migrations import upgrade
    from kit.testrun import throwaway_database
    from reception.bootstrap import MIGRATIONS
    from reception.readmodel import apply_snapshot
    from reception.testing import small_district

    with throwaway_database(name, admin_url=admin_url) as url:
        db = Database(url, "reception")
        upgrade(db, MIGRATIONS)
        with db.unit_of_work() as uow:
            apply_snapshot(uow.session, small_district())
        try:
            yield db
        finally:
            db.dispose()


@contextlib.contextmanager
def reception_api(db: Any) -> Iterator[str]:
    """The real reception service's gRPC API over `db`, in this process; its target."""
    from kit.grpc_server import build_server
    from liaison.reception.v1 import reception_pb2 as rpb
    from reception.api import ReceptionServicer
    from reception.service import Reception
    from reception.settings import ReceptionSettings

    settings = dataclasses.replace(
        ReceptionSettings.load("reception", "api"),
        database_url=db.url,
        grpc_port=0,
        auth=TEST_AUTH,
    )
    server, health = build_server(
        settings,
        register=lambda s: reception_pb2_grpc.add_ReceptionServiceServicer_to_server(
            ReceptionServicer(Reception(db)), s
        ),
        service_names=[rpb.DESCRIPTOR.services_by_name["ReceptionService"].full_name],
        readiness=db.ping,
        max_workers=4,
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        health.stop()
        server.stop(0).wait()


def every_service(target: str) -> dict[str, str]:
    """Every service the gateway calls, at the fake's server: its health
    answers for all of them; only the registry's API is faked."""
    from gateway.upstream import UPSTREAMS

    return {u.name: target for u in UPSTREAMS}


def empty_audit(request: Any, context: grpc.ServicerContext) -> Message:
    return auth_pb2.ListAuditEntriesResponse(page=envelope_pb2.PageInfo(total_size=0))


class ReferralAudit(referral_pb2_grpc.ReferralServiceServicer):
    """The referral service as the gateway's audit route and public tracking
    see it, on the fake's server: an empty audit, no letters. Its letters' routes are tested against
    the real service (tests/e2e)."""

    def ListAuditEntries(self, request: Any, context: grpc.ServicerContext) -> Message:
        return empty_audit(request, context)

    def TrackLetters(self, request: Any, context: grpc.ServicerContext) -> Message:
        # No opinion here was handed on: no letter to follow.
        return referral_pb2.TrackLettersResponse()


class DutiesAudit(duties_pb2_grpc.DutiesServiceServicer):
    """The duties service as the gateway's audit route sees it, on the
    fake's server: an empty audit."""

    def ListAuditEntries(self, request: Any, context: grpc.ServicerContext) -> Message:
        return empty_audit(request, context)


class NotificationsAudit(notifications_pb2_grpc.NotificationsServiceServicer):
    """The notifications service as the gateway's audit route sees it, on
    the fake's server: an empty audit."""

    def ListAuditEntries(self, request: Any, context: grpc.ServicerContext) -> Message:
        return empty_audit(request, context)


class ReceptionAudit(reception_pb2_grpc.ReceptionServiceServicer):
    """The reception service as the gateway's audit route sees it, on the
    fake's server: an empty audit. Its other routes are tested against the
    real service (tests/e2e)."""

    def ListAuditEntries(self, request: Any, context: grpc.ServicerContext) -> Message:
        return empty_audit(request, context)

    # The rota's routes (gateway/routes/rota.py): session 1 has a rota, a
    # deputy of station 21 is of another station, swap 7 leaves a session
    # without a head; the rules themselves are the service's (tested there).

    def _refuse(self, context: grpc.ServicerContext, error: DomainError) -> None:
        context.abort_with_status(rpc_status.to_status(to_rpc_status(error, "reception")))

    def GetRota(self, request: Any, context: grpc.ServicerContext) -> Message:
        if request.session_id != 1:
            self._refuse(context, NotFound(f"no session has id {request.session_id}"))
        return rota_pb2.SessionRota(
            session_id=1,
            station_id=11,
            date="2027-01-15",
            status=rota_pb2.ROTA_STATUS_COMPLETE,
            deputies=[
                rota_pb2.RotaDeputy(deputy_id=1, name="代表一", level="district", lead=True),
                rota_pb2.RotaDeputy(deputy_id=2, name="代表二", level="city"),
            ],
            min_deputies=2,
        )

    def SetRota(self, request: Any, context: grpc.ServicerContext) -> Message:
        if not any(p.lead for p in request.deputies):
            self._refuse(
                context,
                InvalidArgument(
                    "the rota is not valid",
                    [FieldViolation("deputies", "names no station head or deputy head")],
                ),
            )
        return self.GetRota(rota_pb2.GetRotaRequest(session_id=request.session_id), context)

    def ProposeSwap(self, request: Any, context: grpc.ServicerContext) -> Message:
        if request.counterpart_id == 21:
            self._refuse(
                context,
                InvalidArgument(
                    "the swap cannot be made",
                    [FieldViolation("counterpart_id", "deputy 21 is a deputy of station 21")],
                ),
            )
        return rota_pb2.RotaSwap(
            id=7,
            station_id=11,
            proposer_id=request.proposer_id,
            session_id=request.session_id,
            counterpart_id=request.counterpart_id,
            status=rota_pb2.SWAP_STATUS_PROPOSED,
        )

    def AcceptSwap(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._refuse(
            context, FailedPrecondition("the swap would leave session 1 without a station head")
        )
        raise AssertionError("unreachable")


def _changed(message: Message, changes: dict[str, Any]) -> Message:
    for name, value in changes.items():
        if isinstance(value, Message):
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


class FakeSuggestions(suggestions_pb2_grpc.SuggestionServiceServicer):
    """The referral service's SuggestionService as the gateway's routes see
    it (gateway/routes/suggestions.py): suggestion 11 and meeting 21 exist;
    a title "refuse", a lead among the co-handlers, an acknowledgement, an
    opinion are refused as the service would. `last` keeps each method's
    last request, to check what the gateway sent. The rules themselves are
    tested on the service (services/referral/tests)."""

    def __init__(self) -> None:
        self.last: dict[str, Message] = {}

    def _refuse(self, context: grpc.ServicerContext, error: DomainError) -> None:
        context.abort_with_status(rpc_status.to_status(to_rpc_status(error, "referral")))

    def _suggestion(self, **changes: Any) -> Message:
        suggestion = spb.Suggestion(
            id=11,
            session=spb.CongressSession(code="8-3", label="区八届人大三次会议", year=2013),
            street_id=1,
            proposer_id=1,
            cosigner_ids=[2],
            title="增设公交站点",
            content="建议增设公交站点",
            category=spb.SUGGESTION_CATEGORY_TRANSPORT,
            stage=spb.SUGGESTION_STAGE_REGISTERED,
        )
        return _changed(suggestion, changes)

    def _meeting(self, **changes: Any) -> Message:
        meeting = spb.Meeting(
            id=21,
            street_id=1,
            deputy_id=1,
            department_id=5,
            topic="办理进度",
            status=spb.MEETING_STATUS_REQUESTED,
        )
        return _changed(meeting, changes)

    def _keep(self, method: str, request: Message) -> None:
        self.last[method] = request

    def RegisterSuggestion(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("RegisterSuggestion", request)
        if request.title == "refuse":
            self._refuse(
                context,
                InvalidArgument(
                    "the suggestion cannot be registered",
                    [FieldViolation("cosigner_ids", "names the proposer (1)")],
                ),
            )
        return self._suggestion(title=request.title, proposer_id=request.proposer_id or 1)

    def GetSuggestion(self, request: Any, context: grpc.ServicerContext) -> Message:
        if request.id != 11:
            self._refuse(context, NotFound(f"no suggestion {request.id}"))
        return self._suggestion(
            stage=spb.SUGGESTION_STAGE_IN_HAND,
            lead_department_id=5,
            supervision=spb.Supervision(
                last_day="2013-04-28", overdue_level=0, reminder_days=[30, 7, 1]
            ),
        )

    def ListSuggestions(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("ListSuggestions", request)
        return spb.ListSuggestionsResponse(
            suggestions=[self._suggestion()], page=envelope_pb2.PageInfo(total_size=1)
        )

    def AssignSuggestion(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("AssignSuggestion", request)
        if request.lead_department_id in request.co_handler_ids:
            self._refuse(
                context,
                InvalidArgument(
                    "the suggestion cannot be assigned",
                    [FieldViolation("co_handler_ids", "names the lead department")],
                ),
            )
        return self._suggestion(
            stage=spb.SUGGESTION_STAGE_ASSIGNED, lead_department_id=request.lead_department_id
        )

    def AcknowledgeSuggestion(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._refuse(
            context,
            FailedPrecondition(
                "the suggestion awaits the standing committee office's assignment: "
                "it cannot be acknowledged now"
            ),
        )
        raise AssertionError("unreachable")

    def AddCoHandlerOpinion(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._refuse(context, PermissionDenied("only a co-handling department may add an opinion"))
        raise AssertionError("unreachable")

    def AnswerSuggestion(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._suggestion(stage=spb.SUGGESTION_STAGE_ANSWERED, answer=request.answer)

    def RateSuggestion(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("RateSuggestion", request)
        return self._suggestion(stage=spb.SUGGESTION_STAGE_RATED, satisfaction=request.satisfaction)

    def SummarizeSession(self, request: Any, context: grpc.ServicerContext) -> Message:
        return spb.SessionSummary(
            session_code=request.session_code,
            suggestions=59,
            rated=59,
            satisfied=50,
            basically_satisfied=7,
            dissatisfied=2,
            satisfaction_rate=57 / 59,
        )

    def VerifySuggestionTrail(self, request: Any, context: grpc.ServicerContext) -> Message:
        if request.WhichOneof("of") == "meeting_id":
            return referral_pb2.VerifyTrailResponse(
                intact=False, entries=2, break_position=1, reason="its hash does not match"
            )
        return referral_pb2.VerifyTrailResponse(intact=True, entries=6)

    def RequestMeeting(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("RequestMeeting", request)
        return self._meeting(topic=request.topic, suggestion_id=request.suggestion_id)

    def GetMeeting(self, request: Any, context: grpc.ServicerContext) -> Message:
        if request.id != 21:
            self._refuse(context, NotFound(f"no meeting {request.id}"))
        return self._meeting()

    def ListMeetings(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("ListMeetings", request)
        return spb.ListMeetingsResponse(
            meetings=[self._meeting()], page=envelope_pb2.PageInfo(total_size=1)
        )

    def ScheduleMeeting(self, request: Any, context: grpc.ServicerContext) -> Message:
        self._keep("ScheduleMeeting", request)
        return self._meeting(
            status=spb.MEETING_STATUS_SCHEDULED,
            scheduled_for=request.scheduled_for,
            place=request.place,
        )

    def RecordMeeting(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._meeting(
            status=spb.MEETING_STATUS_HELD,
            held_at=request.held_at,
            attended_by=request.attended_by,
            minutes=request.minutes,
        )

    def CancelMeeting(self, request: Any, context: grpc.ServicerContext) -> Message:
        return self._meeting(status=spb.MEETING_STATUS_CANCELLED, cancel_reason=request.reason)


FAKE_SUGGESTIONS = FakeSuggestions()


@pytest.fixture
def suggestions_fake() -> FakeSuggestions:
    FAKE_SUGGESTIONS.last.clear()
    return FAKE_SUGGESTIONS


@dataclass
class RegistryServer:
    fake: FakeRegistry
    health: health.HealthServicer
    target: str


# How a generated module puts a servicer on a server: `add_..._to_server`.
Adder = Callable[[Any, grpc.Server], None]


@contextlib.contextmanager
def fake_upstream(
    fake: Any,
    *adders: Adder,
    besides: Sequence[tuple[Any, Adder]] = (),
    max_workers: int = 4,
) -> Iterator[str]:
    """A gRPC server in this process on a free local port, serving `fake`
    through each of `adders` and each other servicer of `besides` through
    its own; the target to give the gateway. Stopped on leaving."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers))
    for add in adders:
        add(fake, server)
    for servicer, add in besides:
        add(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None).wait()


@pytest.fixture(scope="session")
def registry_server() -> Iterator[RegistryServer]:
    fake = FakeRegistry()
    health_servicer = health.HealthServicer()
    with fake_upstream(
        fake,
        registry_pb2_grpc.add_RegistryServiceServicer_to_server,
        besides=[
            (ReceptionAudit(), reception_pb2_grpc.add_ReceptionServiceServicer_to_server),
            (ReferralAudit(), referral_pb2_grpc.add_ReferralServiceServicer_to_server),
            (DutiesAudit(), duties_pb2_grpc.add_DutiesServiceServicer_to_server),
            (
                NotificationsAudit(),
                notifications_pb2_grpc.add_NotificationsServiceServicer_to_server,
            ),
            (FAKE_SUGGESTIONS, suggestions_pb2_grpc.add_SuggestionServiceServicer_to_server),
            (health_servicer, health_pb2_grpc.add_HealthServicer_to_server),
        ],
        max_workers=8,
    ) as target:
        yield RegistryServer(fake, health_servicer, target)


@pytest.fixture
def fake(registry_server: RegistryServer) -> FakeRegistry:
    registry_server.fake.reset()
    registry_server.health.set("", health_pb2.HealthCheckResponse.SERVING)
    return registry_server.fake


@pytest.fixture
def settings(registry_server: RegistryServer) -> GatewaySettings:
    return GatewaySettings(
        targets=every_service(registry_server.target),
        grpc_deadline_seconds=2.0,
        read_rate_per_minute=10_000,
        write_rate_per_minute=10_000,
        auth=TEST_AUTH,
        # Every read asks the fake registry; the public directory in memory is
        # tested against the real registry (tests/e2e/test_directory_e2e.py).
        directory=False,
    )


@pytest.fixture
def make_client() -> Iterator[Callable[[GatewaySettings], TestClient]]:
    opened: list[TestClient] = []

    def make(settings: GatewaySettings) -> TestClient:
        client = TestClient(create_app(settings))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client_with(
    settings: GatewaySettings, make_client: Callable[[GatewaySettings], TestClient]
) -> Callable[[str, str], TestClient]:
    """Makes an app of its own whose upstream `service` (a name of
    gateway.upstream.UPSTREAMS) is at `target`, a fake_upstream; every
    other service stays at the fake registry's server."""

    def make(service: str, target: str) -> TestClient:
        targets = {**settings.targets, service: target}
        return make_client(dataclasses.replace(settings, targets=targets))

    return make


@pytest.fixture(scope="session")
def shared_client(registry_server: RegistryServer) -> Iterator[TestClient]:
    # One app and one gRPC channel for the tests that need no fresh state:
    # opening a channel costs far more than a request.
    settings = GatewaySettings(
        targets=every_service(registry_server.target),
        grpc_deadline_seconds=2.0,
        read_rate_per_minute=1_000_000,
        write_rate_per_minute=1_000_000,
        auth=TEST_AUTH,
        directory=False,
    )
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def client(fake: FakeRegistry, shared_client: TestClient) -> TestClient:
    return shared_client


@pytest.fixture
def fresh_client(
    fake: FakeRegistry,
    settings: GatewaySettings,
    make_client: Callable[[GatewaySettings], TestClient],
) -> TestClient:
    """An app of its own, for tests that count metrics."""
    return make_client(settings)


@pytest.fixture
def auth(client: TestClient) -> Callable[[str], dict[str, str]]:
    """Headers with a dev token for a demo account, issued by the gateway itself."""

    def headers(account: str) -> dict[str, str]:
        reply = client.post("/api/v1/dev/tokens", json={"account": account})
        assert reply.status_code == 200, reply.text
        return {"Authorization": f"Bearer {reply.json()['access_token']}"}

    return headers


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture
def problem() -> Callable[[Any, int], dict[str, Any]]:
    return assert_problem
