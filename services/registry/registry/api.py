"""`python -m registry.api`: the registry's gRPC server.

Each RPC is a thin translation onto `registry.service.Registry`; the kit's
interceptor turns DomainErrors into status codes with details.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from sqlalchemy import select

from kit.errors import InvalidArgument, invalid
from kit.grpc_server import serve
from liaison.registry.v1 import registry_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as pb_grpc
from registry import models, roster
from registry.bootstrap import RegistryBootstrap
from registry.convert import LEVEL, ROLE, ROSTER_FORMAT, ROSTER_KIND, UNIT_KIND
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
    RecordKind,
    list_query,
)
from registry.service import Registry

Ctx: TypeAlias = grpc.ServicerContext


def _like(column: Any, text: str) -> Any:
    return column.ilike(f"%{text.strip()}%")


class RegistryServicer(pb_grpc.RegistryServiceServicer):
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.loader = Loader(registry)

    # -- shared shapes

    def _get(self, kind: RecordKind, request: pb.GetRequest) -> Any:
        return self.registry.get(kind, request.id)

    def _create(self, kind: RecordKind, request: Any) -> Any:
        if not request.HasField(kind.request_field):
            raise invalid(kind.request_field, "is required")
        return self.registry.create(kind, getattr(request, kind.request_field))

    def _update(self, kind: RecordKind, request: Any) -> Any:
        if not request.HasField(kind.request_field):
            raise invalid(kind.request_field, "is required")
        message = getattr(request, kind.request_field)
        if not message.id:
            raise invalid(f"{kind.request_field}.id", "is required")
        return self.registry.update(kind, message, list(request.update_mask.paths))

    def _deactivate(self, kind: RecordKind, request: pb.DeactivateRequest) -> Any:
        return self.registry.deactivate(kind, request.id, request.reason)

    # -- streets

    def ListStreets(self, request: pb.ListStreetsRequest, context: Ctx) -> pb.ListStreetsResponse:
        query = list_query(STREET, request.include_inactive)
        if request.query:
            m = models.Street
            query = query.where(_like(m.name, request.query) | _like(m.code, request.query))
        items, info = self.registry.list_page(STREET, query, request.page)
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
        query = list_query(AREA, request.include_inactive)
        if request.street_id:
            query = query.where(models.Area.street_id == request.street_id)
        items, info = self.registry.list_page(AREA, query, request.page)
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
        m = models.Community
        query = list_query(COMMUNITY, request.include_inactive)
        if request.street_id:
            query = query.where(m.street_id == request.street_id)
        if request.area_id:
            query = query.where(m.area_id == request.area_id)
        if request.query:
            query = query.where(_like(m.name, request.query) | _like(m.code, request.query))
        items, info = self.registry.list_page(COMMUNITY, query, request.page)
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
        query = list_query(VENUE, request.include_inactive)
        if request.street_id:
            query = query.where(models.Venue.street_id == request.street_id)
        items, info = self.registry.list_page(VENUE, query, request.page)
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
        query = list_query(STATION, request.include_inactive)
        if request.street_id:
            query = query.where(models.Station.street_id == request.street_id)
        if request.area_id:
            query = query.where(models.Station.area_id == request.area_id)
        items, info = self.registry.list_page(STATION, query, request.page)
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
        m = models.Unit
        query = list_query(UNIT, request.include_inactive)
        if request.kind:
            query = query.where(m.kind == UNIT_KIND.name(request.kind, "kind"))
        if request.parent_id:
            query = query.where(m.parent_id == request.parent_id)
        if request.street_id:
            query = query.where(m.street_id == request.street_id)
        items, info = self.registry.list_page(UNIT, query, request.page)
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
        m = models.Deputy
        query = list_query(DEPUTY, request.include_inactive)
        if request.level:
            query = query.where(m.level == LEVEL.name(request.level, "level"))
        if request.street_id:
            query = query.where(m.street_id == request.street_id)
        if request.station_id:
            query = query.where(m.station_id == request.station_id)
        if request.expertise:
            query = query.where(
                m.id.in_(
                    select(models.DeputyExpertise.deputy_id).where(
                        models.DeputyExpertise.tag == request.expertise.strip()
                    )
                )
            )
        if request.query:
            query = query.where(_like(m.name, request.query) | _like(m.code, request.query))
        items, info = self.registry.list_page(DEPUTY, query, request.page)
        return pb.ListDeputiesResponse(deputies=items, page=info)

    def GetDeputy(self, request: pb.GetRequest, context: Ctx) -> pb.Deputy:
        return self._get(DEPUTY, request)

    def GetDeputyProfile(self, request: pb.GetRequest, context: Ctx) -> pb.DeputyProfile:
        return self.registry.get_deputy_profile(request.id)

    def CreateDeputy(self, request: pb.CreateDeputyRequest, context: Ctx) -> pb.Deputy:
        return self._create(DEPUTY, request)

    def UpdateDeputy(self, request: pb.UpdateDeputyRequest, context: Ctx) -> pb.Deputy:
        return self._update(DEPUTY, request)

    def DeactivateDeputy(self, request: pb.DeactivateRequest, context: Ctx) -> pb.Deputy:
        return self._deactivate(DEPUTY, request)

    # -- positions

    def ListPositions(
        self, request: pb.ListPositionsRequest, context: Ctx
    ) -> pb.ListPositionsResponse:
        m = models.Position
        query = select(m)
        if not request.include_ended:
            query = query.where(m.ended_on.is_(None))
        if request.role:
            query = query.where(m.role == ROLE.name(request.role, "role"))
        if request.unit_id:
            query = query.where(m.unit_id == request.unit_id)
        if request.station_id:
            query = query.where(m.station_id == request.station_id)
        if request.deputy_id:
            query = query.where(m.deputy_id == request.deputy_id)
        if request.street_id:
            query = query.where(
                m.unit_id.in_(
                    select(models.Unit.id).where(models.Unit.street_id == request.street_id)
                )
                | m.station_id.in_(
                    select(models.Station.id).where(models.Station.street_id == request.street_id)
                )
            )
        items, info = self.registry.list_page(POSITION, query, request.page)
        return pb.ListPositionsResponse(positions=items, page=info)

    def GetPosition(self, request: pb.GetRequest, context: Ctx) -> pb.Position:
        return self._get(POSITION, request)

    def FillPosition(self, request: pb.FillPositionRequest, context: Ctx) -> pb.Position:
        return self._create(POSITION, request)

    def UpdatePosition(self, request: pb.UpdatePositionRequest, context: Ctx) -> pb.Position:
        return self._update(POSITION, request)

    def VacatePosition(self, request: pb.VacatePositionRequest, context: Ctx) -> pb.Position:
        return self.registry.vacate_position(request.id, request.ended_on, request.reason)

    # -- budgets

    def ListBudgetLines(
        self, request: pb.ListBudgetLinesRequest, context: Ctx
    ) -> pb.ListBudgetLinesResponse:
        query = list_query(BUDGET_LINE, request.include_inactive)
        if request.unit_id:
            query = query.where(models.BudgetLine.unit_id == request.unit_id)
        if request.year:
            query = query.where(models.BudgetLine.year == request.year)
        items, info = self.registry.list_page(BUDGET_LINE, query, request.page)
        return pb.ListBudgetLinesResponse(budget_lines=items, page=info)

    def GetBudgetLine(self, request: pb.GetRequest, context: Ctx) -> pb.BudgetLine:
        return self._get(BUDGET_LINE, request)

    def CreateBudgetLine(self, request: pb.CreateBudgetLineRequest, context: Ctx) -> pb.BudgetLine:
        return self._create(BUDGET_LINE, request)

    def UpdateBudgetLine(self, request: pb.UpdateBudgetLineRequest, context: Ctx) -> pb.BudgetLine:
        return self._update(BUDGET_LINE, request)

    def DeactivateBudgetLine(self, request: pb.DeactivateRequest, context: Ctx) -> pb.BudgetLine:
        return self._deactivate(BUDGET_LINE, request)

    def CheckBudgets(
        self, request: pb.CheckBudgetsRequest, context: Ctx
    ) -> pb.CheckBudgetsResponse:
        return pb.CheckBudgetsResponse(
            checks=self.registry.check_budgets(request.year, request.unit_id)
        )

    # -- lookup and rosters

    def FindStation(self, request: pb.FindStationRequest, context: Ctx) -> pb.FindStationResponse:
        return self.registry.find_station(request)

    def ImportRoster(
        self, request: pb.ImportRosterRequest, context: Ctx
    ) -> pb.ImportRosterResponse:
        kind = ROSTER_KIND.name(request.kind, "kind")
        fmt = ROSTER_FORMAT.name(request.format, "format")
        if not request.content:
            raise invalid("content", "the file is empty")
        try:
            created, updated = self.loader.import_roster(kind, fmt, request.content)
        except roster.RosterError as error:
            raise with_row_details(error) from error
        return pb.ImportRosterResponse(created=created, updated=updated)

    def ExportRoster(
        self, request: pb.ExportRosterRequest, context: Ctx
    ) -> pb.ExportRosterResponse:
        kind = ROSTER_KIND.name(request.kind, "kind")
        fmt = ROSTER_FORMAT.name(request.format, "format")
        return pb.ExportRosterResponse(
            content=self.loader.export_roster(kind, fmt, request.street_id),
            filename=roster.filename(kind, fmt),
            content_type=roster.content_type(fmt),
        )


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
            RegistryServicer(boot.registry), server
        ),
        service_names=[pb.DESCRIPTOR.services_by_name["RegistryService"].full_name],
        readiness=boot.ready,
        on_stop=boot.close,
    )


if __name__ == "__main__":
    main()
