"""The duty record's mappings and its convergence rule, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

from duties.duty_record import (
    EMPTY,
    MAPPINGS,
    EntryKind,
    SourceRecord,
    Version,
    days,
    merge,
    merge_all,
    shown,
    state_of,
)
from kit.events import event_type_of
from liaison.duties.v1 import activities_pb2 as apb
from liaison.duties.v1 import activity_events_pb2 as aev
from liaison.duties.v1 import ballot_events_pb2 as bev
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import events_pb2 as fev
from liaison.referral.v1 import referral_pb2 as fpb
from liaison.referral.v1 import suggestion_events_pb2 as sev
from liaison.referral.v1 import suggestions_pb2 as spb

T0 = datetime(2026, 3, 15, 1, 0, tzinfo=UTC)


def source_of(message: type) -> object:
    return next(s for s in MAPPINGS if s.message is message)


def ts(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def letter(stage: int, *, deputy: int = 7, answered: bool = False, rated: int = 0) -> fpb.Letter:
    return fpb.Letter(
        id=41,
        deputy_id=deputy,
        tracking_code="TH-2026-000041",
        content="王先生 13800000000 反映小区漏水",
        category=opb.OPINION_CATEGORY_PROPERTY,
        stage=stage,
        opened_at=ts(T0),
        answers=[fpb.Answer()] if answered else [],
        ratings=[fpb.Rating(satisfaction=rated)] if rated else [],
    )


def moved(kind: str, stage: int, sequence: int, **kw: object) -> object:
    event = fev.LetterMoved(kind=kind, letter=letter(stage, **kw))  # type: ignore[arg-type]
    return state_of(source_of(fev.LetterMoved), event, sequence, T0 + timedelta(days=sequence))


# ---------------------------------------------------------------- mappings


def test_every_mapping_is_of_a_distinct_event_type() -> None:
    keys = [(s.service, event_type_of(s.message)) for s in MAPPINGS]
    assert len(keys) == len(set(keys))


def test_a_reception_record_gives_each_deputy_present_an_attended_entry() -> None:
    event = rev.ReceptionRecorded(
        session_id=9, station_id=1, session_date="2026-03-16", deputy_ids=[3, 5, 3], person_times=12
    )
    state = state_of(source_of(rev.ReceptionRecorded), event, 4, T0)
    assert state.source == SourceRecord("reception", "reception_record", 9)
    assert [(e.deputy_id, e.kind, e.on) for e in state.entries] == [
        (3, EntryKind.RECEPTION_ATTENDED, date(2026, 3, 16)),
        (5, EntryKind.RECEPTION_ATTENDED, date(2026, 3, 16)),
    ]
    assert state.entries[0].detail == "person_times:12"


def test_an_opinion_counts_for_the_deputy_who_took_it_and_never_says_who_raised_it() -> None:
    facts = rev.OpinionFacts(
        id=5,
        tracking_code="TH-2026-000005",
        content="李女士 电话 13900000000",
        category=opb.OPINION_CATEGORY_TRANSPORT,
        taken_by_deputy_id=8,
        status=opb.OPINION_STATUS_IN_PROGRESS,
    )
    state = state_of(source_of(rev.OpinionAssigned), rev.OpinionAssigned(opinion=facts), 2, T0)
    (entry,) = state.entries
    assert (entry.deputy_id, entry.kind, entry.status) == (
        8,
        EntryKind.OPINION_TAKEN,
        "in_progress",
    )
    assert entry.title == "transport" and not entry.completed
    text = repr(state)
    assert "13900000000" not in text and "李女士" not in text and "TH-2026" not in text


def test_an_opinion_nobody_took_gives_no_entry() -> None:
    facts = rev.OpinionFacts(id=5, status=opb.OPINION_STATUS_RECORDED)
    state = state_of(source_of(rev.OpinionRecorded), rev.OpinionRecorded(opinion=facts), 1, T0)
    assert state.entries == ()


def test_a_letter_is_followed_from_its_opening_day_and_done_once_answered() -> None:
    in_hand = moved("received", fpb.LETTER_STAGE_IN_HAND, 3)
    answered = moved("answered", fpb.LETTER_STAGE_ANSWERED, 4, answered=True)
    rated = moved(
        "rated", fpb.LETTER_STAGE_CLOSED, 5, answered=True, rated=fpb.SATISFACTION_SATISFIED
    )
    assert [e.completed for s in (in_hand, answered, rated) for e in s.entries] == [
        False,
        True,
        True,
    ]
    assert rated.entries[0].detail == "rated:satisfied"
    assert {e.on for s in (in_hand, answered, rated) for e in s.entries} == {date(2026, 3, 15)}
    text = repr(rated)
    assert "13800000000" not in text and "TH-2026" not in text


def test_a_suggestion_counts_for_its_proposer_and_each_co_signer() -> None:
    suggestion = spb.Suggestion(
        id=3,
        proposer_id=2,
        cosigner_ids=[4, 2],
        title="增设公交站",
        stage=spb.SUGGESTION_STAGE_ANSWERED,
        registered_at=ts(T0),
    )
    event = sev.SuggestionAnswered(suggestion=suggestion)
    state = state_of(source_of(sev.SuggestionAnswered), event, 7, T0 + timedelta(days=30))
    assert [(e.deputy_id, e.completed, e.on) for e in state.entries] == [
        (2, True, date(2026, 3, 15)),
        (4, True, date(2026, 3, 15)),
    ]


# ---------------------------------------------------------------- convergence


def test_an_answer_before_the_opening_wins_over_the_opening() -> None:
    opened = moved("opened", fpb.LETTER_STAGE_JURISDICTION, 1)
    answered = moved("answered", fpb.LETTER_STAGE_ANSWERED, 9, answered=True)
    late = merge(merge(EMPTY, answered), opened)
    assert shown(late) == shown(merge(merge(EMPTY, opened), answered))
    assert shown(late)[0].status == "answered"


def test_a_state_seen_again_changes_nothing() -> None:
    answered = moved("answered", fpb.LETTER_STAGE_ANSWERED, 9, answered=True)
    once = merge(EMPTY, answered)
    assert merge(once, answered) == once


def test_a_deputy_dropped_by_a_later_state_is_hidden_and_shown_again_by_a_still_later_one() -> None:
    src = source_of(rev.ReceptionRecorded)

    def record(sequence: int, deputies: list[int]) -> object:
        event = rev.ReceptionRecorded(session_id=1, session_date="2026-04-15", deputy_ids=deputies)
        return state_of(src, event, sequence, T0)

    first, second, third = record(1, [3, 5]), record(2, [3]), record(3, [3, 5])
    assert [e.deputy_id for e in shown(merge_all([first, second]))] == [3]
    assert [e.deputy_id for e in shown(merge_all([second, first]))] == [3]
    assert [e.deputy_id for e in shown(merge_all([third, first, second]))] == [3, 5]


def test_unnumbered_events_fall_back_on_when_they_occurred() -> None:
    assert Version(0, T0 + timedelta(seconds=1)).newer_than(Version(0, T0))
    assert not Version(0, T0).newer_than(Version(0, T0))
    assert Version(5, T0).newer_than(Version(4, T0 + timedelta(days=1)))


OPINION_STATES = [
    (opb.OPINION_STATUS_RECORDED, 0),
    (opb.OPINION_STATUS_IN_PROGRESS, 8),
    (opb.OPINION_STATUS_IN_PROGRESS, 9),
    (opb.OPINION_STATUS_DONE, 9),
    (opb.OPINION_STATUS_IN_PROGRESS, 8),
]


@settings(max_examples=300, deadline=None)
@given(st.permutations(range(len(OPINION_STATES))), st.lists(st.integers(0, 4), max_size=6))
def test_any_order_and_any_redelivery_converge_to_the_in_order_record(
    order: list[int], again: list[int]
) -> None:
    src = source_of(rev.OpinionAssigned)
    states = [
        state_of(
            src,
            rev.OpinionAssigned(
                opinion=rev.OpinionFacts(id=5, taken_by_deputy_id=deputy, status=status)
            ),
            sequence,
            T0 + timedelta(days=sequence),
        )
        for sequence, (status, deputy) in enumerate(OPINION_STATES, start=1)
    ]
    in_order = merge_all(states)
    shuffled = merge_all([states[i] for i in order + again])
    assert shown(shuffled) == shown(in_order)
    assert days(shuffled) == days(in_order)
    assert shuffled.version == in_order.version
    # deputy 8 took it on day 2 (first seen), gave it up, and has it again
    assert [(e.deputy_id, e.on) for e in shown(in_order)] == [(8, date(2026, 3, 17))]


# ---------------------------------------------------------------- the duties service's own


def test_each_deputys_attendance_is_a_part_of_the_activity_of_its_own() -> None:
    src = source_of(aev.ActivityAttended)
    one, two = (
        state_of(
            src,
            aev.ActivityAttended(
                deputy_id=deputy,
                activity_id=8,
                kind=apb.ACTIVITY_KIND_TRAINING,
                starts_on="2026-05-09",
            ),
            sequence,
            T0,
        )
        for sequence, deputy in ((1, 3), (2, 4))
    )
    assert one.source != two.source  # the second does not hide the first
    assert (one.source.record_id, one.source.part, two.source.part) == (8, 3, 4)
    (entry,) = one.entries
    assert (entry.kind, entry.on, entry.title) == (
        EntryKind.ACTIVITY_ATTENDED,
        date(2026, 5, 9),
        "training",
    )


def test_research_and_visits_count_on_their_own_day() -> None:
    research = state_of(
        source_of(aev.ResearchReported),
        aev.ResearchReported(deputy_id=2, research_id=5, year=2026, reported_on="2026-10-08"),
        3,
        T0,
    )
    visit = state_of(
        source_of(aev.VisitRecorded),
        aev.VisitRecorded(deputy_id=2, visit_id=6, street_id=1, visited_on="2026-07-01"),
        4,
        T0,
    )
    assert [(e.kind, e.on) for s in (research, visit) for e in s.entries] == [
        (EntryKind.RESEARCH_REPORTED, date(2026, 10, 8)),
        (EntryKind.VISIT_RECEIVED, date(2026, 7, 1)),
    ]


def test_a_ballot_counts_in_its_year_with_its_public_result_or_withheld() -> None:
    src = source_of(bev.BallotPublished)
    published = state_of(
        src,
        bev.BallotPublished(
            ballot_id=9, deputy_id=1, year=2026, share=0.9375, papers_cast=32, satisfied=25
        ),
        5,
        datetime(2027, 1, 3, tzinfo=UTC),
    )
    (entry,) = published.entries
    assert (entry.kind, entry.on, entry.detail) == (
        EntryKind.REPORT_RATED,
        date(2026, 12, 31),
        "share:0.94 papers:32",
    )
    withheld = state_of(
        src, bev.BallotPublished(ballot_id=10, deputy_id=1, year=2026, withheld=True), 6, T0
    )
    assert [(e.status, e.detail, e.on) for e in withheld.entries] == [
        ("withheld", "withheld", date(2026, 3, 15))
    ]
