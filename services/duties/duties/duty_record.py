"""The public duty record: what other services' events say a deputy did.

Pure rules, no I/O. Each source event is mapped (`MAPPINGS`) to the state of
one *source record* (a reception record, an opinion, a letter, a
suggestion): the duty-record entries it gives, one per deputy and kind, as of
that event. Every event these mappings read carries its record whole, so one
event is enough to know every entry of its record.

The projection keeps, per source record, the version of the newest state it
applied; `merge` is its one rule, and it converges whatever the order and
however often events come:

- a newer state (`Version.newer_than`) decides which entries are shown and
  what they say (status, title, completed); entries of the record that it
  no longer names are kept hidden, never deleted;
- an older or equal state changes no shown fact; it only brings an entry's
  day earlier (`on` is the earliest day any state gave it: a minimum,
  which no order changes) and records the entry, hidden, when the newer
  state did not name it.

Adding a source is adding one small mapping function and its line in
`MAPPINGS`. A record whose events each tell one part of it (an activity's
`activity_attended`, one per deputy) is mapped to that part
(`SourceRecord.part`), so each part converges on its own.

Entries hold public facts only: ids, days, kinds, stages and public titles
(a suggestion's title, an opinion's category). Never who raised an opinion,
never an opinion's or a letter's text (a constituent may have written a
name or a phone number in it), never a tracking code (it is the raiser's
key to the letter).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf.message import Message

from liaison.duties.v1 import activities_pb2 as apb
from liaison.duties.v1 import activity_events_pb2 as aev
from liaison.duties.v1 import ballot_events_pb2 as bev
from liaison.reception.v1 import events_pb2 as rev
from liaison.reception.v1 import opinions_pb2 as opb
from liaison.referral.v1 import events_pb2 as fev
from liaison.referral.v1 import referral_pb2 as fpb
from liaison.referral.v1 import suggestion_events_pb2 as sev
from liaison.referral.v1 import suggestions_pb2 as spb

SHANGHAI = ZoneInfo("Asia/Shanghai")


class EntryKind(enum.StrEnum):
    """What a deputy did, as the public record names it."""

    RECEPTION_ATTENDED = "reception_attended"  # received constituents at a session
    OPINION_TAKEN = "opinion_taken"  # took an opinion (at a reception or an order)
    LETTER_FOLLOWED = "letter_followed"  # a referral letter of an opinion they took
    SUGGESTION_FOLLOWED = "suggestion_followed"  # a suggestion proposed or co-signed
    ACTIVITY_ATTENDED = "activity_attended"  # a training, inspection, forum, ... attended
    RESEARCH_REPORTED = "research_reported"  # a self-chosen research topic reported
    VISIT_RECEIVED = "visit_received"  # the street committee's visit at the workplace
    REPORT_RATED = "report_rated"  # a duty report to voters, its secret ballot published


@dataclass(frozen=True, order=True)
class SourceRecord:
    """One record of another service whose states give entries."""

    service: str  # the publishing service: "reception", "referral", "duties"
    record_type: str  # "reception_record", "opinion", "letter", "suggestion", ...
    record_id: int
    # A part of a record whose events each tell one part only (one deputy's
    # attendance of an activity: the deputy's id); 0: the record is whole
    # in each of its events.
    part: int = 0


@dataclass(frozen=True)
class Version:
    """Where a state stands among its source service's events.

    `sequence` numbers a service's events in commit order (kit.outbox); it
    decides when both states have one. Events published before numbering
    (sequence 0) fall back on when they occurred.
    """

    sequence: int
    occurred_at: datetime

    def newer_than(self, other: Version | None) -> bool:
        if other is None:
            return True
        if self.sequence and other.sequence:
            return self.sequence > other.sequence
        return self.occurred_at > other.occurred_at


@dataclass(frozen=True)
class Entry:
    """One thing one deputy did, as one state of its source record says it."""

    deputy_id: int
    kind: EntryKind
    on: date  # the day it counts for (its year is the record's year)
    title: str  # public words: a suggestion's title, an opinion's category
    status: str  # the source record's stage, lowercase ("in_hand", "answered")
    completed: bool  # done: received, answered, rated, reported
    detail: str = ""  # a public short fact: person-times, a satisfaction

    @property
    def key(self) -> tuple[int, EntryKind]:
        return (self.deputy_id, self.kind)


@dataclass(frozen=True)
class SourceState:
    """A source record's entries as of one event."""

    source: SourceRecord
    version: Version
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class StoredEntry:
    """An entry as the projection keeps it: shown or hidden."""

    entry: Entry
    shown: bool


