"""The notifications service's ConversationService: each RPC a thin
translation onto `notifications.conversation_service.ConversationUseCases`,
passing the verified caller (and, to turn a thread into an opinion, the
caller's `authorization` value, with which reception is asked)."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from kit.auth import current_principal
from liaison.notifications.v1 import conversations_pb2 as pb
from liaison.notifications.v1 import conversations_pb2_grpc as pb_grpc
from notifications.conversation_service import ConversationUseCases

Ctx: TypeAlias = grpc.ServicerContext
CONVERSATION_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ConversationService"].full_name


class ConversationServicer(pb_grpc.ConversationServiceServicer):
    def __init__(self, use_cases: ConversationUseCases) -> None:
        self.use_cases = use_cases

    def StartConversation(self, request: pb.StartConversationRequest, context: Ctx) -> Any:
        return self.use_cases.start(request, current_principal())

    def ListConversations(self, request: pb.ListConversationsRequest, context: Ctx) -> Any:
        items, info = self.use_cases.list_mine(request, current_principal())
        return pb.ListConversationsResponse(conversations=items, page=info)

    def GetConversation(self, request: pb.GetConversationRequest, context: Ctx) -> Any:
        return self.use_cases.get(request.id, current_principal())

    def PostConversationMessage(
        self, request: pb.PostConversationMessageRequest, context: Ctx
    ) -> Any:
        return self.use_cases.post(request, current_principal())

    def ListHeldMessages(self, request: pb.ListHeldMessagesRequest, context: Ctx) -> Any:
        items, info = self.use_cases.held(request, current_principal())
        return pb.ListHeldMessagesResponse(messages=items, page=info)

    def ModerateConversationMessage(
        self, request: pb.ModerateConversationMessageRequest, context: Ctx
    ) -> Any:
        return self.use_cases.moderate(request, current_principal())

    def TurnIntoOpinion(self, request: pb.TurnIntoOpinionRequest, context: Ctx) -> Any:
        bearer = dict(context.invocation_metadata()).get("authorization", "")
        return self.use_cases.turn_into_opinion(request, current_principal(), str(bearer))


def with_conversations(server: grpc.Server, use_cases: ConversationUseCases) -> None:
    pb_grpc.add_ConversationServiceServicer_to_server(ConversationServicer(use_cases), server)
