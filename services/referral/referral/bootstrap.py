"""The one place that wires the referral service: settings, database and
the application service. The api, worker, migrate and cli entry points each
start from `ReferralBootstrap.for_process(<process>)`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from kit.bootstrap import Bootstrap
from kit.grpc_client import channel
from liaison.registry.v1 import registry_pb2_grpc
from referral.departments import RegistryDepartments
from referral.files import FileStore, LocalFileStore, S3FileStore
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
        return Referral(
            self.db,
            clocks=self.settings.clocks,
            files=self.files,
            max_file_bytes=self.settings.max_file_bytes,
            departments=RegistryDepartments(
                registry_pb2_grpc.RegistryServiceStub(
                    channel(self.settings.registry_target, self.settings)
                )
            ),
        )

    @cached_property
    def files(self) -> FileStore:
        """Where answers' files are kept (referral.files)."""
        s = self.settings
        if s.files == "s3":
            return S3FileStore(
                s.s3_bucket, endpoint_url=s.s3_endpoint_url or None, region=s.s3_region or None
            )
        return LocalFileStore(Path(s.files_dir))

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
