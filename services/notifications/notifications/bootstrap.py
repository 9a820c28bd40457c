"""The one place that wires the notifications service: settings, database
and the application service's parts. The api, worker, migrate and cli entry
points each start from `NotificationsBootstrap.for_process(<process>)`."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

from kit.bootstrap import Bootstrap
from kit.grpc_client import channel
from liaison.reception.v1 import reception_pb2_grpc
from liaison.registry.v1 import registry_pb2_grpc
from notifications.calendars import SessionCalendars
from notifications.channels import Contacts, channels_of
from notifications.conversation_service import ConversationUseCases
from notifications.conversation_upstream import ReceptionOpinions, RegistryDirectory
from notifications.deliveries_service import Deliveries
from notifications.delivery import Sender
from notifications.fanout import FanOut
from notifications.inbox_service import Inbox
from notifications.preference_service import PreferenceUseCases
from notifications.preferences import StoredContacts
from notifications.rules_service import RuleBook
from notifications.service import Notifications
from notifications.settings import NotificationsSettings
from notifications.unsubscribe import LinkMaker, UnsubscribeTokens

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class NotificationsBootstrap(Bootstrap[NotificationsSettings]):
    service = "notifications"
    settings_type = NotificationsSettings
    migrations_dir = MIGRATIONS

    @cached_property
    def notifications(self) -> Notifications:
        """The service as a whole (its audit): one per process."""
        return Notifications(self.db)

    @cached_property
    def inbox(self) -> Inbox:
        """The in-app inbox of the callers' mailboxes."""
        return Inbox(self.db)

    @cached_property
    def unsubscribe_tokens(self) -> UnsubscribeTokens:
        """Signs and reads unsubscribe links (the api and the worker share the secret)."""
        return UnsubscribeTokens(self.settings.unsubscribe_secret)

    @cached_property
    def preferences(self) -> PreferenceUseCases:
        """Recipients' preferences and unsubscribe links."""
        return PreferenceUseCases(self.db, self.unsubscribe_tokens)

    @cached_property
    def deliveries(self) -> Deliveries:
        """The delivery log and retries (DeliveryService)."""
        return Deliveries(self.db)

    @cached_property
    def contacts(self) -> Contacts:
        """Where recipients are reached: the contacts each address keeps in its
        preferences (none given: the delivery is suppressed "no contact")."""
        return StoredContacts()

    @cached_property
    def sender(self) -> Sender:
        """The worker's sender of due deliveries (its channels' providers)."""
        channels = self.settings.channels
        return Sender(
            self.db,
            channels_of(channels),
            self.contacts,
            channels,
            calendar_of=self.session_calendars.calendar_of,
            unsubscribe_links=LinkMaker(self.unsubscribe_tokens, self.settings.public_url).links,
        )

    @cached_property
    def session_calendars(self) -> SessionCalendars:
        """The calendars of sessions emails carry, from reception's public reads."""
        reception = reception_pb2_grpc.ReceptionServiceStub(
            channel(self.settings.reception_target, self.settings)
        )
        return SessionCalendars(reception)

    @cached_property
    def conversations(self) -> ConversationUseCases:
        """Conversations: stations and deputies asked of the registry,
        opinions recorded in reception with the caller's token."""
        registry = registry_pb2_grpc.RegistryServiceStub(
            channel(self.settings.registry_target, self.settings)
        )
        reception = reception_pb2_grpc.ReceptionServiceStub(
            channel(self.settings.reception_target, self.settings)
        )
        return ConversationUseCases(
            self.db, RegistryDirectory(registry), ReceptionOpinions(reception)
        )

    @cached_property
    def rulebook(self) -> RuleBook:
        """Rules and templates: their use cases and what the fan-out asks."""
        return RuleBook(self.db)

    @cached_property
    def fanout(self) -> FanOut:
        """Events into messages and deliveries, by the rules."""
        return FanOut(self.rulebook, public_url=self.settings.public_url)

    def consumers(self) -> type:
        """The worker class: the migrate process declares its queues (the
        fan-out's), so events published before it first runs wait."""
        from notifications.consumers import NotificationsWorker

        return NotificationsWorker

    def run_migrations(self) -> None:
        """Migrate, then add the default rules and templates the service
        lacks (never over an admin's change): every deployment has them."""
        super().run_migrations()
        loaded = self.rulebook.load_defaults()
        self.close()
        log.info(
            "notifications defaults: %d rules and %d templates added",
            loaded.rules,
            loaded.templates,
        )
