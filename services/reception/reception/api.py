"""`python -m reception.api`: the reception service's gRPC server.

Each RPC is a thin translation onto `reception.service.Reception`, passing
the verified caller (`kit.auth.current_principal()`); the use cases check
role and street scope. A background thread loads the registry's snapshot
into the read model when it is empty (retrying until the registry answers)
and again every few hours; the registry's events keep it current between.
"""

from __future__ import annotations

import logging
import threading
from typing import TypeAlias

import grpc

from kit.auth import current_principal
from kit.grpc_server import serve
from liaison.common.v1 import auth_pb2
from liaison.reception.v1 import bookings_pb2 as bpb
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.reception.v1 import reception_pb2 as pb
from liaison.reception.v1 import reception_pb2_grpc as pb_grpc
from liaison.reception.v1 import rota_pb2
from reception.bootstrap import ReceptionBootstrap
from reception.readmodel import is_empty
from reception.service import Reception

Ctx: TypeAlias = grpc.ServicerContext
log = logging.getLogger(__name__)


class ReceptionServicer(pb_grpc.ReceptionServiceServicer):
    def __init__(self, reception: Reception) -> None:
        self.reception = reception

    def ListSessions(
        self, request: pb.ListSessionsRequest, context: Ctx
    ) -> pb.ListSessionsResponse:
        sessions = self.reception.list_sessions(
            request.station_id, getattr(request, "from"), request.to
        )
        return pb.ListSessionsResponse(sessions=sessions)

    def GetSession(self, request: pb.GetSessionRequest, context: Ctx) -> pb.Session:
        return self.reception.get_session(request.id)

    def GetStationCalendar(
        self, request: pb.GetStationCalendarRequest, context: Ctx
    ) -> pb.CalendarFeed:
        return self.reception.station_calendar(request.station_id)

    def GetDeputyCalendar(
        self, request: pb.GetDeputyCalendarRequest, context: Ctx
    ) -> pb.CalendarFeed:
        return self.reception.deputy_calendar(request.deputy_id)

    def GetStationRule(self, request: pb.GetStationRuleRequest, context: Ctx) -> pb.StationRule:
        return self.reception.get_rule(request.station_id, current_principal())

    def SetStationRule(self, request: pb.SetStationRuleRequest, context: Ctx) -> pb.StationRule:
        return self.reception.set_rule(request.rule, current_principal())

    def ScheduleSessions(
        self, request: pb.ScheduleSessionsRequest, context: Ctx
    ) -> pb.ScheduleSessionsResponse:
        done = self.reception.schedule(
            request.station_id, request.from_month, request.months, current_principal()
        )
        return pb.ScheduleSessionsResponse(
            created=len(done.created), existing=done.existing, sessions=done.created
        )

    def AddSession(self, request: pb.AddSessionRequest, context: Ctx) -> pb.Session:
        return self.reception.add_session(
            request.station_id, request.date, request.reason, request.slots, current_principal()
        )

    def CancelSession(self, request: pb.CancelSessionRequest, context: Ctx) -> pb.Session:
        return self.reception.cancel_session(request.id, request.reason, current_principal())

    # -- the rota (reception.rota, reception.rotas)

    def GetRota(self, request: rota_pb2.GetRotaRequest, context: Ctx) -> rota_pb2.SessionRota:
        return self.reception.rota.get(request.session_id)

    def SetRota(self, request: rota_pb2.SetRotaRequest, context: Ctx) -> rota_pb2.SessionRota:
        return self.reception.rota.set(request.session_id, request.deputies, current_principal())

    def GenerateRota(
        self, request: rota_pb2.GenerateRotaRequest, context: Ctx
    ) -> rota_pb2.GenerateRotaResponse:
        done = self.reception.generate_rota(
            request.station_id,
            request.from_month,
            request.months,
            request.regenerate,
            current_principal(),
        )
        return rota_pb2.GenerateRotaResponse(
            published=len(done.rotas), kept=done.kept, rotas=done.rotas
        )

    def DeclareUnavailability(
        self, request: rota_pb2.DeclareUnavailabilityRequest, context: Ctx
    ) -> rota_pb2.Unavailability:
        return self.reception.rota.declare(
            request.deputy_id,
            request.first_day,
            request.last_day,
            request.reason,
            current_principal(),
        )

    def ListUnavailability(
        self, request: rota_pb2.ListUnavailabilityRequest, context: Ctx
    ) -> rota_pb2.ListUnavailabilityResponse:
        items = self.reception.rota.list_away(
            request.deputy_id, request.include_withdrawn, current_principal()
        )
        return rota_pb2.ListUnavailabilityResponse(items=items)

    def WithdrawUnavailability(
        self, request: rota_pb2.WithdrawUnavailabilityRequest, context: Ctx
    ) -> rota_pb2.Unavailability:
        return self.reception.rota.withdraw(request.deputy_id, request.id, current_principal())

    def ProposeSwap(self, request: rota_pb2.ProposeSwapRequest, context: Ctx) -> rota_pb2.RotaSwap:
        return self.reception.rota.propose(
            request.proposer_id,
            request.session_id,
            request.counterpart_id,
            request.counterpart_session_id,
            current_principal(),
        )

    def AcceptSwap(self, request: rota_pb2.DecideSwapRequest, context: Ctx) -> rota_pb2.RotaSwap:
        return self.reception.rota.accept(request.id, current_principal())

    def DeclineSwap(self, request: rota_pb2.DecideSwapRequest, context: Ctx) -> rota_pb2.RotaSwap:
        return self.reception.rota.decline(request.id, current_principal())

    def ListSwaps(
        self, request: rota_pb2.ListSwapsRequest, context: Ctx
    ) -> rota_pb2.ListSwapsResponse:
        swaps = self.reception.rota.swaps(
            request.deputy_id, request.station_id, current_principal()
        )
        return rota_pb2.ListSwapsResponse(swaps=swaps)

    # -- bookings (reception.bookings)

    def BookSlot(self, request: bpb.BookSlotRequest, context: Ctx) -> bpb.BookSlotResponse:
        return self.reception.bookings.book(request, current_principal())

    def CancelBooking(self, request: bpb.CancelBookingRequest, context: Ctx) -> bpb.Booking:
        return self.reception.bookings.cancel(
            request.booking_id, request.cancel_code, current_principal()
        )

    def GetAvailability(
        self, request: bpb.GetAvailabilityRequest, context: Ctx
    ) -> bpb.Availability:
        return self.reception.bookings.availability(request.session_id)

    def ListSessionBookings(
        self, request: bpb.ListSessionBookingsRequest, context: Ctx
    ) -> bpb.ListSessionBookingsResponse:
        return self.reception.bookings.session_bookings(request.session_id, current_principal())

    def ListMyBookings(
        self, request: bpb.ListMyBookingsRequest, context: Ctx
    ) -> bpb.ListMyBookingsResponse:
        return self.reception.bookings.my_bookings(current_principal())

    def RecordWalkIn(self, request: bpb.RecordWalkInRequest, context: Ctx) -> bpb.WalkIn:
        return self.reception.bookings.record_walk_in(request, current_principal())

    def MarkAttendance(self, request: bpb.MarkAttendanceRequest, context: Ctx) -> bpb.Booking:
        return self.reception.bookings.mark_attendance(
            request.booking_id, request.attendance, current_principal()
        )

    # -- opinions and reception records (reception.opinions)

    def RecordOpinion(self, request: opb.RecordOpinionRequest, context: Ctx) -> opb.Opinion:
        return self.reception.opinions.record(request, current_principal())

    def TrackOpinion(self, request: opb.TrackOpinionRequest, context: Ctx) -> opb.OpinionTrack:
        return self.reception.opinions.track(request.tracking_code)

    def ListPublicOpinions(
        self, request: opb.ListPublicOpinionsRequest, context: Ctx
    ) -> opb.ListPublicOpinionsResponse:
        return opb.ListPublicOpinionsResponse(opinions=self.reception.opinions.public_list(request))

    def ListOpinionCategories(
        self, request: opb.ListOpinionCategoriesRequest, context: Ctx
    ) -> opb.ListOpinionCategoriesResponse:
        return opb.ListOpinionCategoriesResponse(categories=self.reception.opinions.categories())

    def ListOpinions(
        self, request: opb.ListOpinionsRequest, context: Ctx
    ) -> opb.ListOpinionsResponse:
        found, token = self.reception.opinions.triage_queue(request, current_principal())
        return opb.ListOpinionsResponse(opinions=found, next_page_token=token)

    def GetOpinion(self, request: opb.GetOpinionRequest, context: Ctx) -> opb.Opinion:
        return self.reception.opinions.get(request.id, current_principal())

    def AnswerOpinion(self, request: opb.AnswerOpinionRequest, context: Ctx) -> opb.Opinion:
        return self.reception.opinions.answer(request.id, request.answer, current_principal())

    def HandOnOpinion(self, request: opb.HandOnOpinionRequest, context: Ctx) -> opb.Opinion:
        return self.reception.opinions.hand_on(request.id, request.note, current_principal())

    def MergeOpinion(self, request: opb.MergeOpinionRequest, context: Ctx) -> opb.Opinion:
        return self.reception.opinions.merge(request.id, request.into_id, current_principal())

    def DeclineOpinion(self, request: opb.DeclineOpinionRequest, context: Ctx) -> opb.Opinion:
        return self.reception.opinions.decline(request.id, request.reason, current_principal())

    def AssignOpinion(self, request: opb.AssignOpinionRequest, context: Ctx) -> opb.Opinion:
        return self.reception.opinions.assign(request.id, request.deputy_id, current_principal())

    def CompleteOpinion(self, request: opb.CompleteOpinionRequest, context: Ctx) -> opb.Opinion:
        return self.reception.opinions.complete(request.id, request.answer, current_principal())

    def SuggestDeputies(
        self, request: opb.SuggestDeputiesRequest, context: Ctx
    ) -> opb.SuggestDeputiesResponse:
        found = self.reception.opinions.suggest(request.id, request.limit, current_principal())
        return opb.SuggestDeputiesResponse(deputies=found)

    def PutReceptionRecord(
        self, request: opb.PutReceptionRecordRequest, context: Ctx
    ) -> opb.ReceptionRecord:
        return self.reception.reception_records.put(request, current_principal())

    def GetReceptionRecord(
        self, request: opb.GetReceptionRecordRequest, context: Ctx
    ) -> opb.ReceptionRecord:
        return self.reception.reception_records.get(request.session_id, current_principal())

    def GetReceptionFigures(
        self, request: opb.GetReceptionFiguresRequest, context: Ctx
    ) -> opb.ReceptionFigures:
        return self.reception.reception_records.figures(request)

    # -- the audit

    def ListAuditEntries(
        self, request: auth_pb2.ListAuditEntriesRequest, context: Ctx
    ) -> auth_pb2.ListAuditEntriesResponse:
        entries, info = self.reception.audit(request, current_principal())
        return auth_pb2.ListAuditEntriesResponse(entries=entries, page=info)