@dataclass(frozen=True)
class StoredSource:
    """What the projection keeps of one source record."""

    version: Version | None
    entries: dict[tuple[int, EntryKind], StoredEntry]


EMPTY = StoredSource(version=None, entries={})


def merge(stored: StoredSource, state: SourceState) -> StoredSource:
    """The projection's one rule (see the module's docstring)."""
    given = {entry.key: entry for entry in state.entries}
    entries = dict(stored.entries)
    if state.version.newer_than(stored.version):
        for key, kept in stored.entries.items():
            if key not in given:
                entries[key] = StoredEntry(kept.entry, shown=False)
        for key, entry in given.items():
            kept_entry = stored.entries.get(key)
            on = min(entry.on, kept_entry.entry.on) if kept_entry else entry.on
            entries[key] = StoredEntry(replace(entry, on=on), shown=True)
        return StoredSource(version=state.version, entries=entries)
    for key, entry in given.items():
        kept_entry = stored.entries.get(key)
        if kept_entry is None:
            entries[key] = StoredEntry(entry, shown=False)
        elif entry.on < kept_entry.entry.on:
            entries[key] = StoredEntry(replace(kept_entry.entry, on=entry.on), kept_entry.shown)
    return StoredSource(version=stored.version, entries=entries)


def shown(stored: StoredSource) -> tuple[Entry, ...]:
    """The entries a source record shows, in key order. A hidden entry's
    day counts (a later state may show it again); its other fields are
    whichever state first named it, and nothing reads them."""
    return tuple(kept.entry for _, kept in sorted(stored.entries.items()) if kept.shown)


def days(stored: StoredSource) -> dict[tuple[int, EntryKind], date]:
    """Every entry's day, shown or hidden."""
    return {key: kept.entry.on for key, kept in stored.entries.items()}


def merge_all(states: Iterable[SourceState]) -> StoredSource:
    """The states merged in the order given (for tests and rebuilds)."""
    stored = EMPTY
    for state in states:
        stored = merge(stored, state)
    return stored


# ---------------------------------------------------------------- mappings

Mapping = Callable[[Any, Version, datetime], SourceState]


def day_of(at: datetime) -> date:
    """The Shanghai day of an instant."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(SHANGHAI).date()


def _day_or(iso_day: str, fallback: datetime) -> date:
    try:
        return date.fromisoformat(iso_day)
    except ValueError:
        return day_of(fallback)


def _stage(enum_type: Any, value: int, prefix: str) -> str:
    name: str = enum_type.Name(value) if value in enum_type.values() else f"{prefix}UNSPECIFIED"
    return name.removeprefix(prefix).lower()


def _category(value: int) -> str:
    return _stage(opb.OpinionCategory, value, "OPINION_CATEGORY_")


def reception_recorded(
    event: rev.ReceptionRecorded, version: Version, occurred_at: datetime
) -> SourceState:
    """A session's reception record: each deputy present received constituents."""
    on = _day_or(event.session_date, occurred_at)
    status = "locked" if event.locked else "recorded"
    return SourceState(
        SourceRecord("reception", "reception_record", event.session_id),
        version,
        tuple(
            Entry(
                deputy_id=deputy_id,
                kind=EntryKind.RECEPTION_ATTENDED,
                on=on,
                title=f"station:{event.station_id}",
                status=status,
                completed=True,
                detail=f"person_times:{event.person_times}",
            )
            for deputy_id in dict.fromkeys(event.deputy_ids)
            if deputy_id > 0
        ),
    )


OPINION_CLOSED = {
    opb.OPINION_STATUS_ANSWERED_ON_THE_SPOT,
    opb.OPINION_STATUS_HANDED_ON,
    opb.OPINION_STATUS_DONE,
}


