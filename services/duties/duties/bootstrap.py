"""The one place that wires the duties service: settings, database, the
registry's client and the application service's parts. The api, worker,
migrate and cli entry points each start from
`DutiesBootstrap.for_process(<process>)`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from duties.activity_registry import GrpcRegistryLookups
from duties.activity_service import ActivityUseCases
from duties.ballot_rules import ResultRules
from duties.ballots import Ballots
from duties.learning_service import Learning
from duties.record_service import DutyRecords
from duties.registry import Deputies, RegistryDeputies
from duties.report_plan_service import ReportPlans
from duties.scorecard_evidence import DutyRecordEvidence
from duties.scorecard_service import Scorecards
from duties.service import Duties
from duties.settings import DutiesSettings
from kit.bootstrap import Bootstrap
from kit.grpc_client import channel
from liaison.registry.v1 import registry_pb2_grpc

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class DutiesBootstrap(Bootstrap[DutiesSettings]):
    service = "duties"
    settings_type = DutiesSettings
    migrations_dir = MIGRATIONS

    @cached_property
    def deputies(self) -> Deputies:
        """Who a deputy is, asked of the registry."""
        return RegistryDeputies(
            registry_pb2_grpc.RegistryServiceStub(
                channel(self.settings.registry_target, self.settings)
            )
        )

    @cached_property
    def registry_stub(self) -> registry_pb2_grpc.RegistryServiceStub:
        """One channel to the registry for every part that asks it."""
        return registry_pb2_grpc.RegistryServiceStub(
            channel(self.settings.registry_target, self.settings)
        )

    @cached_property
    def activities(self) -> ActivityUseCases:
        """Activities, research and visits."""
        return ActivityUseCases(self.db, self.deputies, GrpcRegistryLookups(self.registry_stub))

    @cached_property
    def duties(self) -> Duties:
        """The service as a whole (its audit): one per process."""
        return Duties(self.db)

    def consumers(self) -> type:
        """The worker class: the migrate process declares its queues (the duty
        record's sources), so events published before it first runs wait."""
        from duties.consumers import DutiesWorker

        return DutiesWorker

    @cached_property
    def duty_records(self) -> DutyRecords:
        """The public duty record's projection and reads, and ratings."""
        return DutyRecords(self.db, self.deputies)

    @cached_property
    def report_plans(self) -> ReportPlans:
        """The duty-report plan's use cases: one per process."""
        return ReportPlans(self.db, self.deputies)

    @cached_property
    def learning(self) -> Learning:
        """Learning materials' use cases: one per process."""
        return Learning(self.db, self.deputies)

    @cached_property
    def scorecards(self) -> Scorecards:
        """The five-ones scorecard's reads, from the duty record's entries."""
        return Scorecards(self.deputies, self.report_plans, DutyRecordEvidence(self.db))

    @cached_property
    def ballots(self) -> Ballots:
        """Duty reports to voters and their secret ballots."""
        return Ballots(
            self.db,
            self.deputies,
            result_rules=ResultRules(
                min_turnout=self.settings.ballot_min_turnout,
                reelection_share=self.settings.reelection_share,
            ),
        )
