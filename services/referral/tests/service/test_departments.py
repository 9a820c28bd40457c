"""The departments' own API (DepartmentService) on PostgreSQL: the watch
delivers the letters sent to the caller's unit, and only those, resumes
after a position without gaps or repeats (also while letters are being
sent concurrently), gives its place back when cancelled and ends on the
server's stop; the use cases refuse bad input changing nothing; and the
example client acknowledges and answers a letter it is sent."""

from __future__ import annotations

import importlib.util
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from liaison.referral.v1 import departments_pb2 as dpb
from liaison.referral.v1 import referral_pb2 as pb

pytestmark = [pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[4]
WATER, ROADS = 61, 62  # two departments of these tests only
WATER_SYSTEM = {"sub": "client:water", "client_id": "client:water", "role": "department",
                "unit_id": WATER}  # fmt: skip
ROADS_SYSTEM = {"sub": "client:roads", "client_id": "client:roads", "role": "department",
                "unit_id": ROADS}  # fmt: skip


def assign(api: Any, letter_id: int, lead: int, *co: int) -> None:
    api.as_("government-office").AssignLetter(
        pb.AssignLetterRequest(letter_id=letter_id, lead_department_id=lead, co_handler_ids=co)
    )


class Watch:
    """A watch read on a thread of its own, its letters in a queue."""

    def __init__(self, api: Any, who: Any, after: int = 0, timeout: float | None = None) -> None:
        self.call = api.department(who).WatchAssignedLetters(
            dpb.WatchAssignedLettersRequest(after=after), timeout=timeout
        )
        self.got: queue.Queue[dpb.AssignedLetter] = queue.Queue()
        self.error: grpc.RpcError | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for item in self.call:
                self.got.put(item)
        except grpc.RpcError as error:
            self.error = error

    def next(self, seconds: float = 10) -> dpb.AssignedLetter:
        return self.got.get(timeout=seconds)

    def nothing_more(self, seconds: float = 0.5) -> bool:
        try:
            self.got.get(timeout=seconds)
        except queue.Empty:
            return True
        return False

    def cancel(self) -> None:
        self.call.cancel()
        self.thread.join(10)


@pytest.fixture
def watches(api: Any) -> Iterator[Callable[..., Watch]]:
    opened: list[Watch] = []

    def watch(who: Any, after: int = 0, timeout: float | None = None) -> Watch:
        opened.append(Watch(api, who, after, timeout))
        return opened[-1]

    yield watch
    for w in opened:
        w.cancel()
    deadline = time.monotonic() + 10
    while api.departments.watching and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_watch_delivers_its_departments_letters_and_resumes_without_gaps(
    api: Any, to_assignment: Any, watches: Any
) -> None:
    earlier = to_assignment()
    assign(api, earlier, WATER)
    watch = watches(WATER_SYSTEM)
    first = watch.next()  # what was sent before the watch: replayed
    assert first.letter.id == earlier and first.lead and first.position > 0
    # Another department's letter is not in it; a letter co-handled is.
    theirs, shared = to_assignment(), to_assignment()
    assign(api, theirs, ROADS)
    assign(api, shared, ROADS, WATER)
    second = watch.next()
    assert second.letter.id == shared and not second.lead
    assert second.position > first.position
    assert second.letter.stage == pb.LETTER_STAGE_AWAITING_RECEIPT
    assert watch.nothing_more()
    watch.cancel()

    # Letters sent while nobody watches, some concurrently: a watch from the
    # last position handled gets each exactly once, in position order.
    letters = [to_assignment() for _ in range(6)]
    threads = [threading.Thread(target=assign, args=(api, i, WATER)) for i in letters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    resumed = watches(WATER_SYSTEM, after=second.position)
    got = [resumed.next() for _ in letters]
    assert sorted(g.letter.id for g in got) == sorted(letters)
    positions = [g.position for g in got]
    assert positions == sorted(positions) and positions[0] > second.position
    assert resumed.nothing_more()
    # From the first position: everything after it, the co-handled one first.
    again = watches(ROADS_SYSTEM)
    assert [again.next().letter.id for _ in range(2)] == [theirs, shared]


def test_a_watch_sees_letters_sent_while_it_runs_during_concurrent_sending(
    api: Any, to_assignment: Any, watches: Any
) -> None:
    """Sending concurrently with a watch that reads as it goes: no letter is
    skipped because one with a lower position committed after a higher one."""
    letters = [to_assignment() for _ in range(8)]
    watch = watches(
        {**ROADS_SYSTEM, "unit_id": 71, "sub": "client:parks", "client_id": "client:parks"}
    )
    threads = [threading.Thread(target=assign, args=(api, i, 71)) for i in letters]
    for t in threads:
        t.start()
    got = [watch.next() for _ in letters]
    for t in threads:
        t.join()
    assert sorted(g.letter.id for g in got) == sorted(letters)
    assert [g.position for g in got] == sorted(g.position for g in got)
    assert watch.nothing_more()


def test_watches_are_bounded_and_a_cancelled_one_gives_its_place_back(
    api: Any, watches: Any
) -> None:
    far = 2**40  # past every letter: the watches wait
    first, second = watches(WATER_SYSTEM, far), watches(ROADS_SYSTEM, far)
    deadline = time.monotonic() + 10
    while api.departments.watching < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.departments.watching == 2  # the fixture's server holds two
    third = watches(WATER_SYSTEM, far)
    third.thread.join(10)
    assert third.error is not None
    assert third.error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    first.cancel()
    while api.departments.watching > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.departments.watching == 1
    fourth = watches(WATER_SYSTEM, far)
    assert fourth.nothing_more() and fourth.error is None
    second.cancel()


def test_a_watch_ends_at_its_deadline_and_gives_its_place_back(api: Any, watches: Any) -> None:
    watch = watches(WATER_SYSTEM, after=2**40, timeout=0.5)
    watch.thread.join(10)
    assert watch.error is not None and watch.error.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    deadline = time.monotonic() + 10
    while api.departments.watching and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.departments.watching == 0


def test_the_servers_stop_ends_watches_naming_where_to_resume(api: Any, watches: Any) -> None:
    watch = watches(WATER_SYSTEM, after=2**40)
    deadline = time.monotonic() + 10
    while not api.departments.watching and time.monotonic() < deadline:
        time.sleep(0.05)
    api.departments.drain()
    try:
        watch.thread.join(10)
        assert watch.error is not None
        assert watch.error.code() is grpc.StatusCode.UNAVAILABLE
        assert f"after={2**40}" in watch.error.details()
        refused = watches(ROADS_SYSTEM)
        refused.thread.join(10)
        assert refused.error is not None
        assert refused.error.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        api.departments._stopping.clear()


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("government-office", grpc.StatusCode.PERMISSION_DENIED),
        ("street-committee", grpc.StatusCode.PERMISSION_DENIED),
        ("admin", grpc.StatusCode.PERMISSION_DENIED),
        # The department role naming no unit at all.
        ({"sub": "test:nobody", "role": "department"}, grpc.StatusCode.PERMISSION_DENIED),
    ],
)
def test_only_a_departments_or_street_offices_token_may_use_it(
    api: Any, who: Any, code: grpc.StatusCode
) -> None:
    stub = api.department(who)
    error = api.refused(
        lambda: list(stub.WatchAssignedLetters(dpb.WatchAssignedLettersRequest())), code
    )
    assert "department" in error.details()
    api.refused(lambda: stub.ListMyLetters(dpb.ListMyLettersRequest()), code)
    api.refused(lambda: stub.GetMyLetter(pb.GetLetterRequest(id=1)), code)
    api.refused(
        lambda: list(
            api.department("department").WatchAssignedLetters(
                dpb.WatchAssignedLettersRequest(after=-1)
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


def test_a_street_office_watches_its_streets_letters(
    api: Any, open_letter: Any, watches: Any
) -> None:
    letter_id = open_letter(street_id=7)
    office = {"sub": "test:office-7", "role": "department", "street_id": 7}
    committee = {"sub": "test:sc-7", "role": "street_committee", "street_id": 7}
    api.as_(committee).DecideJurisdiction(
        pb.DecideJurisdictionRequest(letter_id=letter_id, route=pb.ROUTE_STREET)
    )
    for position in ("street_full_time_deputy_director", "street_director"):
        signer = {**committee, "sub": f"test:{position}", "position": position}
        if position == "street_full_time_deputy_director":
            api.as_("deputy").SignOff(pb.SignOffRequest(letter_id=letter_id))
        api.as_(signer).SignOff(pb.SignOffRequest(letter_id=letter_id))
    got = watches(office).next()
    assert got.letter.id == letter_id and got.lead
    assert got.letter.handler.kind == pb.UNIT_KIND_STREET_OFFICE
    mine = api.department(office).ListMyLetters(dpb.ListMyLettersRequest())
    assert [x.id for x in mine.letters] == [letter_id]


def test_the_use_cases_refuse_bad_input_changing_nothing(api: Any, to_assignment: Any) -> None:
    letter_id = to_assignment()
    assign(api, letter_id, WATER)
    water, roads = api.department(WATER_SYSTEM), api.department(ROADS_SYSTEM)
    assert water.GetMyLetter(pb.GetLetterRequest(id=letter_id)).id == letter_id
    mine = water.ListMyLetters(dpb.ListMyLettersRequest(stage=pb.LETTER_STAGE_AWAITING_RECEIPT))
    assert letter_id in [x.id for x in mine.letters]
    assert letter_id not in [x.id for x in roads.ListMyLetters(dpb.ListMyLettersRequest()).letters]
    # An unknown letter; another department's.
    api.refused(lambda: water.GetMyLetter(pb.GetLetterRequest(id=2**62)), grpc.StatusCode.NOT_FOUND)
    api.refused(
        lambda: water.AcknowledgeReceipt(pb.AcknowledgeLetterRequest(letter_id=2**62)),
        grpc.StatusCode.NOT_FOUND,
    )
    api.unchanged(
        letter_id,
        lambda: roads.GetMyLetter(pb.GetLetterRequest(id=letter_id)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    api.unchanged(
        letter_id,
        lambda: roads.AcknowledgeReceipt(pb.AcknowledgeLetterRequest(letter_id=letter_id)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    # An answer before the receipt.
    error = api.unchanged(
        letter_id,
        lambda: water.PostAnswer(pb.AnswerLetterRequest(letter_id=letter_id, text="已办理")),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "receipt" in error.details()
    got = water.AcknowledgeReceipt(pb.AcknowledgeLetterRequest(letter_id=letter_id))
    assert got.stage == pb.LETTER_STAGE_IN_HAND and got.deadline.last_day
    # An extension past six months from receipt; an answer without text.
    error = api.unchanged(
        letter_id,
        lambda: water.AskForExtension(
            pb.RequestExtensionRequest(
                letter_id=letter_id, reason="需要协调", requested_last_day="2099-01-01"
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "legal limit" in api.field_errors(error)["requested_last_day"]
    error = api.unchanged(
        letter_id,
        lambda: water.PostAnswer(pb.AnswerLetterRequest(letter_id=letter_id)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert api.field_errors(error)
    got = water.PostAnswer(pb.AnswerLetterRequest(letter_id=letter_id, text="已完成维修"))
    assert got.stage == pb.LETTER_STAGE_ANSWERED


def _example() -> Any:
    path = ROOT / "examples" / "department_client" / "client.py"
    spec = importlib.util.spec_from_file_location("department_client", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_client_acknowledges_and_answers_a_letter_sent(
    api: Any, to_assignment: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _example()
    state = tmp_path / "position"
    argv = ["--target", api.target, "--token", api.token("department-system"),
            "--state", str(state), "--max-letters", "1", "--seconds", "60"]  # fmt: skip
    outcome: list[int] = []
    runner = threading.Thread(target=lambda: outcome.append(client.main(argv)), daemon=True)
    runner.start()
    letter_id = to_assignment()
    assign(api, letter_id, 52)  # the demo department's, whose system the account is
    runner.join(60)
    assert outcome == [0]
    printed = capsys.readouterr().out
    assert f"letter {letter_id}" in printed and "acknowledged receipt" in printed
    assert "answered" in printed and "handled 1 letter(s)" in printed
    got = api.as_("admin").GetLetter(pb.GetLetterRequest(id=letter_id))
    assert got.stage == pb.LETTER_STAGE_ANSWERED
    assert got.answers[-1].text == client.ANSWER
    # The position is kept: watching again from it finds nothing to do.
    assert int(state.read_text()) > 0
    assert client.main([*argv[:6], "--seconds", "1"]) == 0
    assert "handled 0 letter(s)" in capsys.readouterr().out