def opinion_state(facts: rev.OpinionFacts, version: Version, occurred_at: datetime) -> SourceState:
    """An opinion's state: its deputy took it (the day first seen taken)."""
    entries: tuple[Entry, ...] = ()
    if facts.taken_by_deputy_id > 0:
        entries = (
            Entry(
                deputy_id=facts.taken_by_deputy_id,
                kind=EntryKind.OPINION_TAKEN,
                on=day_of(occurred_at),
                title=_category(facts.category),
                status=_stage(opb.OpinionStatus, facts.status, "OPINION_STATUS_"),
                completed=facts.status in OPINION_CLOSED,
            ),
        )
    return SourceState(SourceRecord("reception", "opinion", facts.id), version, entries)


def _opinion_event(event: Any, version: Version, occurred_at: datetime) -> SourceState:
    return opinion_state(event.opinion, version, occurred_at)


LETTER_ANSWERED = {
    fpb.LETTER_STAGE_ANSWERED,
    fpb.LETTER_STAGE_FED_BACK,
    fpb.LETTER_STAGE_CLOSED,
}


def letter_state(letter: fpb.Letter, version: Version, occurred_at: datetime) -> SourceState:
    """A referral letter of the opinion its deputy took: followed from its
    opening (the letter's own day) to its answer and ratings."""
    entries: tuple[Entry, ...] = ()
    if letter.deputy_id > 0:
        opened = letter.opened_at.ToDatetime(UTC) if letter.HasField("opened_at") else occurred_at
        satisfaction = ""
        if letter.ratings:
            satisfaction = _stage(
                fpb.Satisfaction, letter.ratings[-1].satisfaction, "SATISFACTION_"
            )
        entries = (
            Entry(
                deputy_id=letter.deputy_id,
                kind=EntryKind.LETTER_FOLLOWED,
                on=day_of(opened),
                title=_category(letter.category),
                status=_stage(fpb.LetterStage, letter.stage, "LETTER_STAGE_"),
                completed=letter.stage in LETTER_ANSWERED or bool(letter.answers),
                detail=f"rated:{satisfaction}" if satisfaction else "",
            ),
        )
    return SourceState(SourceRecord("referral", "letter", letter.id), version, entries)


def _letter_event(event: Any, version: Version, occurred_at: datetime) -> SourceState:
    return letter_state(event.letter, version, occurred_at)


SUGGESTION_ANSWERED = {spb.SUGGESTION_STAGE_ANSWERED, spb.SUGGESTION_STAGE_RATED}


def suggestion_state(
    suggestion: spb.Suggestion, version: Version, occurred_at: datetime
) -> SourceState:
    """A suggestion, followed by its proposer and co-signers to its answer."""
    registered = (
        suggestion.registered_at.ToDatetime(UTC)
        if suggestion.HasField("registered_at")
        else occurred_at
    )
    satisfaction = ""
    if suggestion.satisfaction:
        satisfaction = _stage(fpb.Satisfaction, suggestion.satisfaction, "SATISFACTION_")
    deputies = [suggestion.proposer_id, *suggestion.cosigner_ids]
    return SourceState(
        SourceRecord("referral", "suggestion", suggestion.id),
        version,
        tuple(
            Entry(
                deputy_id=deputy_id,
                kind=EntryKind.SUGGESTION_FOLLOWED,
                on=day_of(registered),
                title=suggestion.title,
                status=_stage(spb.SuggestionStage, suggestion.stage, "SUGGESTION_STAGE_"),
                completed=suggestion.stage in SUGGESTION_ANSWERED,
                detail=f"rated:{satisfaction}" if satisfaction else "",
            )
            for deputy_id in dict.fromkeys(deputies)
            if deputy_id > 0
        ),
    )


def _suggestion_event(event: Any, version: Version, occurred_at: datetime) -> SourceState:
    return suggestion_state(event.suggestion, version, occurred_at)


