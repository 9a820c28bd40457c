"""A department's own system on the referral service's DepartmentService:
it watches the letters sent to its department, acknowledges each one's
receipt and answers it, printing what it does.

    uv run --frozen python examples/department_client/client.py \
        --gateway http://127.0.0.1:8000 --target 127.0.0.1:50053

The token: `--token` (or LIAISON_DEPARTMENT_TOKEN), else one from the local
platform's development issuer (`POST <gateway>/api/v1/dev/tokens
{"account": "department-system"}`). In production the department's system
gets its token itself, by an OAuth2 client-credentials grant at the
district's identity provider (see README.md).

It keeps the position of the last letter it handled in `--state` (a file),
and watches again from there when the stream ends or the server stops, so
no letter is missed or handled twice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import grpc

from liaison.referral.v1 import departments_pb2 as dpb
from liaison.referral.v1 import departments_pb2_grpc as dpb_grpc
from liaison.referral.v1 import referral_pb2 as pb

ANSWER = "已收悉，正在办理，办理结果将书面答复。"
# Codes after which watching again may work: the server stopped, or is busy.
RETRY = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED)


def dev_token(gateway: str, account: str = "department-system") -> str:
    """A token of the local platform's development issuer (never in production)."""
    request = urllib.request.Request(
        f"{gateway.rstrip('/')}/api/v1/dev/tokens",
        data=json.dumps({"account": account}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return str(json.load(reply)["access_token"])


class Position:
    """The last position handled, kept in a file when one is named."""

    def __init__(self, path: str | None, start: int = 0) -> None:
        self.path = Path(path) if path else None
        self.value = start
        if self.path is not None and self.path.exists():
            self.value = int(self.path.read_text().strip() or 0)

    def save(self, value: int) -> None:
        self.value = value
        if self.path is not None:
            self.path.write_text(f"{value}\n")


def handle(
    stub: dpb_grpc.DepartmentServiceStub,
    sent: dpb.AssignedLetter,
    *,
    answer: str,
    say: Callable[[str], None],
) -> None:
    """Acknowledge a letter sent, and answer it when leading and asked to."""
    letter = sent.letter
    role = "lead" if sent.lead else "co-handler"
    say(f"letter {letter.id} ({letter.tracking_code}) at position {sent.position}, as {role}")
    # A co-handler acknowledges its own receipt, also once the lead has.
    receivable = [pb.LETTER_STAGE_AWAITING_RECEIPT] + (
        [] if sent.lead else [pb.LETTER_STAGE_IN_HAND]
    )
    if letter.stage in receivable:
        try:
            got = stub.AcknowledgeReceipt(pb.AcknowledgeLetterRequest(letter_id=letter.id))
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            say(f"  not acknowledged: {error.details()}")  # already, say
        else:
            last_day = got.deadline.last_day if got.HasField("deadline") else "-"
            say(f"  acknowledged receipt; last day to answer: {last_day}")
            letter = got
    if sent.lead and answer and letter.stage == pb.LETTER_STAGE_IN_HAND:
        got = stub.PostAnswer(pb.AnswerLetterRequest(letter_id=letter.id, text=answer))
        say(f"  answered; the letter now awaits: {got.awaits or pb.LetterStage.Name(got.stage)}")


def run(
    channel: grpc.Channel,
    token: str,
    *,
    position: Position,
    answer: str = ANSWER,
    max_letters: int = 0,
    seconds: float = 0,
    say: Callable[[str], None] = print,
) -> int:
    """Watch and handle letters until `max_letters` are handled or `seconds`
    pass (0: without end); the number handled."""
    credentials = [("authorization", f"Bearer {token}")]

    stub = dpb_grpc.DepartmentServiceStub(grpc.intercept_channel(channel, _Bearer(credentials)))
    handled = 0
    ends = time.monotonic() + seconds if seconds else None
    pause = 1.0
    while True:
        left = None if ends is None else ends - time.monotonic()
        if left is not None and left <= 0:
            return handled
        say(f"watching the letters sent after position {position.value}")
        stream = stub.WatchAssignedLetters(
            dpb.WatchAssignedLettersRequest(after=position.value), timeout=left
        )
        try:
            for sent in stream:
                handle(stub, sent, answer=answer, say=say)
                position.save(sent.position)
                handled += 1
                pause = 1.0
                if max_letters and handled >= max_letters:
                    stream.cancel()
                    return handled
        except grpc.RpcError as error:
            code = error.code()
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return handled
            if code not in RETRY:
                raise
            say(
                f"the stream ended ({code.name}: {error.details()}); watching again in {pause:.0f} s"
            )
            time.sleep(pause)
            pause = min(pause * 2, 30.0)


class _Bearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds the token to every call."""

    def __init__(self, metadata: list[tuple[str, str]]) -> None:
        self.metadata = metadata

    def _with_token(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        return details._replace(metadata=[*(details.metadata or ()), *self.metadata])  # type: ignore[attr-defined,no-any-return]

    def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):  # type: ignore[no-untyped-def]
        return continuation(self._with_token(details), request)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--target", default="127.0.0.1:50053", help="the referral service's gRPC address"
    )
    parser.add_argument(
        "--gateway", default="http://127.0.0.1:8000", help="for a development token"
    )
    parser.add_argument(
        "--account", default="department-system", help="the demo account of the token"
    )
    parser.add_argument("--token", default=os.environ.get("LIAISON_DEPARTMENT_TOKEN", ""))
    parser.add_argument("--state", help="a file keeping the last position handled")
    parser.add_argument("--after", type=int, default=0, help="the position to start after")
    parser.add_argument(
        "--answer", default=ANSWER, help="the answer's text ('' to only acknowledge)"
    )
    parser.add_argument(
        "--max-letters", type=int, default=0, help="stop after this many (0: never)"
    )
    parser.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    args = parser.parse_args(argv)
    token = args.token or dev_token(args.gateway, args.account)
    with grpc.insecure_channel(args.target) as channel:
        handled = run(
            channel,
            token,
            position=Position(args.state, args.after),
            answer=args.answer,
            max_letters=args.max_letters,
            seconds=args.seconds,
            say=lambda line: print(line, flush=True),
        )
    print(f"handled {handled} letter(s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
