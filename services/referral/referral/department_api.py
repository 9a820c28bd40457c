"""`liaison.referral.v1.DepartmentService`: the referral service for
departments' own systems, over gRPC (protos/liaison/referral/v1/departments.proto).

Every RPC first takes the caller's unit (`Referral.handling_unit`: the
department role, and a department's `unit_id` or a street office's
`street_id`); the rest is the referral service's own use cases, which check
what the unit may read and do.

`WatchAssignedLetters` streams the feed of letters sent to the caller's
unit (referral.feed): what lies after the client's position first, in
batches, then it looks for new ones every `poll` seconds. Why polling, not
PostgreSQL's LISTEN/NOTIFY: the feed's position makes a read after a
position complete by itself, so a look every second is correct however
the stream, the database connection or the process come and go; a
notification is only a hint (lost while nobody listens, so a reader must
read after its position anyway), would hold a connection per listener or
a listener thread of its own, does not pass a transaction-pooling proxy,
and SQLite (a local run) has none. A second's delay is nothing against a
letter's three months; the look is one indexed query per watch.

Each watch holds one of the api's gRPC threads for as long as it runs (the
server is grpcio's, on a thread pool), so one process holds at most
`max_watches` at once: one more is refused with RESOURCE_EXHAUSTED,
leaving threads for every other call. A watch gives its place back as soon
as the call ends, however it ends (the client cancels, its deadline
passes, the server stops): the call's termination callback frees it and
wakes the watch. `drain()` (on the server's stop, before its grace) ends
every watch with UNAVAILABLE naming the position to resume from.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import grpc

from kit.auth import Principal, current_principal
from kit.errors import DomainError
from kit.grpc_server import check_deadline, remaining_deadline
from liaison.referral.v1 import departments_pb2 as dpb
from liaison.referral.v1 import departments_pb2_grpc as dpb_grpc
from liaison.referral.v1 import referral_pb2 as pb
from referral.service import Referral

SERVICE_NAME = dpb.DESCRIPTOR.services_by_name["DepartmentService"].full_name
# Letters read from the database at once while catching up.
BATCH = 100

_log = logging.getLogger("referral.department_api")


class TooManyWatches(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    reason = "RESOURCE_EXHAUSTED"


class Stopping(DomainError):
    code = grpc.StatusCode.UNAVAILABLE
    reason = "UNAVAILABLE"


class _Place:
    """One watch's place among the process's `max_watches`; given back
    once, whichever of the call's end or the watch's own end comes first."""

    def __init__(self, places: threading.BoundedSemaphore) -> None:
        self._places = places
        self._lock = threading.Lock()
        self._held = True
        self.woken = threading.Event()

    def give_back(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                self._places.release()
        self.woken.set()


class DepartmentServicer(dpb_grpc.DepartmentServiceServicer):
    def __init__(self, referral: Referral, *, max_watches: int = 8, poll: float = 1.0) -> None:
        self.referral = referral
        self.max_watches = max_watches
        self.poll = poll
        self._places = threading.BoundedSemaphore(max_watches)
        self._watching: set[_Place] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def watching(self) -> int:
        """How many watches hold a place now."""
        with self._lock:
            return len(self._watching)

    def drain(self) -> None:
        """End every watch (UNAVAILABLE) and refuse new ones: the server stops."""
        self._stopping.set()
        with self._lock:
            places = list(self._watching)
        for place in places:
            place.woken.set()

    # -- the feed

    def WatchAssignedLetters(
        self, request: dpb.WatchAssignedLettersRequest, context: grpc.ServicerContext
    ) -> Iterator[dpb.AssignedLetter]:
        # Checked before a place is taken: the caller, its unit, `after`.
        who, _ = self.referral.watcher(current_principal(), request.after)
        if self._stopping.is_set():
            raise Stopping(f"the server is stopping: watch again with after={request.after}")
        if not self._places.acquire(blocking=False):
            raise TooManyWatches(
                f"this server already holds {self.max_watches} watches: try again later"
            )
        place = _Place(self._places)
        with self._lock:
            self._watching.add(place)
        if not context.add_callback(place.give_back):
            place.give_back()  # the call has ended already
        try:
            yield from self._watch(place, who, request.after, context)
        finally:
            with self._lock:
                self._watching.discard(place)
            place.give_back()

    def _watch(
        self, place: _Place, who: Principal, after: int, context: grpc.ServicerContext
    ) -> Iterator[dpb.AssignedLetter]:
        while True:
            if self._stopping.is_set():
                raise Stopping(f"the server is stopping: watch again with after={after}")
            if not context.is_active():
                return  # cancelled, or the deadline passed
            check_deadline("watching the letters sent")
            sent = self.referral.letters_sent(who, after, BATCH)
            for item in sent:
                yield item
                after = item.position
            if len(sent) == BATCH:
                continue  # catching up: the next batch at once
            left = remaining_deadline()
            place.woken.wait(self.poll if left is None else min(self.poll, left))

    # -- the use cases, for the caller's unit

    def ListMyLetters(
        self, request: dpb.ListMyLettersRequest, context: grpc.ServicerContext
    ) -> pb.ListLettersResponse:
        who, _ = self.referral.handling_unit(current_principal(), "list the letters sent to it")
        letters, info = self.referral.list_letters(
            pb.ListLettersRequest(stage=request.stage, page=request.page), who
        )
        return pb.ListLettersResponse(letters=letters, page=info)

    def GetMyLetter(self, request: pb.GetLetterRequest, context: grpc.ServicerContext) -> pb.Letter:
        who, _ = self.referral.handling_unit(current_principal(), "read the letters sent to it")
        return self.referral.get_letter(request.id, who)

    def AcknowledgeReceipt(
        self, request: pb.AcknowledgeLetterRequest, context: grpc.ServicerContext
    ) -> pb.Letter:
        who, _ = self.referral.handling_unit(current_principal(), "acknowledge letters")
        return self.referral.acknowledge(request, who)

    def PostAnswer(
        self, request: pb.AnswerLetterRequest, context: grpc.ServicerContext
    ) -> pb.Letter:
        who, _ = self.referral.handling_unit(current_principal(), "answer letters")
        return self.referral.answer(request, who)

    def AskForExtension(
        self, request: pb.RequestExtensionRequest, context: grpc.ServicerContext
    ) -> pb.Letter:
        who, _ = self.referral.handling_unit(current_principal(), "ask for extensions")
        return self.referral.request_extension(request, who)
