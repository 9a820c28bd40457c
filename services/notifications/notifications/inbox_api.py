"""The notifications service's InboxService and PreferenceService: each RPC
a thin translation onto `notifications.inbox_service.Inbox` and
`notifications.preference_service.PreferenceUseCases`, passing the verified
caller (None for an unsubscribe link's calls, which need no token)."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from kit.auth import current_principal
from liaison.notifications.v1 import inbox_pb2 as pb
from liaison.notifications.v1 import inbox_pb2_grpc as pb_grpc
from liaison.notifications.v1 import preferences_pb2 as ppb
from liaison.notifications.v1 import preferences_pb2_grpc as ppb_grpc
from notifications.inbox_service import Inbox
from notifications.preference_service import PreferenceUseCases

Ctx: TypeAlias = grpc.ServicerContext
INBOX_SERVICE_NAME = pb.DESCRIPTOR.services_by_name["InboxService"].full_name
PREFERENCE_SERVICE_NAME = ppb.DESCRIPTOR.services_by_name["PreferenceService"].full_name


class InboxServicer(pb_grpc.InboxServiceServicer):
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def ListInbox(self, request: pb.ListInboxRequest, context: Ctx) -> pb.ListInboxResponse:
        return self.inbox.list(request, current_principal())

    def GetUnreadCount(self, request: pb.GetUnreadCountRequest, context: Ctx) -> pb.UnreadCount:
        return self.inbox.unread_count(current_principal())

    def GetInboxMessage(self, request: pb.InboxMessageRequest, context: Ctx) -> pb.InboxMessage:
        return self.inbox.get(request, current_principal())

    def MarkRead(self, request: pb.InboxMessageRequest, context: Ctx) -> pb.InboxMessage:
        return self.inbox.mark_read(request, current_principal())

    def MarkUnread(self, request: pb.InboxMessageRequest, context: Ctx) -> pb.InboxMessage:
        return self.inbox.mark_unread(request, current_principal())

    def Archive(self, request: pb.InboxMessageRequest, context: Ctx) -> pb.InboxMessage:
        return self.inbox.archive(request, current_principal())

    def Unarchive(self, request: pb.InboxMessageRequest, context: Ctx) -> pb.InboxMessage:
        return self.inbox.unarchive(request, current_principal())

    def ArchiveAll(self, request: pb.ArchiveAllRequest, context: Ctx) -> pb.ArchiveAllResponse:
        return self.inbox.archive_all(request, current_principal())


class PreferenceServicer(ppb_grpc.PreferenceServiceServicer):
    def __init__(self, preferences: PreferenceUseCases) -> None:
        self.preferences = preferences

    def GetPreferences(self, request: ppb.GetPreferencesRequest, context: Ctx) -> ppb.Preferences:
        return self.preferences.get(request, current_principal())

    def UpdatePreferences(
        self, request: ppb.UpdatePreferencesRequest, context: Ctx
    ) -> ppb.Preferences:
        return self.preferences.update(request, current_principal())

    def DescribeUnsubscribe(
        self, request: ppb.UnsubscribeRequest, context: Ctx
    ) -> ppb.UnsubscribeLink:
        return self.preferences.describe_unsubscribe(request)

    def Unsubscribe(self, request: ppb.UnsubscribeRequest, context: Ctx) -> ppb.UnsubscribeLink:
        return self.preferences.unsubscribe(request)


def with_inbox(server: grpc.Server, inbox: Inbox, preferences: PreferenceUseCases) -> None:
    """Add both servicers to a server built for the notifications service."""
    pb_grpc.add_InboxServiceServicer_to_server(InboxServicer(inbox), server)
    ppb_grpc.add_PreferenceServiceServicer_to_server(PreferenceServicer(preferences), server)
