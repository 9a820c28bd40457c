"""`python -m duties.api`: the duties service's gRPC server.

Each RPC is a thin translation onto the service's use cases, passing the
verified caller (`kit.auth.current_principal()`); the use cases check role
and scope. Each part of the service registers its own gRPC service in
`register` and names it in `SERVICE_NAMES` (health and reflection).
"""

from __future__ import annotations

from typing import TypeAlias

import grpc

from duties.activity_api import ACTIVITY_SERVICE_NAME, with_activities
from duties.ballot_api import BALLOT_SERVICE_NAME, with_ballots
from duties.bootstrap import DutiesBootstrap
from duties.record_api import DUTY_RECORD_SERVICE_NAME, with_duty_record
from duties.scorecard_api import SCORECARD_SERVICE_NAME, add_scorecard
from duties.service import Duties
from kit.auth import current_principal
from kit.grpc_server import serve
from liaison.common.v1 import auth_pb2
from liaison.duties.v1 import duties_pb2 as pb
from liaison.duties.v1 import duties_pb2_grpc as pb_grpc

Ctx: TypeAlias = grpc.ServicerContext
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DutiesService"].full_name
SERVICE_NAMES = [
    SERVICE_NAME,
    ACTIVITY_SERVICE_NAME,
    BALLOT_SERVICE_NAME,
    DUTY_RECORD_SERVICE_NAME,
    SCORECARD_SERVICE_NAME,
]


class DutiesServicer(pb_grpc.DutiesServiceServicer):
    def __init__(self, duties: Duties) -> None:
        self.duties = duties

    def ListAuditEntries(
        self, request: auth_pb2.ListAuditEntriesRequest, context: Ctx
    ) -> auth_pb2.ListAuditEntriesResponse:
        entries, info = self.duties.audit(request, current_principal())
        return auth_pb2.ListAuditEntriesResponse(entries=entries, page=info)


def register(server: grpc.Server, boot: DutiesBootstrap) -> None:
    """Every gRPC service of the api, each over its part of `boot`."""
    pb_grpc.add_DutiesServiceServicer_to_server(DutiesServicer(boot.duties), server)
    with_duty_record(server, boot.duty_records)
    with_activities(server, boot.activities)
    with_ballots(server, boot.ballots)
    add_scorecard(server, boot.report_plans, boot.learning, boot.scorecards)


def main() -> None:
    boot = DutiesBootstrap.for_process("api")
    serve(
        boot.settings,
        register=lambda server: register(server, boot),
        service_names=SERVICE_NAMES,
        readiness=boot.ready,
        on_stop=boot.close,
    )


if __name__ == "__main__":
    main()
