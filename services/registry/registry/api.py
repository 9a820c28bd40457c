"""`python -m registry.api`: the registry's gRPC server.

Each RPC is a thin translation onto `registry.service.Registry`, passing the
verified caller (`kit.auth.current_principal()`, set by kit's interceptor
from the bearer token); the use cases check role and street scope. The
interceptor also turns DomainErrors into status codes with details.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

import grpc

from kit.auth import current_principal
from kit.errors import InvalidArgument, invalid
from kit.grpc_server import serve
from kit.records import RecordKind
from liaison.common.v1 import auth_pb2
from liaison.registry.v1 import registry_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as pb_grpc
from registry import roster
from registry.bootstrap import RegistryBootstrap
from registry.convert import ROSTER_FORMAT, ROSTER_KIND
from registry.loading import Loader
from registry.records import (
    AREA,
    BUDGET_LINE,
    COMMUNITY,
    DEPUTY,
    POSITION,
    STATION,
    STREET,
    UNIT,
    VENUE,
)
from registry.service import Registry

Ctx: TypeAlias = grpc.ServicerContext


class RegistryServicer(pb_grpc.RegistryServiceServicer):
    def __init__(
        self, registry: Registry, roster_limits: roster.RosterLimits = roster.DEFAULT_LIMITS
    ) -> None:
        self.registry = registry
        self.loader = Loader(registry, roster_limits)

    # -- shared shapes

    def _list(self, kind: RecordKind, request: Any) -> tuple[list[Any], Any]:
        return self.registry.list_page(kind, request, current_principal())

    def _get(self, kind: RecordKind, request: pb.GetRequest) -> Any:
        return self.registry.get(kind, request.id, current_principal())

    def _create(self, kind: RecordKind, request: Any) -> Any:
        if not request.HasField(kind.request_field):
            raise invalid(kind.request_field, "is required")
        return self.registry.create(kind, getattr(request, kind.request_field), current_principal())

    def _update(self, kind: RecordKind, request: Any) -> Any:
        if not request.HasField(kind.request_field):
            raise invalid(kind.request_field, "is required")
        message = getattr(request, kind.request_field)
        if not message.id:
            raise invalid(f"{kind.request_field}.id", "is required")
        return self.registry.update(
            kind, message, list(request.update_mask.paths), current_principal()
        )

    def _deactivate(self, kind: RecordKind, request: pb.DeactivateRequest) -> Any:
        return self.registry.deactivate(kind, request.id, request.reason, current_principal())

    # -- streets

    def ListStreets(self, request: pb.ListStreetsRequest, context: Ctx) -> pb.ListStreetsResponse:
        items, info = self._list(STREET, request)
        return pb.ListStreetsResponse(streets=items, page=info)

    def GetStreet(self, request: pb.GetRequest, context: Ctx) -> pb.Street:
        return self._get(STREET, request)

    def CreateStreet(self, request: pb.CreateStreetRequest, context: Ctx) -> pb.Street:
        return self._create(STREET, request)

    def UpdateStreet(self, request: pb.UpdateStreetRequest, context: Ctx) -> pb.Street:
        return self._update(STREET, request)

    def DeactivateStreet(self, request: pb.DeactivateRequest, context: Ctx) -> pb.Street:
        return self._deactivate(STREET, request)

    # -- areas

    def ListAreas(self, request: pb.ListAreasRequest, context: Ctx) -> pb.ListAreasResponse:
        items, info = self._list(AREA, request)
        return pb.ListAreasResponse(areas=items, page=info)

    def GetArea(self, request: pb.GetRequest, context: Ctx) -> pb.Area:
        return self._get(AREA, request)

    def CreateArea(self, request: pb.CreateAreaRequest, context: Ctx) -> pb.Area:
        return self._create(AREA, request)

    def UpdateArea(self, request: pb.UpdateAreaRequest, context: Ctx) -> pb.Area:
        return self._update(AREA, request)

    def DeactivateArea(self, request: pb.DeactivateRequest, context: Ctx) -> pb.Area:
        return self._deactivate(AREA, request)

    # -- communities

    def ListCommunities(
        self, request: pb.ListCommunitiesRequest, context: Ctx
    ) -> pb.ListCommunitiesResponse:
        items, info = self._list(COMMUNITY, request)
        return pb.ListCommunitiesResponse(communities=items, page=info)

    def GetCommunity(self, request: pb.GetRequest, context: Ctx) -> pb.Community:
        return self._get(COMMUNITY, request)

    def CreateCommunity(self, request: pb.CreateCommunityRequest, context: Ctx) -> pb.Community:
        return self._create(COMMUNITY, request)

    def UpdateCommunity(self, request: pb.UpdateCommunityRequest, context: Ctx) -> pb.Community:
        return self._update(COMMUNITY, request)

    def DeactivateCommunity(self, request: pb.DeactivateRequest, context: Ctx) -> pb.Community:
        return self._deactivate(COMMUNITY, request)

    # -- venues

    def ListVenues(self, request: pb.ListVenuesRequest, context: Ctx) -> pb.ListVenuesResponse:
        items, info = self._list(VENUE, request)
        return pb.ListVenuesResponse(venues=items, page=info)

    def GetVenue(self, request: pb.GetRequest, context: Ctx) -> pb.Venue:
        return self._get(VENUE, request)

    def CreateVenue(self, request: pb.CreateVenueRequest, context: Ctx) -> pb.Venue:
        return self._create(VENUE, request)

    def UpdateVenue(self, request: pb.UpdateVenueRequest, context: Ctx) -> pb.Venue:
        return self._update(VENUE, request)

    def DeactivateVenue(self, request: pb.DeactivateRequest, context: Ctx) -> pb.Venue:
        return self._deactivate(VENUE, request)

    # -- stations

    def ListStations(
        self, request: pb.ListStationsRequest, context: Ctx
    ) -> pb.ListStationsResponse:
        items, info = self._list(STATION, request)
        return pb.ListStationsResponse(stations=items, page=info)

    def GetStation(self, request: pb.GetRequest, context: Ctx) -> pb.Station:
        return self._get(STATION, request)

    def CreateStation(self, request: pb.CreateStationRequest, context: Ctx) -> pb.Station:
        return self._create(STATION, request)

    def UpdateStation(self, request: pb.UpdateStationRequest, context: Ctx) -> pb.Station:
        return self._update(STATION, request)

    def DeactivateStation(self, request: pb.DeactivateRequest, context: Ctx) -> pb.Station:
        return self._deactivate(STATION, request)

    # -- units

    def ListUnits(self, request: pb.ListUnitsRequest, context: Ctx) -> pb.ListUnitsResponse:
        items, info = self._list(UNIT, request)
        return pb.ListUnitsResponse(units=items, page=info)

    def GetUnit(self, request: pb.GetRequest, context: Ctx) -> pb.Unit:
        return self._get(UNIT, request)

    def CreateUnit(self, request: pb.CreateUnitRequest, context: Ctx) -> pb.Unit:
        return self._create(UNIT, request)

    def UpdateUnit(self, request: pb.UpdateUnitRequest, context: Ctx) -> pb.Unit:
        return self._update(UNIT, request)

    def DeactivateUnit(self, request: pb.DeactivateRequest, context: Ctx) -> pb.Unit:
        return self._deactivate(UNIT, request)

    # -- deputies

    def ListDeputies(
        self, request: pb.ListDeputiesRequest, context: Ctx
    ) -> pb.ListDeputiesResponse:
        items, info = self._list(DEPUTY, request)
        return pb.ListDeputiesResponse(deputies=items, page=info)

    def GetDeputy(self, request: pb.GetRequest, context: Ctx) -> pb.Deputy:
        return self._get(DEPUTY, request)

    def CreateDeputy(self, request: pb.CreateDeputyRequest, context: Ctx) -> pb.Deputy:
        return self._create(DEPUTY, request)

    def UpdateDeputy(self, request: pb.UpdateDeputyRequest, context: Ctx) -> pb.Deputy:
        return self._update(DEPUTY, request)

    def DeactivateDeputy(self, request: pb.DeactivateRequest, context: Ctx) -> pb.Deputy:
        return self._deactivate(DEPUTY, request)

    # -- budgetlines

    def ListBudgetLines(
        self, request: pb.ListBudgetLinesRequest, context: Ctx
    ) -> pb.ListBudgetLinesResponse:
        items, info = self._list(BUDGET_LINE, request)
        return pb.ListBudgetLinesResponse(budget_lines=items, page=info)

    def GetBudgetLine(self, request: pb.GetRequest, context: Ctx) -> pb.BudgetLine:
        return self._get(BUDGET_LINE, request)

    def CreateBudgetLine(self, request: pb.CreateBudgetLineRequest, context: Ctx) -> pb.BudgetLine:
        return self._create(BUDGET_LINE, request)

    def UpdateBudgetLine(self, request: pb.UpdateBudgetLineRequest, context: Ctx) -> pb.BudgetLine:
        return self._update(BUDGET_LINE, request)

    def DeactivateBudgetLine(self, request: pb.DeactivateRequest, context: Ctx) -> pb.BudgetLine:
        return self._deactivate(BUDGET_LINE, request)

    def GetDeputyProfile(self, request: pb.GetRequest, context: Ctx) -> pb.DeputyProfile:
        return self.registry.get_deputy_profile(request.id)

    # -- positions

    def ListPositions(
        self, request: pb.ListPositionsRequest, context: Ctx
    ) -> pb.ListPositionsResponse:
        items, info = self._list(POSITION, request)
        return pb.ListPositionsResponse(positions=items, page=info)

    def GetPosition(self, request: pb.GetRequest, context: Ctx) -> pb.Position:
        return self._get(POSITION, request)

    def FillPosition(self, request: pb.FillPositionRequest, context: Ctx) -> pb.Position:
        return self._create(POSITION, request)

    def UpdatePosition(self, request: pb.UpdatePositionRequest, context: Ctx) -> pb.Position:
        return self._update(POSITION, request)

    def VacatePosition(self, request: pb.VacatePositionRequest, context: Ctx) -> pb.Position:
        return self.registry.vacate_position(
            request.id, request.ended_on, request.reason, current_principal()
        )

    # -- budgets

    def CheckBudgets(
        self, request: pb.CheckBudgetsRequest, context: Ctx
    ) -> pb.CheckBudgetsResponse:
        checks = self.registry.check_budgets(request.year, request.unit_id, current_principal())
        return pb.CheckBudgetsResponse(checks=checks)

    # -- lookup, rosters, audit

    def FindStation(self, request: pb.FindStationRequest, context: Ctx) -> pb.FindStationResponse:
        return self.registry.find_station(request)

    def StreamDirectory(
        self, request: pb.StreamDirectoryRequest, context: Ctx
    ) -> Iterator[pb.DirectoryChunk]:
        yield from self.registry.directory(request.chunk_size)

    def ImportRoster(
        self, request: pb.ImportRosterRequest, context: Ctx
    ) -> pb.ImportRosterResponse:
        actor = current_principal()
        kind = ROSTER_KIND.name(request.kind, "kind")
        fmt = ROSTER_FORMAT.name(request.format, "format")
        if not request.content:
            raise invalid("content", "the file is empty")
        try:
            created, updated = self.loader.import_roster(kind, fmt, request.content, actor)
        except roster.RosterError as error:
            raise with_row_details(error) from error
        return pb.ImportRosterResponse(created=created, updated=updated)

    def ExportRoster(
        self, request: pb.ExportRosterRequest, context: Ctx
    ) -> pb.ExportRosterResponse:
        self.registry.check_roster_export(current_principal(), request.street_id)
        kind = ROSTER_KIND.name(request.kind, "kind")
        fmt = ROSTER_FORMAT.name(request.format, "format")
        return pb.ExportRosterResponse(
            content=self.loader.export_roster(kind, fmt, request.street_id),
            filename=roster.filename(kind, fmt),
            content_type=roster.content_type(fmt),
        )

    def ListAuditEntries(
        self, request: auth_pb2.ListAuditEntriesRequest, context: Ctx
    ) -> auth_pb2.ListAuditEntriesResponse:
        entries, info = self.registry.audit(request, current_principal())
        return auth_pb2.ListAuditEntriesResponse(entries=entries, page=info)


def with_row_details(error: roster.RosterError) -> InvalidArgument:
    """The import error with every bad row as a RosterImportErrors detail."""
    error.details.append(
        pb.RosterImportErrors(
            errors=[
                pb.RosterRowError(row=e.row, column=e.column, reason=e.reason) for e in error.errors
            ]
        )
    )
    return error


def main() -> None:
    boot = RegistryBootstrap.for_process("api")
    serve(
        boot.settings,
        register=lambda server: pb_grpc.add_RegistryServiceServicer_to_server(
            RegistryServicer(boot.registry, boot.settings.roster_limits), server
        ),
        service_names=[pb.DESCRIPTOR.services_by_name["RegistryService"].full_name],
        readiness=boot.ready,
        on_stop=boot.close,
    )


if __name__ == "__main__":
    main()
