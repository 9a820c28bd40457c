"""The one place that wires the referral service: settings, database and
the application service. The api, worker, migrate and cli entry points each
start from `ReferralBootstrap.for_process(<process>)`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from kit.bootstrap import Bootstrap
from referral.service import Referral
from referral.settings import ReferralSettings
from referral.suggestion_service import Suggestions
from referral.supervision import Supervision

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class ReferralBootstrap(Bootstrap[ReferralSettings]):
    service = "referral"
    settings_type = ReferralSettings
    migrations_dir = MIGRATIONS

    @cached_property
    def referral(self) -> Referral:
        """The application service: one per process."""
        return Referral(self.db, clocks=self.settings.clocks)

    @cached_property
    def suggestions(self) -> Suggestions:
        """Deputies' suggestions and meetings with agency heads: one per process."""
        return Suggestions(self.db)

    def consumers(self) -> type:
        from referral.consumers import ReferralWorker

        return ReferralWorker

    @cached_property
    def supervision(self) -> Supervision:
        """The deadline sweep (the worker's timer)."""
        return Supervision(self.db, self.settings.reminder_days)
