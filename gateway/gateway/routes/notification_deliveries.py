"""The notifications service's delivery log (投递记录), served by its
DeliveryService: every message's delivery on each channel, its state,
attempts and the provider's answer, and retrying a failed or dead one.

The admin and the standing committee office only: the service decides (and
names who may); the gateway refuses other roles early."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from gateway import schemas_deliveries as s
from gateway.auth import Principal, Role, require_roles
from gateway.convert import message_to_dict, page_reply, page_request
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
from liaison.notifications.v1 import deliveries_pb2 as pb
from liaison.notifications.v1 import deliveries_pb2_grpc as pb_grpc

router = APIRouter(prefix="/api/v1", tags=["notifications"])

Reader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE))]
DeliveryId = Annotated[IdParam, Path(description="The delivery's id.")]
_READ = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, UPSTREAM_ERRORS)
_WRITE = responses(VALIDATION, AUTH_ERRORS, NOT_FOUND, CONFLICT, UPSTREAM_ERRORS)

_call = caller("notifications", pb_grpc.DeliveryServiceStub)


@router.get(
    "/notification-deliveries",
    response_model=s.NotificationDeliveryPage,
    responses=_READ,
    summary="The delivery log: deliveries by state, channel, event type, recipient and time",
    description="Every message's delivery on each channel (inbox, email, SMS, WeChat), oldest "
    "first: its state, attempts, the provider and its message id, and why the last attempt "
    "failed. Recipients are addresses, never contacts; never the message's text. The admin "
    "and the standing committee office.",
    operation_id="list_notification_deliveries",
)
async def list_notification_deliveries(
    request: Request, principal: Reader, query: Annotated[s.DeliveryQuery, Query()]
) -> Any:
    message = pb.ListDeliveriesRequest(
        page=page_request(query),
        state=query.state or "",
        channel=query.channel or "",
        event_type=query.event_type or "",
        recipient=query.recipient or "",
        created_from=query.created_from or "",
        created_to=query.created_to or "",
    )
    reply = await _call(request, "ListDeliveries", message)
    return page_reply(
        s.NotificationDeliveryPage, [message_to_dict(d) for d in reply.deliveries], reply.page
    )


@router.get(
    "/notification-deliveries/{id:segment}",
    response_model=s.NotificationDelivery,
    responses=_READ,
    summary="One delivery",
    operation_id="get_notification_delivery",
)
async def get_notification_delivery(request: Request, principal: Reader, id: DeliveryId) -> Any:
    reply = await _call(request, "GetDelivery", pb.GetDeliveryRequest(id=id))
    return s.NotificationDelivery.model_validate(message_to_dict(reply))


@router.post(
    "/notification-deliveries/{id:segment}:retry",
    response_model=s.NotificationDelivery,
    responses=_WRITE,
    summary="Send a failed or dead delivery again",
    description="Back to queued with its attempts counted from nought; the worker sends it "
    "like a new one (the same idempotency key and Message-ID). Audited. Any other state is "
    "409 naming it, nothing changed.",
    operation_id="retry_notification_delivery",
)
async def retry_notification_delivery(request: Request, principal: Reader, id: DeliveryId) -> Any:
    reply = await _call(request, "RetryDelivery", pb.RetryDeliveryRequest(id=id))
    return s.NotificationDelivery.model_validate(message_to_dict(reply))