def activity_attended(
    event: aev.ActivityAttended, version: Version, occurred_at: datetime
) -> SourceState:
    """A deputy attended an activity (a training counts towards the five
    ones): one part of the activity per deputy, each event telling one."""
    return SourceState(
        SourceRecord("duties", "activity", event.activity_id, part=event.deputy_id),
        version,
        (
            Entry(
                deputy_id=event.deputy_id,
                kind=EntryKind.ACTIVITY_ATTENDED,
                on=_day_or(event.starts_on, occurred_at),
                title=_stage(apb.ActivityKind, event.kind, "ACTIVITY_KIND_"),
                status="attended",
                completed=True,
            ),
        )
        if event.deputy_id > 0
        else (),
    )


def research_reported(
    event: aev.ResearchReported, version: Version, occurred_at: datetime
) -> SourceState:
    """A deputy's self-chosen research, its report submitted."""
    return SourceState(
        SourceRecord("duties", "research", event.research_id),
        version,
        (
            Entry(
                deputy_id=event.deputy_id,
                kind=EntryKind.RESEARCH_REPORTED,
                on=_day_or(event.reported_on, occurred_at),
                title="",
                status="reported",
                completed=True,
            ),
        )
        if event.deputy_id > 0
        else (),
    )


def visit_recorded(
    event: aev.VisitRecorded, version: Version, occurred_at: datetime
) -> SourceState:
    """The street committee visited the deputy (the record's words stay in
    the archive: only the visit's day here)."""
    return SourceState(
        SourceRecord("duties", "visit", event.visit_id),
        version,
        (
            Entry(
                deputy_id=event.deputy_id,
                kind=EntryKind.VISIT_RECEIVED,
                on=_day_or(event.visited_on, occurred_at),
                title=f"street:{event.street_id}",
                status="recorded",
                completed=True,
            ),
        )
        if event.deputy_id > 0
        else (),
    )


def ballot_published(
    event: bev.BallotPublished, version: Version, occurred_at: datetime
) -> SourceState:
    """A duty report's secret ballot published: its public result (the
    share satisfied or basically satisfied, the papers cast), or withheld
    below the minimum turnout. Counted in the ballot's year."""
    day = day_of(occurred_at)
    if event.year and day.year != event.year:
        day = date(event.year, 12, 31)
    detail = "withheld" if event.withheld else f"share:{event.share:.2f} papers:{event.papers_cast}"
    return SourceState(
        SourceRecord("duties", "ballot", event.ballot_id),
        version,
        (
            Entry(
                deputy_id=event.deputy_id,
                kind=EntryKind.REPORT_RATED,
                on=day,
                title=f"meeting:{event.meeting_id}",
                status="withheld" if event.withheld else "published",
                completed=True,
                detail=detail,
            ),
        )
        if event.deputy_id > 0
        else (),
    )


@dataclass(frozen=True)
class Source:
    """One kind of event the duty record is built from."""

    service: str
    message: type[Message]
    mapping: Mapping


MAPPINGS: tuple[Source, ...] = (
    Source("reception", rev.ReceptionRecorded, reception_recorded),
    *(
        Source("reception", message, _opinion_event)
        for message in (
            rev.OpinionRecorded,
            rev.OpinionAnswered,
            rev.OpinionHandedOn,
            rev.OpinionMerged,
            rev.OpinionDeclined,
            rev.OpinionAssigned,
            rev.OpinionDone,
        )
    ),
    Source("referral", fev.LetterOpened, _letter_event),
    Source("referral", fev.LetterMoved, _letter_event),
    *(
        Source("referral", message, _suggestion_event)
        for message in (
            sev.SuggestionRegistered,
            sev.SuggestionAssigned,
            sev.SuggestionReceived,
            sev.SuggestionAnswered,
            sev.SuggestionRated,
        )
    ),
    Source("duties", aev.ActivityAttended, activity_attended),
    Source("duties", aev.ResearchReported, research_reported),
    Source("duties", aev.VisitRecorded, visit_recorded),
    Source("duties", bev.BallotPublished, ballot_published),
)


def state_of(source: Source, event: Message, sequence: int, occurred_at: datetime) -> SourceState:
    """The source record's state one event gives."""
    return source.mapping(event, Version(sequence, occurred_at), occurred_at)
