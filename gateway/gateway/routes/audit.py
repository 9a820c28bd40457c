"""Every service's audit of changes and their actors: admins only (the
service checks that itself; the gateway refuses other roles early)."""

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from gateway import schemas as s
from gateway.auth import Principal, Role, require_roles
from gateway.convert import message_to_dict, page_reply, page_request
from gateway.problems import AUTH_ERRORS, UPSTREAM_ERRORS, VALIDATION, responses
from gateway.upstream import UPSTREAMS, call_context, service
from liaison.common.v1 import auth_pb2

router = APIRouter(prefix="/api/v1")

# Every service behind the gateway keeps an audit and answers ListAuditEntries.
AuditedService = StrEnum("AuditedService", {u.name: u.name for u in UPSTREAMS})  # type: ignore[misc]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


@router.get(
    "/{service_name}/audit-entries",
    response_model=s.AuditPage,
    responses=responses(VALIDATION, AUTH_ERRORS, UPSTREAM_ERRORS),
    tags=["audit"],
    summary="Who changed what in a service, oldest first",
    operation_id="list_audit_entries",
)
async def list_audit_entries(
    request: Request,
    principal: Admin,
    service_name: Annotated[AuditedService, Path(description="The service whose audit to read.")],
    query: Annotated[s.AuditQuery, Query()],
) -> Any:
    message = auth_pb2.ListAuditEntriesRequest(
        page=page_request(query),
        record_kind=query.record_kind or "",
        record_id=query.record_id or 0,
        actor_subject=query.actor_subject or "",
    )
    client = service(request, str(service_name))
    reply = await client.call("ListAuditEntries", message, call_context(request))
    return page_reply(s.AuditPage, [message_to_dict(e) for e in reply.entries], reply.page)
