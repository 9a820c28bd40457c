"""The duties service's ActivityService: each RPC a thin translation onto
`duties.activity_service.ActivityUseCases`, passing the verified caller;
the use cases check role, street and deputy.

`with_activities(server, use_cases)` adds the servicer to a server the api
process (or a test) builds, and returns it."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from duties.activity_service import ActivityUseCases
from kit.auth import current_principal
from liaison.duties.v1 import activities_pb2 as pb
from liaison.duties.v1 import activities_pb2_grpc as pb_grpc

Ctx: TypeAlias = grpc.ServicerContext
ACTIVITY_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ActivityService"].full_name


class ActivityServicer(pb_grpc.ActivityServiceServicer):
    def __init__(self, use_cases: ActivityUseCases) -> None:
        self.use_cases = use_cases

    # ------------------------------------------------------------ activities

    def ScheduleActivity(self, request: pb.ScheduleActivityRequest, context: Ctx) -> Any:
        return self.use_cases.schedule(request, current_principal())

    def GetActivity(self, request: pb.GetActivityRequest, context: Ctx) -> Any:
        return self.use_cases.get_activity(request.id, current_principal())

    def ListActivities(self, request: pb.ListActivitiesRequest, context: Ctx) -> Any:
        items, info = self.use_cases.list_activities(request, current_principal())
        return pb.ListActivitiesResponse(activities=items, page=info)

    def InviteDeputies(self, request: pb.InviteDeputiesRequest, context: Ctx) -> Any:
        return self.use_cases.invite(request, current_principal())

    def SignUp(self, request: pb.SignUpRequest, context: Ctx) -> Any:
        return self.use_cases.sign_up(request, current_principal())

    def RecordAttendance(self, request: pb.RecordAttendanceRequest, context: Ctx) -> Any:
        return self.use_cases.record_attendance(request, current_principal())

    def GetActivityFigures(self, request: pb.GetActivityFiguresRequest, context: Ctx) -> Any:
        return self.use_cases.figures(request, current_principal())

    # ------------------------------------------------------------ research

    def ProposeResearch(self, request: pb.ProposeResearchRequest, context: Ctx) -> Any:
        return self.use_cases.propose(request, current_principal())

    def GetResearch(self, request: pb.GetResearchRequest, context: Ctx) -> Any:
        return self.use_cases.get_research(request.id, current_principal())

    def ListResearch(self, request: pb.ListResearchRequest, context: Ctx) -> Any:
        items, info = self.use_cases.list_research(request, current_principal())
        return pb.ListResearchResponse(research=items, page=info)

    def ApproveResearch(self, request: pb.ApproveResearchRequest, context: Ctx) -> Any:
        bearer = dict(context.invocation_metadata()).get("authorization", "")
        return self.use_cases.approve(request, current_principal(), str(bearer))

    def DeclineResearch(self, request: pb.DeclineResearchRequest, context: Ctx) -> Any:
        return self.use_cases.decline(request, current_principal())

    def ReportResearch(self, request: pb.ReportResearchRequest, context: Ctx) -> Any:
        return self.use_cases.report(request, current_principal())

    def AcknowledgeResearch(self, request: pb.AcknowledgeResearchRequest, context: Ctx) -> Any:
        return self.use_cases.acknowledge(request, current_principal())

    # ------------------------------------------------------------ visits

    def RecordVisit(self, request: pb.RecordVisitRequest, context: Ctx) -> Any:
        return self.use_cases.record_visit(request, current_principal())

    def GetVisit(self, request: pb.GetVisitRequest, context: Ctx) -> Any:
        return self.use_cases.get_visit(request.id, current_principal())

    def ListVisits(self, request: pb.ListVisitsRequest, context: Ctx) -> Any:
        items, info = self.use_cases.list_visits(request, current_principal())
        return pb.ListVisitsResponse(visits=items, page=info)

    def AddFollowUp(self, request: pb.AddFollowUpRequest, context: Ctx) -> Any:
        return self.use_cases.add_follow_up(request, current_principal())

    def AnswerFollowUp(self, request: pb.AnswerFollowUpRequest, context: Ctx) -> Any:
        return self.use_cases.answer_follow_up(request, current_principal())

    def GetVisitCoverage(self, request: pb.GetVisitCoverageRequest, context: Ctx) -> Any:
        return self.use_cases.visit_coverage(request, current_principal())


def with_activities(server: grpc.Server, use_cases: ActivityUseCases) -> grpc.Server:
    """`server` with the ActivityService added."""
    pb_grpc.add_ActivityServiceServicer_to_server(ActivityServicer(use_cases), server)
    return server
