"""The duties service's DutyRecordService: each RPC a thin translation onto
`duties.record_service.DutyRecords`, passing the verified caller (None for
the public reads); the use cases check role and street."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from duties.record_service import DutyRecords
from kit.auth import current_principal
from liaison.duties.v1 import record_pb2 as pb
from liaison.duties.v1 import record_pb2_grpc as pb_grpc

Ctx: TypeAlias = grpc.ServicerContext
DUTY_RECORD_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DutyRecordService"].full_name


class DutyRecordServicer(pb_grpc.DutyRecordServiceServicer):
    def __init__(self, records: DutyRecords) -> None:
        self.records = records

    def GetDutyRecord(self, request: pb.GetDutyRecordRequest, context: Ctx) -> pb.DutyRecord:
        return self.records.get_record(request)

    def RateDeputy(self, request: pb.RateDeputyRequest, context: Ctx) -> pb.DeputyRating:
        return self.records.rate(request, current_principal())

    def GetDeputyRatings(
        self, request: pb.GetDeputyRatingsRequest, context: Ctx
    ) -> pb.DeputyRatings:
        return self.records.ratings(request)

    def ReportRatingComment(
        self, request: pb.ReportRatingCommentRequest, context: Ctx
    ) -> pb.RatingReport:
        return self.records.report(request, current_principal())

    def ListReportedComments(
        self, request: pb.ListReportedCommentsRequest, context: Ctx
    ) -> pb.ListReportedCommentsResponse:
        comments, info = self.records.list_reported(request, current_principal())
        return pb.ListReportedCommentsResponse(comments=comments, page=info)

    def ModerateRatingComment(
        self, request: pb.ModerateRatingCommentRequest, context: Ctx
    ) -> pb.ModeratedComment:
        return self.records.moderate(request, current_principal())


def with_duty_record(server: grpc.Server, records: DutyRecords) -> grpc.Server:
    """Add the servicer to a server built for the duties service."""
    pb_grpc.add_DutyRecordServiceServicer_to_server(DutyRecordServicer(records), server)
    return server
