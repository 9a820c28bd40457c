"""The public duty record on real PostgreSQL: a year of reception's,
referral's and the duties service's own events through kit's idempotent consumer into the projection,
each delivered twice and all shuffled, gives the record the events give in
the order published; the public read counts by kind and pages the entries,
with public facts only. (The worker consuming them from RabbitMQ:
test_duty_record_worker.py.)"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import grpc
import pytest

from duties import duty_record as dr
from duties.record_testing import (
    BY_MESSAGE,
    START,
    Published,
    Publisher,
    expected_record,
    stored,
    year_of_a_street,
)
from kit.events import Envelope
from kit.inbox import DUPLICATE, HANDLED, DeadLetterPublisher, Inbox
from kit.testrun import field_errors, refused
from liaison.common.v1 import envelope_pb2
from liaison.duties.v1 import record_pb2 as pb
from liaison.duties.v1 import record_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.postgres]

SEED = 20261127
DEPUTIES = [1, 2, 3, 4]


def deliver(api: Any, inbox: Inbox, event: Published) -> str:
    source = BY_MESSAGE[(event.source, event.body["payload_type"])]

    def effect(uow: Any, envelope: Envelope) -> None:
        api.boot.duty_records.apply(uow, source, envelope.payload_as(source.message), envelope)

    return str(inbox.handle(event.body, handler=f"test.{event.type}", queue="t", effect=effect))


def stored_record(api: Any) -> dict[int, list[tuple[Any, ...]]]:
    return stored(api.db)


@pytest.fixture(scope="module")
def story() -> list[Published]:
    publisher = Publisher(START)
    year_of_a_street(publisher, DEPUTIES)
    return publisher.events


@pytest.fixture(scope="module")
def delivered(api: Any, amqp_uri: str, story: list[Published]) -> list[str]:
    """Every event twice, all shuffled, through kit's idempotent consumer."""
    inbox = Inbox(api.db, max_retries=3, dead_letters=DeadLetterPublisher(amqp_uri))
    twice = story + story
    random.Random(SEED).shuffle(twice)
    return [deliver(api, inbox, event) for event in twice]


def test_redelivered_and_shuffled_events_converge_to_the_published_order(
    api: Any, story: list[Published], delivered: list[str]
) -> None:
    assert delivered.count(HANDLED) == len(story)
    assert delivered.count(DUPLICATE) == len(story)
    assert {e.source for e in story} == {"reception", "referral", "duties"}
    expected = expected_record(story)
    assert stored_record(api) == expected
    # every deputy has each kind, and the rule's corrections show: deputy 1
    # was recorded at reception 1 by mistake and taken off again
    assert set(expected) == set(DEPUTIES)
    kinds = {row[3] for rows in expected.values() for row in rows}
    assert kinds == {k.value for k in dr.EntryKind}


def test_the_same_event_under_another_id_changes_nothing(
    api: Any, amqp_uri: str, story: list[Published], delivered: list[str]
) -> None:
    inbox = Inbox(api.db, max_retries=3, dead_letters=DeadLetterPublisher(amqp_uri))
    before = stored_record(api)
    early = story[0]  # the first reception record, with a deputy too many
    again = Published(early.source, early.type, {**early.body, "event_id": "another-id"})
    assert deliver(api, inbox, again) == HANDLED
    assert stored_record(api) == before


def record(api: Any, deputy: int, **kw: Any) -> pb.DutyRecord:
    stub = pb_grpc.DutyRecordServiceStub(api.channel_as(None))
    return stub.GetDutyRecord(pb.GetDutyRecordRequest(deputy_id=deputy, **kw))  # type: ignore[no-any-return]


def test_anyone_reads_a_year_by_kind_and_in_pages(api: Any, delivered: list[str]) -> None:
    whole = record(api, 1, year=2026, page=envelope_pb2.PageRequest(page_size=500))
    counts = {c.kind: (c.count, c.completed) for c in whole.counts}
    assert list(counts) == [k.value for k in dr.EntryKind]
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for entry in whole.entries:
        by_kind[entry.kind].append(entry.completed)
    assert counts == {k.value: (len(by_kind[k.value]), sum(by_kind[k.value])) for k in dr.EntryKind}
    assert counts["report_rated"] == (0, 0)  # deputy 4's ballot, not deputy 1's
    assert whole.page.total_size == len(whole.entries)
    pages, token = [], ""
    while True:
        part = record(
            api, 1, year=2026, page=envelope_pb2.PageRequest(page_size=7, page_token=token)
        )
        pages.extend(part.entries)
        token = part.page.next_page_token
        if not token:
            break
    assert pages == list(whole.entries)
    letters = record(api, 1, year=2026, kind="letter_followed")
    assert {e.kind for e in letters.entries} == {"letter_followed"}
    assert {e.detail for e in letters.entries} == {"rated:satisfied"}
    assert letters.counts == whole.counts
    assert record(api, 1, year=2025).entries == []
    # public facts only: never the opinion's text, who raised it, or its code
    text = str(whole)
    for secret in ("13800000000", "张先生", "TH-2026", "c-1"):
        assert secret not in text


def test_bad_reads_name_the_problem(api: Any) -> None:
    bad = refused(
        lambda: record(api, 1, year=1999, kind="gossip"), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert set(field_errors(bad)) == {"year", "kind"}
    unknown = refused(lambda: record(api, 999), grpc.StatusCode.NOT_FOUND)
    assert unknown.details() == "the registry has no deputy 999"
