"""The duties service's BallotService: each RPC a thin translation onto
`duties.ballots.Ballots`, passing the verified caller; the use cases check
role, street and deputy. CastVote takes no caller: the code is the
credential (the RPC is marked allow_anonymous in the proto).

`with_ballots(server, ballots)` adds the servicer to a server and returns it."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from duties.ballots import Ballots
from kit.auth import current_principal
from liaison.duties.v1 import ballots_pb2 as pb
from liaison.duties.v1 import ballots_pb2_grpc as pb_grpc

Ctx: TypeAlias = grpc.ServicerContext
BALLOT_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["BallotService"].full_name


class BallotServicer(pb_grpc.BallotServiceServicer):
    def __init__(self, ballots: Ballots) -> None:
        self.ballots = ballots

    def ScheduleReportMeeting(
        self, request: pb.ScheduleReportMeetingRequest, context: Ctx
    ) -> pb.ReportMeeting:
        return self.ballots.schedule(request, current_principal())  # type: ignore[no-any-return]

    def GetReportMeeting(
        self, request: pb.GetReportMeetingRequest, context: Ctx
    ) -> pb.ReportMeeting:
        return self.ballots.get_meeting(request.id, current_principal())  # type: ignore[no-any-return]

    def ListReportMeetings(
        self, request: pb.ListReportMeetingsRequest, context: Ctx
    ) -> pb.ListReportMeetingsResponse:
        items, info = self.ballots.list_meetings(request, current_principal())
        return pb.ListReportMeetingsResponse(meetings=items, page=info)

    def RecordAnswers(self, request: pb.RecordAnswersRequest, context: Ctx) -> pb.ReportMeeting:
        return self.ballots.record_answers(request, current_principal())  # type: ignore[no-any-return]

    def OpenBallot(self, request: pb.OpenBallotRequest, context: Ctx) -> pb.Ballot:
        return self.ballots.open_ballot(request.meeting_id, current_principal())  # type: ignore[no-any-return]

    def GetBallot(self, request: pb.GetBallotRequest, context: Ctx) -> pb.Ballot:
        return self.ballots.get_ballot(request.id, current_principal())  # type: ignore[no-any-return]

    def IssueBallotCodes(
        self, request: pb.IssueBallotCodesRequest, context: Ctx
    ) -> pb.IssueBallotCodesResponse:
        return self.ballots.issue_codes(request, current_principal())  # type: ignore[no-any-return]

    def CastVote(self, request: pb.CastVoteRequest, context: Ctx) -> pb.CastVoteResponse:
        return self.ballots.cast_vote(request)  # type: ignore[no-any-return]

    def CloseBallot(self, request: pb.CloseBallotRequest, context: Ctx) -> pb.Ballot:
        return self.ballots.close(request.id, current_principal())  # type: ignore[no-any-return]

    def PublishBallot(self, request: pb.PublishBallotRequest, context: Ctx) -> pb.Ballot:
        return self.ballots.publish(request.id, current_principal())  # type: ignore[no-any-return]

    def GetBallotResult(self, request: pb.GetBallotResultRequest, context: Ctx) -> pb.BallotResult:
        return self.ballots.result(request.id, current_principal())  # type: ignore[no-any-return]

    def ListBallotComments(
        self, request: pb.ListBallotCommentsRequest, context: Ctx
    ) -> pb.BallotComments:
        return self.ballots.comments(request.id, current_principal())  # type: ignore[no-any-return]


def with_ballots(server: grpc.Server, ballots: Ballots) -> grpc.Server:
    """`server` with the BallotService added."""
    pb_grpc.add_BallotServiceServicer_to_server(BallotServicer(ballots), server)
    return server
