"""The notifications service's inbox (我的消息), recipients' preferences
(通知设置) and unsubscribe links, served by its InboxService and
PreferenceService.

Anyone signed in reads their own mailboxes: their account's, their deputy's,
their office's (shared by its people). Preferences are read and changed by
an address's holder and the admin; the standing committee office reads any
address's with its contacts masked. Unsubscribe links need no token: GET
says what the link stops, POST stops it (also RFC 8058's one-click POST of
a mail client, whose `List-Unsubscribe=One-Click` body is not needed).

Who may do what is the notifications service's decision; the gateway only
refuses early a call without a token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from google.protobuf.field_mask_pb2 import FieldMask

from gateway import schemas as s
from gateway import schemas_inbox as si
from gateway.auth import OptionalPrincipal, Principal, require_principal
from gateway.convert import fill_message, list_request, message_to_dict, page_reply
from gateway.problems import AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS, VALIDATION, responses
from gateway.upstream import caller
from liaison.notifications.v1 import inbox_pb2 as pb
from liaison.notifications.v1 import inbox_pb2_grpc as pb_grpc
from liaison.notifications.v1 import preferences_pb2 as ppb
from liaison.notifications.v1 import preferences_pb2_grpc as ppb_grpc

router = APIRouter(prefix="/api/v1", tags=["notifications"])

SignedIn = Annotated[Principal, Depends(require_principal)]
MessageId = Annotated[s.IdParam, Path(description="The message's id.")]
Token = Annotated[si.UnsubscribeToken, Path(description="The token of an unsubscribe link.")]
_READ = responses(VALIDATION, AUTH_ERRORS, UPSTREAM_ERRORS)
_ONE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
# No token needed; a bad bearer token is 401 on every route, public ones too.
_LINK = responses(VALIDATION, AUTH_ERRORS, UPSTREAM_ERRORS)
FOLDERS = {
    "current": pb.INBOX_FOLDER_CURRENT,
    "archived": pb.INBOX_FOLDER_ARCHIVED,
    "all": pb.INBOX_FOLDER_ALL,
}

_inbox = caller("notifications", pb_grpc.InboxServiceStub)
_preferences = caller("notifications", ppb_grpc.PreferenceServiceStub)


# ---------------------------------------------------------------- the inbox


@router.get(
    "/inbox",
    response_model=si.InboxPage,
    responses=_READ,
    summary="The messages of the caller's mailboxes, newest first",
    description="Every mailbox of the caller's (their account's, their deputy's, their "
    "office's) or one of them; the messages not archived by default; with how many are "
    "unread.",
    operation_id="list_inbox",
)
async def list_inbox(
    request: Request, principal: SignedIn, query: Annotated[si.InboxQuery, Query()]
) -> Any:
    filters = query.model_copy(update={"folder": None})
    message = list_request(pb.ListInboxRequest(folder=FOLDERS[query.folder]), filters)
    reply = await _inbox(request, "ListInbox", message)
    return page_reply(
        si.InboxPage,
        [message_to_dict(m) for m in reply.messages],
        reply.page,
        unread=reply.unread,
    )


@router.get(
    "/inbox/unread-count",
    response_model=si.UnreadCount,
    responses=_READ,
    summary="How many messages are unread, in all and per mailbox",
    operation_id="get_inbox_unread_count",
)
async def unread_count(request: Request, principal: SignedIn) -> Any:
    reply = await _inbox(request, "GetUnreadCount", pb.GetUnreadCountRequest())
    return si.UnreadCount.model_validate(message_to_dict(reply))


@router.post(
    "/inbox:archive-all",
    response_model=si.Archived,
    responses=_READ,
    summary="Archive every message of the caller's mailboxes the filters select",
    operation_id="archive_all_inbox",
)
async def archive_all(
    request: Request, principal: SignedIn, body: Annotated[si.ArchiveAll, Body()]
) -> Any:
    message = fill_message(pb.ArchiveAllRequest(), body.model_dump(exclude_none=True))
    reply = await _inbox(request, "ArchiveAll", message)
    return si.Archived(archived=reply.archived)


@router.get(
    "/inbox/{id:segment}",
    response_model=si.InboxMessage,
    responses=_ONE,
    summary="One message of the caller's mailboxes",
    description="A message of a mailbox the caller does not read is 404, as one that does "
    "not exist.",
    operation_id="get_inbox_message",
)
async def get_message(request: Request, principal: SignedIn, id: MessageId) -> Any:
    reply = await _inbox(request, "GetInboxMessage", pb.InboxMessageRequest(id=id))
    return si.InboxMessage.model_validate(message_to_dict(reply))


def _change(method: str, verb: str, summary: str) -> None:
    async def change(request: Request, principal: SignedIn, id: MessageId) -> Any:
        reply = await _inbox(request, method, pb.InboxMessageRequest(id=id))
        return si.InboxMessage.model_validate(message_to_dict(reply))

    router.post(
        f"/inbox/{{id:segment}}:{verb}",
        response_model=si.InboxMessage,
        responses=_ONE,
        summary=summary,
        description="Again changes nothing and is no error. Audited.",
        operation_id=f"{verb}_inbox_message",
    )(change)


_change("MarkRead", "read", "Mark a message read (for everyone of a shared office mailbox)")
_change("MarkUnread", "unread", "Mark a message unread")
_change("Archive", "archive", "Archive a message")
_change("Unarchive", "unarchive", "Bring an archived message back to the inbox")


# ---------------------------------------------------------------- preferences


@router.get(
    "/notification-preferences",
    response_model=si.Preferences,
    responses=_READ,
    summary="An address's notification preferences",
    description="The caller's own account's by default; `address` for another mailbox the "
    "caller holds (a deputy's, an office's), any for the admin, any with masked contacts "
    "for the standing committee office.",
    operation_id="get_notification_preferences",
)
async def get_preferences(
    request: Request, principal: SignedIn, query: Annotated[si.PreferencesQuery, Query()]
) -> Any:
    message = ppb.GetPreferencesRequest(address=query.address or "")
    return si.Preferences.model_validate(
        message_to_dict(await _preferences(request, "GetPreferences", message))
    )


@router.patch(
    "/notification-preferences",
    response_model=si.Preferences,
    responses=_READ,
    summary="Change an address's notification preferences",
    description="Only the fields sent change. Contacts are checked (an email address, a "
    "mobile phone in E.164), never logged, and the audit names the fields changed only. "
    "The address's holder and the admin.",
    operation_id="update_notification_preferences",
)
async def update_preferences(
    request: Request,
    principal: SignedIn,
    query: Annotated[si.PreferencesQuery, Query()],
    body: Annotated[si.PreferencesChange, Body()],
) -> Any:
    sent = body.model_dump(exclude_unset=True)
    paths: list[str] = []
    values: dict[str, Any] = {}
    for name, value in sent.items():
        if name == "contacts":
            contacts = {k: v for k, v in (value or {}).items() if v is not None}
            paths += [f"contacts.{k}" for k in contacts]
            values["contacts"] = contacts
        elif value is not None:
            paths.append(name)
            values[name] = value
    if not paths:  # nothing to change: the preferences as they are
        return await get_preferences(request, principal, query)
    message = ppb.UpdatePreferencesRequest(
        address=query.address or "",
        preferences=fill_message(ppb.Preferences(), values),
        update_mask=FieldMask(paths=paths),
    )
    return si.Preferences.model_validate(
        message_to_dict(await _preferences(request, "UpdatePreferences", message))
    )


# ---------------------------------------------------------------- unsubscribe


@router.get(
    "/unsubscribe/{token}",
    response_model=si.UnsubscribeLink,
    responses=_LINK,
    summary="What an unsubscribe link stops",
    description="No token: the link's own token says which kind of message on which channel; "
    "an altered link is 422.",
    operation_id="describe_unsubscribe",
)
async def describe_unsubscribe(request: Request, caller: OptionalPrincipal, token: Token) -> Any:
    reply = await _preferences(request, "DescribeUnsubscribe", ppb.UnsubscribeRequest(token=token))
    return si.UnsubscribeLink.model_validate(message_to_dict(reply))


@router.post(
    "/unsubscribe/{token}",
    response_model=si.UnsubscribeLink,
    responses=_LINK,
    summary="Stop the kind of message an unsubscribe link names on its channel",
    description="No token. Once is enough; again changes nothing. A mail client's RFC 8058 "
    "one-click POST (`List-Unsubscribe=One-Click`) works too: the body is not read.",
    operation_id="unsubscribe",
)
async def unsubscribe(request: Request, caller: OptionalPrincipal, token: Token) -> Any:
    reply = await _preferences(request, "Unsubscribe", ppb.UnsubscribeRequest(token=token))
    return si.UnsubscribeLink.model_validate(message_to_dict(reply))
