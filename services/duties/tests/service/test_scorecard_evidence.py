"""The scorecard's evidence read from the duty record's entries on a real
PostgreSQL: which entries count (a training among activities, a letter or
suggestion once answered, a ballot published and not withheld, with the
ballot's own flag), of the year asked, shown ones only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from duties.ballot_models import Ballot, ReportMeeting
from duties.record_models import DutyRecordEntry, DutyRecordSource
from duties.scorecard import EvidenceKind
from duties.scorecard_evidence import DutyRecordEvidence

pytestmark = pytest.mark.postgres
NOW = datetime(2090, 6, 1, tzinfo=UTC)


def entry(session: Any, deputy: int, kind: str, record: tuple[str, int], **fields: Any) -> None:
    source = DutyRecordSource(service="duties", record_type=record[0], record_id=record[1])
    session.add(source)
    session.flush()
    values = {"day": date(2090, 5, 1), "year": 2090, "title": "", "status": "", "completed": True}
    values |= fields
    session.add(
        DutyRecordEntry(
            source_id=source.id,
            service="duties",
            record_type=record[0],
            record_id=record[1],
            kind=kind,
            deputy_id=deputy,
            shown=fields.pop("shown", True),
            **{k: v for k, v in values.items() if k != "shown"},
        )
    )


def ballot(session: Any, ballot_id: int, deputy: int, *, flagged: bool) -> None:
    meeting = ReportMeeting(
        deputy_id=deputy,
        street_id=1,
        held_on=date(2090, 5, 1),
        year=2090,
        venue="会议室",
        status="held",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(meeting)
    session.flush()
    session.add(
        Ballot(
            id=ballot_id,
            meeting_id=meeting.id,
            deputy_id=deputy,
            street_id=1,
            year=2090,
            status="published",
            flagged=flagged,
            opened_at=NOW,
        )
    )


def test_which_entries_count_as_evidence(api: Any) -> None:
    with api.db.unit_of_work() as uow:
        s = uow.session
        entry(s, 901, "activity_attended", ("activity", 1), title="training")
        entry(s, 901, "activity_attended", ("activity", 2), title="inspection")
        entry(s, 901, "letter_followed", ("letter", 3), completed=False)
        entry(s, 901, "suggestion_followed", ("suggestion", 4), completed=True)
        entry(s, 901, "research_reported", ("research", 5))
        entry(s, 901, "visit_received", ("visit", 6), shown=False)
        entry(s, 901, "visit_received", ("visit", 7), year=2089, day=date(2089, 3, 1))
        entry(s, 901, "reception_attended", ("reception_record", 8))
        ballot(s, 9001, 901, flagged=True)
        entry(s, 901, "report_rated", ("ballot", 9001), status="published")
        ballot(s, 9002, 902, flagged=False)
        entry(s, 902, "report_rated", ("ballot", 9002), status="withheld")
    found = DutyRecordEvidence(api.db).evidence([901, 902, 903], 2090)
    mine = sorted((e.kind, e.ref, e.flagged) for e in found[901])
    assert mine == sorted(
        [
            (EvidenceKind.TRAINING_ATTENDED, "duties/activity/1", False),
            (EvidenceKind.SUGGESTION_FOLLOWED, "duties/suggestion/4", False),
            (EvidenceKind.RESEARCH_REPORTED, "duties/research/5", False),
            (EvidenceKind.BALLOT_PUBLISHED, "duties/ballot/9001", True),
        ]
    )
    assert found.get(902, []) == [] and found.get(903, []) == []
    last_year = DutyRecordEvidence(api.db).evidence([901], 2089)[901]
    assert [(e.kind, e.on) for e in last_year] == [(EvidenceKind.VISIT_RECORDED, date(2089, 3, 1))]
    assert DutyRecordEvidence(api.db).evidence([], 2090) == {}
