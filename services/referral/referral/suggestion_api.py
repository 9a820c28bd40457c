"""The referral service's SuggestionService: each RPC a thin translation onto
`referral.suggestion_service.Suggestions`, passing the verified caller; the
use cases check role, street, deputy and department.

`with_suggestions(server, suggestions)` adds the servicer to a server the
api process (or a test) builds for the ReferralService, and returns it."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from kit.auth import current_principal
from liaison.referral.v1 import referral_pb2 as rpb
from liaison.referral.v1 import suggestions_pb2 as pb
from liaison.referral.v1 import suggestions_pb2_grpc as pb_grpc
from referral.suggestion_service import Suggestions

Ctx: TypeAlias = grpc.ServicerContext
SUGGESTION_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["SuggestionService"].full_name


class SuggestionServicer(pb_grpc.SuggestionServiceServicer):
    def __init__(self, suggestions: Suggestions) -> None:
        self.suggestions = suggestions

    def RegisterSuggestion(
        self, request: pb.RegisterSuggestionRequest, context: Ctx
    ) -> pb.Suggestion:
        return self.suggestions.register(request, current_principal())

    def GetSuggestion(self, request: pb.GetSuggestionRequest, context: Ctx) -> pb.Suggestion:
        return self.suggestions.get_suggestion(request.id, current_principal())

    def ListSuggestions(
        self, request: pb.ListSuggestionsRequest, context: Ctx
    ) -> pb.ListSuggestionsResponse:
        items, info = self.suggestions.list_suggestions(request, current_principal())
        return pb.ListSuggestionsResponse(suggestions=items, page=info)

    def AssignSuggestion(self, request: pb.AssignSuggestionRequest, context: Ctx) -> pb.Suggestion:
        return self.suggestions.assign(request, current_principal())

    def AcknowledgeSuggestion(
        self, request: pb.AcknowledgeSuggestionRequest, context: Ctx
    ) -> pb.Suggestion:
        return self.suggestions.acknowledge(request.id, current_principal())

    def AddCoHandlerOpinion(
        self, request: pb.AddCoHandlerOpinionRequest, context: Ctx
    ) -> pb.Suggestion:
        return self.suggestions.add_opinion(request, current_principal())

    def AnswerSuggestion(self, request: pb.AnswerSuggestionRequest, context: Ctx) -> pb.Suggestion:
        return self.suggestions.answer(request, current_principal())

    def RateSuggestion(self, request: pb.RateSuggestionRequest, context: Ctx) -> pb.Suggestion:
        return self.suggestions.rate(request, current_principal())

    def SummarizeSession(
        self, request: pb.SummarizeSessionRequest, context: Ctx
    ) -> pb.SessionSummary:
        return self.suggestions.summarize(request.session_code, current_principal())

    def VerifySuggestionTrail(
        self, request: pb.VerifySuggestionTrailRequest, context: Ctx
    ) -> rpb.VerifyTrailResponse:
        return self.suggestions.verify_trail(request, current_principal())

    def RequestMeeting(self, request: pb.RequestMeetingRequest, context: Ctx) -> pb.Meeting:
        return self.suggestions.request_meeting(request, current_principal())

    def GetMeeting(self, request: pb.GetMeetingRequest, context: Ctx) -> pb.Meeting:
        return self.suggestions.get_meeting(request.id, current_principal())

    def ListMeetings(
        self, request: pb.ListMeetingsRequest, context: Ctx
    ) -> pb.ListMeetingsResponse:
        items, info = self.suggestions.list_meetings(request, current_principal())
        return pb.ListMeetingsResponse(meetings=items, page=info)

    def ScheduleMeeting(self, request: pb.ScheduleMeetingRequest, context: Ctx) -> pb.Meeting:
        return self.suggestions.schedule_meeting(request, current_principal())

    def RecordMeeting(self, request: pb.RecordMeetingRequest, context: Ctx) -> pb.Meeting:
        return self.suggestions.record_meeting(request, current_principal())

    def CancelMeeting(self, request: pb.CancelMeetingRequest, context: Ctx) -> pb.Meeting:
        return self.suggestions.cancel_meeting(request, current_principal())


def with_suggestions(server: grpc.Server, suggestions: Suggestions) -> grpc.Server:
    """`server` with the SuggestionService added."""
    pb_grpc.add_SuggestionServiceServicer_to_server(SuggestionServicer(suggestions), server)
    return server
