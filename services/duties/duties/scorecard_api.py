"""The duties service's ScorecardService: each RPC a thin translation onto
`duties.report_plan_service.ReportPlans` and `duties.learning_service.Learning`,
passing the verified caller; the use cases check role and scope.

and `duties.scorecard_service.Scorecards` (the evidence: the duty record's
entries)."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from duties.learning_service import Learning
from duties.report_plan_service import ReportPlans
from duties.scorecard_service import Scorecards
from kit.auth import current_principal
from liaison.duties.v1 import scorecard_pb2 as pb
from liaison.duties.v1 import scorecard_pb2_grpc as pb_grpc

Ctx: TypeAlias = grpc.ServicerContext
SCORECARD_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ScorecardService"].full_name


class ScorecardServicer(pb_grpc.ScorecardServiceServicer):
    def __init__(self, plans: ReportPlans, learning: Learning, scorecards: Scorecards) -> None:
        self.plans = plans
        self.learning = learning
        self.scorecards = scorecards

    def MakeReportPlan(self, request: pb.MakeReportPlanRequest, context: Ctx) -> pb.ReportPlan:
        return self.plans.make(request, current_principal())

    def ExtendReportPlan(self, request: pb.ExtendReportPlanRequest, context: Ctx) -> pb.ReportPlan:
        return self.plans.extend(request, current_principal())

    def GetReportPlan(self, request: pb.GetReportPlanRequest, context: Ctx) -> pb.ReportPlan:
        return self.plans.get(request, current_principal())

    def PublishMaterial(self, request: pb.PublishMaterialRequest, context: Ctx) -> pb.Material:
        return self.learning.publish(request, current_principal())

    def GetMaterial(self, request: pb.GetMaterialRequest, context: Ctx) -> pb.Material:
        return self.learning.get(request.id, current_principal())

    def ListMaterials(
        self, request: pb.ListMaterialsRequest, context: Ctx
    ) -> pb.ListMaterialsResponse:
        items, info = self.learning.list(request, current_principal())
        return pb.ListMaterialsResponse(materials=items, page=info)

    def MarkMaterialRead(self, request: pb.MarkMaterialReadRequest, context: Ctx) -> pb.Material:
        return self.learning.mark_read(request.id, current_principal())

    def GetMaterialReadership(
        self, request: pb.GetMaterialReadershipRequest, context: Ctx
    ) -> pb.MaterialReadership:
        return self.learning.readership(request, current_principal())

    def GetScorecard(self, request: pb.GetScorecardRequest, context: Ctx) -> pb.Scorecard:
        return self.scorecards.get(request, current_principal())

    def ListShortfalls(self, request: pb.ListShortfallsRequest, context: Ctx) -> pb.Shortfalls:
        return self.scorecards.shortfalls(request, current_principal())


def add_scorecard(
    server: grpc.Server, plans: ReportPlans, learning: Learning, scorecards: Scorecards
) -> None:
    """`server` with the ScorecardService added."""
    pb_grpc.add_ScorecardServiceServicer_to_server(
        ScorecardServicer(plans, learning, scorecards), server
    )
