"""Letters opened from the reception service's `opinion_handed_on`, on
PostgreSQL: through kit's idempotent consumer, an event delivered twice, or
the same opinion under two event ids, opens one letter with one
`letter_opened` event; and who may read letters, called on the gRPC API as
anything that reaches its port would (refused reads change nothing)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
import sqlalchemy.exc
from google.protobuf.json_format import MessageToDict
from grpc_status import rpc_status
from sqlalchemy import select, update

from kit.errors import violations_from_status
from kit.events import Envelope
from kit.inbox import DeadLetterPublisher, Inbox
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import referral_pb2 as pb
from referral import models
from referral.service import OPENER

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq]

STREET_A, STREET_B = 1, 2
DEPUTY = 7


def handed_on(opinion_id: int, street_id: int = STREET_A, event_id: str = "") -> dict[str, Any]:
    """The body of an `opinion_handed_on` as the reception service publishes it."""
    event = rev.OpinionHandedOn(
        opinion=rev.OpinionFacts(
            id=opinion_id,
            tracking_code=f"TH-2026-{opinion_id:06d}",
            source=opb.OPINION_SOURCE_RECEPTION,
            category=opb.OPINION_CATEGORY_TRANSPORT,
            content="路口红绿灯时间太短，老人过不了马路",
            community_id=3,
            community_name="测试社区",
            station_id=2,
            street_id=street_id,
            taken_by_deputy_id=DEPUTY,
            status=opb.OPINION_STATUS_HANDED_ON,
        ),
        note="转区交通运输局办理",
    )
    return Envelope(
        event_id=event_id or str(uuid.uuid4()),
        type="opinion_handed_on",
        occurred_at=datetime.now(UTC),
        source="reception",
        correlation_id="test",
        schema_version=1,
        payload_type=event.DESCRIPTOR.full_name,
        payload=MessageToDict(event, preserving_proto_field_name=True),
        sequence=opinion_id,
    ).to_body()


Deliver = Callable[[dict[str, Any]], str]


@pytest.fixture(scope="module")
def deliver(api: Any, amqp_uri: str) -> Deliver:
    """Hand a body to kit's idempotent consumer, as the worker's handler does."""
    inbox = Inbox(api.db, max_retries=3, dead_letters=DeadLetterPublisher(amqp_uri))

    def effect(uow: Any, envelope: Envelope) -> None:
        event = envelope.payload_as(rev.OpinionHandedOn)
        api.referral.open_from_opinion(uow, OPENER, event.opinion, event.note)

    def handle(body: dict[str, Any]) -> str:
        return str(
            inbox.handle(body, handler="referral.on_opinion_handed_on", queue="t", effect=effect)
        )

    return handle


def letters_of(api: Any, opinion_id: int) -> list[models.Letter]:
    with api.db.read() as session:
        rows = session.scalars(select(models.Letter).where(models.Letter.opinion_id == opinion_id))
        found = list(rows)
        session.expunge_all()
        return found


def test_a_redelivered_event_opens_one_letter(api: Any, deliver: Deliver) -> None:
    before = api.events("letter_opened")
    body = handed_on(101)
    assert deliver(body) == "handled"
    assert deliver(body) == "duplicate"
    # The same opinion under another event id (published twice): still one.
    assert deliver(handed_on(101)) == "handled"
    (letter,) = letters_of(api, 101)
    assert api.events("letter_opened") == before + 1
    assert letter.tracking_code == "TH-2026-000101"
    assert letter.stage == "jurisdiction"
    assert letter.category == "transport" and letter.deputy_id == DEPUTY
    assert letter.note == "转区交通运输局办理"


def test_a_letter_carries_no_data_of_who_raised_it() -> None:
    names = {f.name for f in pb.Letter.DESCRIPTOR.fields}
    assert not {n for n in names if n.startswith("raiser") or "phone" in n or "contact" in n}


A = {"sub": "test:sc-a", "role": "street_committee", "street_id": STREET_A}
B = {"sub": "test:sc-b", "role": "street_committee", "street_id": STREET_B}
STAFF_B = {"sub": "test:st-b", "role": "station_staff", "street_id": STREET_B}
OWN_DEPUTY = {"sub": "test:d7", "role": "deputy", "deputy_id": DEPUTY}
OTHER_DEPUTY = {"sub": "test:d8", "role": "deputy", "deputy_id": DEPUTY + 1}
ALLOWED, DENIED, NO_TOKEN = (
    grpc.StatusCode.OK,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
)
READS = [
    ("anonymous", NO_TOKEN),
    ("constituent", DENIED),
    ("department", DENIED),
    (OWN_DEPUTY, ALLOWED),
    (OTHER_DEPUTY, DENIED),
    (A, ALLOWED),
    (B, DENIED),
    (STAFF_B, DENIED),
    ("standing-committee-office", ALLOWED),
    ("working-body", ALLOWED),
    ("government-office", ALLOWED),
    ("admin", ALLOWED),
]


@pytest.mark.parametrize(("caller", "expected"), READS, ids=lambda c: str(c)[:24])
def test_who_may_read_a_letter(
    api: Any, deliver: Deliver, caller: Any, expected: grpc.StatusCode
) -> None:
    deliver(handed_on(202))
    (letter,) = letters_of(api, 202)
    stub = api.anonymous if caller == "anonymous" else api.as_(caller)
    try:
        got = stub.GetLetter(pb.GetLetterRequest(id=letter.id))
    except grpc.RpcError as error:
        assert error.code() == expected, error.details()
    else:
        assert expected == ALLOWED
        assert got.tracking_code == "TH-2026-000202"


def test_lists_are_scoped_to_the_callers_street(api: Any, deliver: Deliver) -> None:
    deliver(handed_on(301, STREET_A))
    deliver(handed_on(302, STREET_B))
    mine = api.as_(A).ListLetters(pb.ListLettersRequest()).letters
    assert {x.street_id for x in mine} == {STREET_A}
    assert "TH-2026-000301" in {x.tracking_code for x in mine}
    everyone = api.as_("standing-committee-office").ListLetters(pb.ListLettersRequest())
    assert {x.street_id for x in everyone.letters} == {STREET_A, STREET_B}
    with pytest.raises(grpc.RpcError) as refused:
        api.as_(A).ListLetters(pb.ListLettersRequest(street_id=STREET_B))
    assert refused.value.code() == DENIED
    with pytest.raises(grpc.RpcError) as bad:
        api.as_(A).ListLetters(pb.ListLettersRequest(stage=99))  # type: ignore[arg-type]
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(bad.value)  # type: ignore[arg-type]
    assert status is not None
    assert {v.field for v in violations_from_status(status)} == {"stage"}


def test_an_unknown_letter_is_not_found(api: Any) -> None:
    with pytest.raises(grpc.RpcError) as missing:
        api.as_("admin").GetLetter(pb.GetLetterRequest(id=999_999))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_an_opened_letter_has_a_trail_that_checks_out_and_cannot_be_edited(
    api: Any, deliver: Deliver
) -> None:
    deliver(handed_on(401))
    (letter,) = letters_of(api, 401)
    office = api.as_("standing-committee-office")
    checked = office.VerifyTrail(pb.VerifyTrailRequest(letter_id=letter.id))
    assert checked.intact and checked.entries == 1
    with api.db.read() as session:
        (entry,) = session.scalars(
            select(models.TrailEntry).where(models.TrailEntry.letter_id == letter.id)
        )
        assert entry.kind == "opened" and entry.actor == "system:referral-worker"
        assert entry.payload == {
            "note": "转区交通运输局办理",
            "opinion_id": 401,
            "tracking_code": "TH-2026-000401",
        }
        assert letter.trail_head == entry.hash
    # The database refuses to change an entry, whoever asks.
    refused_write = pytest.raises(sqlalchemy.exc.DBAPIError, match="appended to, never changed")
    with refused_write, api.db.unit_of_work() as uow:
        uow.session.execute(
            update(models.TrailEntry)
            .where(models.TrailEntry.letter_id == letter.id)
            .values(actor="someone else")
        )
    # A trail whose head was tampered with (the newest hash changed, as if
    # an entry had been taken away) no longer checks out.
    with api.db.unit_of_work() as uow:
        uow.session.execute(
            update(models.Letter).where(models.Letter.id == letter.id).values(trail_head="0" * 64)
        )
    broken = office.VerifyTrail(pb.VerifyTrailRequest(letter_id=letter.id))
    assert not broken.intact and broken.reason
    # Only the district's offices check trails.
    with pytest.raises(grpc.RpcError) as refused:
        api.as_(A).VerifyTrail(pb.VerifyTrailRequest(letter_id=letter.id))
    assert refused.value.code() == DENIED
