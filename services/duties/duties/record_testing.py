"""For the duty record's tests and benchmark: other services' events as they
publish them (envelope bodies, numbered per service in commit order), a
year's story of them, and what the record must show once they are all in,
whatever their order (`duties.duty_record.merge_all` over them in order)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from duties import duty_record as dr
from duties.record_models import DutyRecordEntry
from kit.db import Database
from kit.events import Envelope, event_type_of
from liaison.duties.v1 import activities_pb2 as apb
from liaison.duties.v1 import activity_events_pb2 as aev
from liaison.duties.v1 import ballot_events_pb2 as bev
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import events_pb2 as fev
from liaison.referral.v1 import referral_pb2 as fpb
from liaison.referral.v1 import suggestion_events_pb2 as sev
from liaison.referral.v1 import suggestions_pb2 as spb

BY_MESSAGE = {(s.service, s.message.DESCRIPTOR.full_name): s for s in dr.MAPPINGS}


@dataclass(frozen=True)
class Published:
    """One event as its service published it."""

    source: str
    type: str
    body: dict[str, Any]


class Publisher:
    """Numbers each service's events 1, 2, 3, ... as kit.outbox does."""

    def __init__(self, start: datetime) -> None:
        self.sequence: dict[str, int] = defaultdict(int)
        self.clock = start
        self.events: list[Published] = []

    def publish(self, source: str, message: Message, *, after: timedelta | None = None) -> None:
        self.clock += after or timedelta(hours=1)
        self.sequence[source] += 1
        body = Envelope(
            event_id=f"{source}-{self.sequence[source]}-{id(message)}",
            type=event_type_of(message),
            occurred_at=self.clock,
            source=source,
            correlation_id="",
            schema_version=1,
            payload_type=message.DESCRIPTOR.full_name,
            payload=MessageToDict(message, preserving_proto_field_name=True),
            sequence=self.sequence[source],
        ).to_body()
        self.events.append(Published(source, event_type_of(message), body))


