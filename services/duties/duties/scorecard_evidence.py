"""The scorecard's evidence from the public duty record's entries
(`duties.record_models.DutyRecordEntry`, shown entries of the year), each
mapped to the five ones' kinds:

- an activity attended counts when it was a training;
- a letter or a suggestion followed counts once answered (`completed`);
- a research reported, a visit received count as recorded;
- a duty report's ballot counts when its result was published (a result
  withheld below the minimum turnout was not), flagged as the ballot itself
  is (`ballots.flagged`: below the re-nomination share).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence

from sqlalchemy import and_, select

from duties.ballot_models import Ballot
from duties.duty_record import EntryKind
from duties.record_models import DutyRecordEntry
from duties.scorecard import Evidence, EvidenceKind
from kit.db import Database

# The record's kind -> the evidence it gives.
EVIDENCE_OF: Mapping[str, EvidenceKind] = {
    EntryKind.ACTIVITY_ATTENDED: EvidenceKind.TRAINING_ATTENDED,
    EntryKind.LETTER_FOLLOWED: EvidenceKind.SUGGESTION_FOLLOWED,
    EntryKind.SUGGESTION_FOLLOWED: EvidenceKind.SUGGESTION_FOLLOWED,
    EntryKind.RESEARCH_REPORTED: EvidenceKind.RESEARCH_REPORTED,
    EntryKind.VISIT_RECEIVED: EvidenceKind.VISIT_RECORDED,
    EntryKind.REPORT_RATED: EvidenceKind.BALLOT_PUBLISHED,
}
TRAINING = "training"  # an attended activity's title: its kind


def counts(kind: str, title: str, status: str, completed: bool) -> bool:
    """Whether a shown entry of the record is evidence of one of the five."""
    if kind == EntryKind.ACTIVITY_ATTENDED:
        return title == TRAINING
    if kind in (EntryKind.LETTER_FOLLOWED, EntryKind.SUGGESTION_FOLLOWED):
        return completed
    if kind == EntryKind.REPORT_RATED:
        return status == "published"
    return kind in EVIDENCE_OF


class DutyRecordEvidence:
    """`duties.scorecard_service.EvidenceSource` over the duty record."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def evidence(self, deputy_ids: Collection[int], year: int) -> Mapping[int, Sequence[Evidence]]:
        found: dict[int, list[Evidence]] = defaultdict(list)
        if not deputy_ids:
            return found
        e = DutyRecordEntry
        query = (
            select(
                e.deputy_id,
                e.kind,
                e.day,
                e.service,
                e.record_type,
                e.record_id,
                e.title,
                e.status,
                e.completed,
                Ballot.flagged,
            )
            .outerjoin(
                Ballot,
                and_(
                    e.kind == EntryKind.REPORT_RATED.value,
                    e.record_type == "ballot",
                    Ballot.id == e.record_id,
                ),
            )
            .where(
                e.deputy_id.in_(list(deputy_ids)),
                e.year == year,
                e.shown.is_(True),
                e.kind.in_([k.value for k in map(EntryKind, EVIDENCE_OF)]),
            )
        )
        with self.db.read() as session:
            for row in session.execute(query):
                if not counts(row.kind, row.title, row.status, row.completed):
                    continue
                found[row.deputy_id].append(
                    Evidence(
                        EVIDENCE_OF[row.kind],
                        row.day,
                        f"{row.service}/{row.record_type}/{row.record_id}",
                        flagged=bool(row.flagged),
                    )
                )
        return found
