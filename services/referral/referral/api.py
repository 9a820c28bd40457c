"""`python -m referral.api`: the referral service's gRPC server.

Each RPC is a thin translation onto `referral.service.Referral`, passing the
verified caller (`kit.auth.current_principal()`); the use cases check role
and street scope.
"""

from __future__ import annotations

from typing import TypeAlias

import grpc

from kit.auth import current_principal
from kit.grpc_server import serve
from liaison.common.v1 import auth_pb2
from liaison.referral.v1 import referral_pb2 as pb
from liaison.referral.v1 import referral_pb2_grpc as pb_grpc
from referral.bootstrap import ReferralBootstrap
from referral.service import Referral
from referral.suggestion_api import with_suggestions

Ctx: TypeAlias = grpc.ServicerContext
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ReferralService"].full_name


class ReferralServicer(pb_grpc.ReferralServiceServicer):
    def __init__(self, referral: Referral) -> None:
        self.referral = referral

    def GetLetter(self, request: pb.GetLetterRequest, context: Ctx) -> pb.Letter:
        return self.referral.get_letter(request.id, current_principal())

    def ListLetters(self, request: pb.ListLettersRequest, context: Ctx) -> pb.ListLettersResponse:
        letters, info = self.referral.list_letters(request, current_principal())
        return pb.ListLettersResponse(letters=letters, page=info)

    def VerifyTrail(self, request: pb.VerifyTrailRequest, context: Ctx) -> pb.VerifyTrailResponse:
        return self.referral.verify_trail(request.letter_id, current_principal())

    def ListAuditEntries(
        self, request: auth_pb2.ListAuditEntriesRequest, context: Ctx
    ) -> auth_pb2.ListAuditEntriesResponse:
        entries, info = self.referral.audit(request, current_principal())
        return auth_pb2.ListAuditEntriesResponse(entries=entries, page=info)


def main() -> None:
    boot = ReferralBootstrap.for_process("api")
    serve(
        boot.settings,
        register=lambda server: pb_grpc.add_ReferralServiceServicer_to_server(
            ReferralServicer(boot.referral), with_suggestions(server, boot.suggestions)
        ),
        service_names=[SERVICE_NAME],
        readiness=boot.ready,
        on_stop=boot.close,
    )


if __name__ == "__main__":
    main()