def stamp(at: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(at)
    return ts


def year_of_a_street(
    publisher: Publisher, deputies: list[int], *, session_base: int = 0, record_base: int = 0
) -> None:
    """A year of the events that make `deputies`' duty records (a station's
    deputies): a reception each month, recorded then corrected and locked;
    opinions taken, some handed on as letters followed to their answer and
    rating; a suggestion proposed with co-signers, answered and rated; and
    the duties service's own: a training every deputy attended, an
    inspection some did, a research reported, each deputy visited, a duty
    report's ballot published."""
    for month in range(1, 13):
        session_id = session_base + month
        day = f"{publisher.clock.year}-{month:02d}-15"
        present = [d for i, d in enumerate(deputies) if (i + month) % 3 != 0]
        record = rev.ReceptionRecorded(
            session_id=session_id, station_id=1, session_date=day, person_times=5 + month
        )
        record.deputy_ids.extend([*present, deputies[month % len(deputies)]])
        publisher.publish("reception", record)  # one too many...
        record.ClearField("deputy_ids")
        record.deputy_ids.extend(present)
        record.locked = True
        publisher.publish("reception", record)  # ...corrected and locked
        for n, deputy in enumerate(present):
            opinion_id = record_base + month * 100 + n
            facts = rev.OpinionFacts(
                id=opinion_id,
                tracking_code=f"TH-2026-{opinion_id:06d}",
                content="业主张先生 13800000000 反映电梯故障",
                category=opb.OPINION_CATEGORY_PROPERTY,
                session_id=session_id,
                status=opb.OPINION_STATUS_RECORDED,
            )
            publisher.publish("reception", rev.OpinionRecorded(opinion=facts))
            facts.taken_by_deputy_id = deputy
            facts.status = opb.OPINION_STATUS_IN_PROGRESS
            publisher.publish("reception", rev.OpinionAssigned(opinion=facts, deputy_id=deputy))
            if n % 2:
                facts.status = opb.OPINION_STATUS_DONE
                publisher.publish("reception", rev.OpinionDone(opinion=facts, answer="已解决"))
                continue
            facts.status = opb.OPINION_STATUS_HANDED_ON
            publisher.publish("reception", rev.OpinionHandedOn(opinion=facts, raiser_sub="c-1"))
            letter = fpb.Letter(
                id=opinion_id,
                opinion_id=opinion_id,
                tracking_code=facts.tracking_code,
                content=facts.content,
                category=facts.category,
                deputy_id=deputy,
                stage=fpb.LETTER_STAGE_JURISDICTION,
                opened_at=stamp(publisher.clock),
            )
            publisher.publish("referral", fev.LetterOpened(letter=letter))
            for kind, stage in (
                ("received", fpb.LETTER_STAGE_IN_HAND),
                ("answered", fpb.LETTER_STAGE_ANSWERED),
                ("rated", fpb.LETTER_STAGE_CLOSED),
            ):
                letter.stage = stage
                if kind == "answered":
                    letter.answers.add(text="已维修")
                if kind == "rated":
                    letter.ratings.add(satisfaction=fpb.SATISFACTION_SATISFIED)
                publisher.publish(
                    "referral", fev.LetterMoved(kind=kind, letter=letter), after=timedelta(days=3)
                )
    year = publisher.clock.year
    for activity_id, kind, who in (
        (record_base + 1, apb.ACTIVITY_KIND_TRAINING, deputies),
        (record_base + 2, apb.ACTIVITY_KIND_INSPECTION, deputies[::2]),
    ):
        for deputy in who:
            publisher.publish(
                "duties",
                aev.ActivityAttended(
                    deputy_id=deputy,
                    activity_id=activity_id,
                    kind=kind,
                    starts_on=f"{year}-06-{10 + kind:02d}",
                    ends_on=f"{year}-06-{10 + kind:02d}",
                ),
            )
    publisher.publish(
        "duties",
        aev.ResearchReported(
            deputy_id=deputies[0],
            research_id=record_base + 1,
            year=year,
            reported_on=f"{year}-10-20",
        ),
    )
    for n, deputy in enumerate(deputies):
        publisher.publish(
            "duties",
            aev.VisitRecorded(
                deputy_id=deputy,
                visit_id=record_base + 1 + n,
                street_id=1,
                visited_on=f"{year}-0{1 + n % 9}-08",
            ),
        )
    publisher.publish(
        "duties",
        bev.BallotPublished(
            ballot_id=record_base + 1,
            meeting_id=record_base + 1,
            deputy_id=deputies[-1],
            street_id=1,
            year=year,
            satisfied=30,
            basically_satisfied=8,
            dissatisfied=2,
            papers_cast=40,
            share=0.95,
        ),
    )
    suggestion = spb.Suggestion(
        id=record_base + 1,
        proposer_id=deputies[0],
        title="关于增设社区公交站点的建议",
        stage=spb.SUGGESTION_STAGE_REGISTERED,
        registered_at=stamp(publisher.clock),
    )
    suggestion.cosigner_ids.extend(deputies[1:3])
    publisher.publish("referral", sev.SuggestionRegistered(suggestion=suggestion))
    for stage, message in (
        (spb.SUGGESTION_STAGE_ASSIGNED, sev.SuggestionAssigned),
        (spb.SUGGESTION_STAGE_ANSWERED, sev.SuggestionAnswered),
        (spb.SUGGESTION_STAGE_RATED, sev.SuggestionRated),
    ):
        suggestion.stage = stage
        if message is sev.SuggestionRated:
            suggestion.satisfaction = fpb.SATISFACTION_BASICALLY_SATISFIED
        publisher.publish("referral", message(suggestion=suggestion), after=timedelta(days=20))


def state_of(event: Published) -> dr.SourceState:
    envelope = Envelope.from_body(event.body)
    source = BY_MESSAGE[(event.source, envelope.payload_type)]
    message = envelope.payload_as(source.message)
    return dr.state_of(source, message, envelope.sequence, envelope.occurred_at)


def expected_record(events: list[Published]) -> dict[int, list[tuple[Any, ...]]]:
    """Each deputy's shown entries once every event is in, by the pure rule
    over the events in the order published."""
    by_source: dict[dr.SourceRecord, list[dr.SourceState]] = defaultdict(list)
    for event in events:
        state = state_of(event)
        by_source[state.source].append(state)
    shown: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for source, states in by_source.items():
        for entry in dr.shown(dr.merge_all(states)):
            shown[entry.deputy_id].append(entry_key(source, entry))
    return {deputy: sorted(rows) for deputy, rows in shown.items()}


def entry_key(source: dr.SourceRecord, entry: dr.Entry) -> tuple[Any, ...]:
    return (
        source.service,
        source.record_type,
        source.record_id,
        entry.kind.value,
        entry.on.isoformat(),
        entry.status,
        entry.completed,
        entry.detail,
    )


def stored(db: Database) -> dict[int, list[tuple[Any, ...]]]:
    """Each deputy's shown entries as the projection holds them."""
    found: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    with db.read() as session:
        for row in session.scalars(select(DutyRecordEntry).where(DutyRecordEntry.shown)):
            entry = dr.Entry(
                row.deputy_id,
                dr.EntryKind(row.kind),
                row.day,
                row.title,
                row.status,
                row.completed,
                row.detail,
            )
            source = dr.SourceRecord(row.service, row.record_type, row.record_id)
            found[row.deputy_id].append(entry_key(source, entry))
    return {deputy: sorted(rows) for deputy, rows in found.items()}


START = datetime(2026, 1, 1, tzinfo=UTC)
