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
from liaison.referral.v1 import departments_pb2_grpc as dpb_grpc
from liaison.referral.v1 import referral_pb2 as pb
from liaison.referral.v1 import referral_pb2_grpc as pb_grpc
from referral.bootstrap import ReferralBootstrap
from referral.department_api import SERVICE_NAME as DEPARTMENTS_SERVICE_NAME
from referral.department_api import DepartmentServicer
from referral.service import Referral
from referral.suggestion_api import SUGGESTION_SERVICE_NAME, with_suggestions

Ctx: TypeAlias = grpc.ServicerContext
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ReferralService"].full_name


class ReferralServicer(pb_grpc.ReferralServiceServicer):
    def __init__(self, referral: Referral) -> None:
        self.referral = referral

    def GetLetter(self, request: pb.GetLetterRequest, context: Ctx) -> pb.Letter:
        return self.referral.get_letter(request.id, current_principal())

    def TrackLetters(
        self, request: pb.TrackLettersRequest, context: Ctx
    ) -> pb.TrackLettersResponse:
        return self.referral.track_letters(request)

    def GetLetterFigures(
        self, request: pb.GetLetterFiguresRequest, context: Ctx
    ) -> pb.LetterFigures:
        return self.referral.figures(request)

    def ListLetters(self, request: pb.ListLettersRequest, context: Ctx) -> pb.ListLettersResponse:
        letters, info = self.referral.list_letters(request, current_principal())
        return pb.ListLettersResponse(letters=letters, page=info)

    def VerifyTrail(self, request: pb.VerifyTrailRequest, context: Ctx) -> pb.VerifyTrailResponse:
        return self.referral.verify_trail(request.letter_id, current_principal())

    # -- the workflow's actions: each a use case of the same name

    def DecideJurisdiction(self, request: pb.DecideJurisdictionRequest, context: Ctx) -> pb.Letter:
        return self.referral.decide_jurisdiction(request, current_principal())

    def SignOff(self, request: pb.SignOffRequest, context: Ctx) -> pb.Letter:
        return self.referral.sign_off(request, current_principal())

    def RefuseSignOff(self, request: pb.RefuseSignOffRequest, context: Ctx) -> pb.Letter:
        return self.referral.refuse_sign_off(request, current_principal())

    def ReviewLetter(self, request: pb.ReviewLetterRequest, context: Ctx) -> pb.Letter:
        return self.referral.review(request, current_principal())

    def DispatchLetter(self, request: pb.DispatchLetterRequest, context: Ctx) -> pb.Letter:
        return self.referral.dispatch(request, current_principal())

    def AssignLetter(self, request: pb.AssignLetterRequest, context: Ctx) -> pb.Letter:
        return self.referral.assign(request, current_principal())

    def AcknowledgeLetter(self, request: pb.AcknowledgeLetterRequest, context: Ctx) -> pb.Letter:
        return self.referral.acknowledge(request, current_principal())

    def UploadAttachment(self, request: pb.UploadAttachmentRequest, context: Ctx) -> pb.Attachment:
        return self.referral.upload_attachment(request, current_principal())

    def GetAttachment(self, request: pb.GetAttachmentRequest, context: Ctx) -> pb.AttachmentContent:
        return self.referral.get_attachment(request, current_principal())

    def AnswerLetter(self, request: pb.AnswerLetterRequest, context: Ctx) -> pb.Letter:
        return self.referral.answer(request, current_principal())

    def RequestExtension(self, request: pb.RequestExtensionRequest, context: Ctx) -> pb.Letter:
        return self.referral.request_extension(request, current_principal())

    def DecideExtension(self, request: pb.DecideExtensionRequest, context: Ctx) -> pb.Letter:
        return self.referral.decide_extension(request, current_principal())

    def FeedBack(self, request: pb.FeedBackRequest, context: Ctx) -> pb.Letter:
        return self.referral.feed_back(request, current_principal())

    def RateAnswer(self, request: pb.RateAnswerRequest, context: Ctx) -> pb.Letter:
        return self.referral.rate(request, current_principal())

    def ListAuditEntries(
        self, request: auth_pb2.ListAuditEntriesRequest, context: Ctx
    ) -> auth_pb2.ListAuditEntriesResponse:
        entries, info = self.referral.audit(request, current_principal())
        return auth_pb2.ListAuditEntriesResponse(entries=entries, page=info)


def register(server: grpc.Server, referral: Referral, departments: DepartmentServicer) -> None:
    """Both services of the api: the letters' and the departments' own."""
    pb_grpc.add_ReferralServiceServicer_to_server(ReferralServicer(referral), server)
    dpb_grpc.add_DepartmentServiceServicer_to_server(departments, server)


def main() -> None:
    boot = ReferralBootstrap.for_process("api")
    departments = DepartmentServicer(
        boot.referral,
        max_watches=boot.settings.max_watches,
        poll=boot.settings.watch_poll_seconds,
    )
    serve(
        boot.settings,
        register=lambda server: register(
            with_suggestions(server, boot.suggestions), boot.referral, departments
        ),
        service_names=[SERVICE_NAME, SUGGESTION_SERVICE_NAME, DEPARTMENTS_SERVICE_NAME],
        readiness=boot.ready,
        on_draining=departments.drain,
        on_stop=boot.close,
    )


if __name__ == "__main__":
    main()
