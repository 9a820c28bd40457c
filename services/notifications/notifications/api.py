"""`python -m notifications.api`: the notifications service's gRPC server.

Each RPC is a thin translation onto the service's use cases, passing the
verified caller (`kit.auth.current_principal()`); the use cases check role
and scope. Each part of the service registers its own gRPC service in
`register` and names it in `SERVICE_NAMES` (health and reflection).
"""

from __future__ import annotations

from typing import TypeAlias

import grpc

from kit.auth import current_principal
from kit.grpc_server import serve
from liaison.common.v1 import auth_pb2
from liaison.notifications.v1 import notifications_pb2 as pb
from liaison.notifications.v1 import notifications_pb2_grpc as pb_grpc
from notifications.bootstrap import NotificationsBootstrap
from notifications.conversation_api import CONVERSATION_SERVICE_NAME, with_conversations
from notifications.deliveries_api import DELIVERY_SERVICE_NAME, with_deliveries
from notifications.inbox_api import INBOX_SERVICE_NAME, PREFERENCE_SERVICE_NAME, with_inbox
from notifications.rules_api import RULE_SERVICE_NAME, TEMPLATE_SERVICE_NAME, with_rules
from notifications.service import Notifications

Ctx: TypeAlias = grpc.ServicerContext
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["NotificationsService"].full_name
SERVICE_NAMES = [
    SERVICE_NAME,
    DELIVERY_SERVICE_NAME,
    RULE_SERVICE_NAME,
    TEMPLATE_SERVICE_NAME,
    INBOX_SERVICE_NAME,
    PREFERENCE_SERVICE_NAME,
    CONVERSATION_SERVICE_NAME,
]


class NotificationsServicer(pb_grpc.NotificationsServiceServicer):
    def __init__(self, notifications: Notifications) -> None:
        self.notifications = notifications

    def ListAuditEntries(
        self, request: auth_pb2.ListAuditEntriesRequest, context: Ctx
    ) -> auth_pb2.ListAuditEntriesResponse:
        entries, info = self.notifications.audit(request, current_principal())
        return auth_pb2.ListAuditEntriesResponse(entries=entries, page=info)


def register(server: grpc.Server, boot: NotificationsBootstrap) -> None:
    """Every gRPC service of the api, each over its part of `boot`."""
    pb_grpc.add_NotificationsServiceServicer_to_server(
        NotificationsServicer(boot.notifications), server
    )
    with_deliveries(server, boot.deliveries)
    with_rules(server, boot.rulebook)
    with_inbox(server, boot.inbox, boot.preferences)
    with_conversations(server, boot.conversations)


def main() -> None:
    boot = NotificationsBootstrap.for_process("api")
    serve(
        boot.settings,
        register=lambda server: register(server, boot),
        service_names=SERVICE_NAMES,
        readiness=boot.ready,
        on_stop=boot.close,
    )


if __name__ == "__main__":
    main()