def keep_registry_loaded(boot: ReceptionBootstrap, stop: threading.Event) -> None:
    """Load the registry's snapshot while the read model is empty (retrying
    until the registry answers), then again every
    LIAISON_RECEPTION_REGISTRY_RELOAD_SECONDS: a snapshot repairs what
    events could not tell (those published before the worker's queues
    existed, or dead-lettered), and changes nothing that events brought."""
    delay = 1.0
    wait = 0.0
    while not stop.wait(wait):
        try:
            if is_empty(boot.db) or wait:
                boot.load_registry()
            delay, wait = 1.0, float(boot.settings.registry_reload_seconds)
        except Exception as exc:
            log.warning(
                "the registry's snapshot could not be loaded (%s); next try in %.0fs", exc, delay
            )
            wait, delay = delay, min(30.0, delay * 2)


def main() -> None:
    boot = ReceptionBootstrap.for_process("api")
    stop = threading.Event()
    threading.Thread(
        target=keep_registry_loaded, args=(boot, stop), name="registry-snapshot", daemon=True
    ).start()

    def on_stop() -> None:
        stop.set()
        boot.close()

    serve(
        boot.settings,
        register=lambda server: pb_grpc.add_ReceptionServiceServicer_to_server(
            ReceptionServicer(boot.reception), server
        ),
        service_names=[pb.DESCRIPTOR.services_by_name["ReceptionService"].full_name],
        readiness=boot.ready,
        on_stop=on_stop,
    )


if __name__ == "__main__":
    main()
