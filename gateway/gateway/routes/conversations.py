"""Conversations (互动交流) between constituents, deputies and staff, served
by the notifications service's ConversationService.

A signed-in constituent writes to the deputies of a station; deputies write
among themselves; deputies, station staff, street committees and the
standing committee office hold working threads. A constituent's messages
wait for the station staff or street committee of the station's street
(`:moderate`), who also turn a constituent's thread into an opinion in
reception (`:to-opinion`, once: a second call answers the same opinion).

Who may read, write and moderate which thread is the notifications
service's decision; the gateway only refuses early a role that never may
(moderating and turning into an opinion: the station staff and street
committees)."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from gateway import schemas_conversations as s
from gateway.auth import STAFF_READERS, Principal, Role, require_roles
from gateway.convert import fill_message, message_to_dict, page_reply, page_request
from gateway.problems import (
    AUTH_ERRORS,
    CONFLICT,
    NOT_FOUND,
    UPSTREAM_ERRORS,
    VALIDATION,
    responses,
)
from gateway.schemas import IdParam
from gateway.upstream import caller
from liaison.notifications.v1 import conversations_pb2 as pb
from liaison.notifications.v1 import conversations_pb2_grpc as pb_grpc

router = APIRouter(prefix="/api/v1", tags=["notifications"])

SignedIn = Annotated[Principal, Depends(require_roles(Role.CONSTITUENT, *STAFF_READERS))]
Moderator = Annotated[Principal, Depends(require_roles(Role.STATION_STAFF, Role.STREET_COMMITTEE))]
ConversationId = Annotated[IdParam, Path(description="The conversation's id.")]
MessageId = Annotated[IdParam, Path(description="The conversation message's id.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)

_call = caller("notifications", pb_grpc.ConversationServiceStub)


@router.get(
    "/conversations",
    response_model=s.ConversationPage,
    responses=_READ,
    summary="My conversations",
    description="The threads the caller takes part in, and for the station staff and street "
    "committee of a street its constituents' threads; newest first, without their messages. "
    "Deputies see a constituent's thread once one of its messages is approved.",
    operation_id="list_conversations",
)
async def list_conversations(
    request: Request, principal: SignedIn, query: Annotated[s.ConversationQuery, Query()]
) -> Any:
    message = fill_message(
        pb.ListConversationsRequest(page=page_request(query)),
        {"kind": query.kind.value if query.kind else None},
    )
    reply = await _call(request, "ListConversations", message)
    return page_reply(
        s.ConversationPage, [message_to_dict(c) for c in reply.conversations], reply.page
    )


@router.post(
    "/conversations",
    status_code=201,
    response_model=s.Conversation,
    responses=_WRITE,
    summary="Start a conversation",
    description="A signed-in constituent with the deputies of a station (their message waits "
    "for the station's staff); a deputy with other deputies; deputies, station staff, street "
    "committees and the standing committee office in a working thread.",
    operation_id="start_conversation",
)
async def start_conversation(
    request: Request,
    response: Response,
    principal: SignedIn,
    body: Annotated[s.ConversationNew, Body()],
) -> Any:
    message = fill_message(
        pb.StartConversationRequest(), body.model_dump(mode="json", exclude_none=True)
    )
    made = await _call(request, "StartConversation", message)
    response.headers["Location"] = f"/api/v1/conversations/{made.id}"
    return s.Conversation.model_validate(message_to_dict(made))


@router.get(
    "/conversations/{id:segment}",
    response_model=s.Conversation,
    responses=_READ,
    summary="A conversation with the messages the caller may see",
    description="Published messages for every participant; held and rejected ones for their "
    "author and the moderators. A thread the caller may not read is 404.",
    operation_id="get_conversation",
)
async def get_conversation(request: Request, principal: SignedIn, id: ConversationId) -> Any:
    reply = await _call(request, "GetConversation", pb.GetConversationRequest(id=id))
    return s.Conversation.model_validate(message_to_dict(reply))


@router.post(
    "/conversations/{id}/messages",
    status_code=201,
    response_model=s.ConversationMessage,
    responses=_WRITE,
    summary="Write in a conversation",
    description="A constituent's message is held until the station's staff or street "
    "committee approves it; everyone else's is published, and its participants are told in "
    "their inbox.",
    operation_id="post_conversation_message",
)
async def post_conversation_message(
    request: Request,
    principal: SignedIn,
    id: ConversationId,
    body: Annotated[s.ConversationMessageNew, Body()],
) -> Any:
    message = pb.PostConversationMessageRequest(conversation_id=id, text=body.text)
    reply = await _call(request, "PostConversationMessage", message)
    return s.ConversationMessage.model_validate(message_to_dict(reply))


@router.get(
    "/conversation-messages/held",
    response_model=s.HeldMessagePage,
    responses=_READ,
    summary="The moderation queue",
    description="Constituents' messages held in the caller's street, oldest first: the "
    "station staff and the street committee.",
    operation_id="list_held_conversation_messages",
)
async def list_held_messages(
    request: Request, principal: Moderator, query: Annotated[s.ListQuery, Query()]
) -> Any:
    message = pb.ListHeldMessagesRequest(page=page_request(query))
    reply = await _call(request, "ListHeldMessages", message)
    return page_reply(s.HeldMessagePage, [message_to_dict(m) for m in reply.messages], reply.page)


@router.post(
    "/conversation-messages/{id:segment}:moderate",
    response_model=s.ConversationMessage,
    responses=_WRITE,
    summary="Approve or reject a constituent's held message",
    description="The station staff and street committee of the thread's street; a rejection "
    "needs a reason, which the constituent reads. A message is decided once (409 after).",
    operation_id="moderate_conversation_message",
)
async def moderate_message(
    request: Request,
    principal: Moderator,
    id: MessageId,
    body: Annotated[s.ModerationNew, Body()],
) -> Any:
    message = fill_message(
        pb.ModerateConversationMessageRequest(id=id),
        body.model_dump(mode="json", exclude_none=True),
    )
    reply = await _call(request, "ModerateConversationMessage", message)
    return s.ConversationMessage.model_validate(message_to_dict(reply))


@router.post(
    "/conversations/{id:segment}:to-opinion",
    response_model=s.Conversation,
    responses=_WRITE,
    summary="Turn a constituent's thread into an opinion",
    description="Records it in reception as an online opinion, with the caller's token, and "
    "keeps its id and tracking code on the thread; a second call answers the same opinion. "
    "The station staff and street committee of the thread's street.",
    operation_id="turn_conversation_into_opinion",
)
async def turn_into_opinion(
    request: Request,
    principal: Moderator,
    id: ConversationId,
    body: Annotated[s.OpinionFromConversationNew, Body()],
) -> Any:
    message = fill_message(
        pb.TurnIntoOpinionRequest(conversation_id=id),
        body.model_dump(mode="json", exclude_none=True),
    )
    reply = await _call(request, "TurnIntoOpinion", message)
    return s.Conversation.model_validate(message_to_dict(reply))
