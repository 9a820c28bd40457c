"""The demo suggestions on PostgreSQL: `referral load-demo` loads the 59
suggestions of one session, every one answered in time and rated, over 95%
satisfied, with two meetings held and every trail intact; the same rows
each time; `--if-empty` leaves a database with suggestions alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import select

from kit.auth import Principal, Role
from kit.db import Database
from kit.migrations import upgrade
from kit.testrun import throwaway_database
from liaison.common.v1.envelope_pb2 import PageRequest
from liaison.referral.v1 import suggestions_pb2 as pb
from referral import models
from referral.bootstrap import MIGRATIONS
from referral.cli import main
from referral.suggestion_demo import SESSION, has_demo, load_demo
from referral.suggestion_service import Suggestions

pytestmark = pytest.mark.postgres
OFFICE = Principal(sub="test:sco", role=Role.STANDING_COMMITTEE_OFFICE)


@contextmanager
def migrated(admin_url: str) -> Iterator[Database]:
    with throwaway_database("referral_demo", admin_url=admin_url) as url:
        db = Database(url, "referral")
        try:
            upgrade(db, MIGRATIONS)
            yield db
        finally:
            db.dispose()


def hashes(db: Database) -> list[Any]:
    with db.read() as session:
        return [
            *session.execute(
                select(models.SuggestionTrailEntry.kind, models.SuggestionTrailEntry.hash).order_by(
                    models.SuggestionTrailEntry.owner_id, models.SuggestionTrailEntry.seq
                )
            ),
            *session.execute(
                select(models.MeetingTrailEntry.kind, models.MeetingTrailEntry.hash).order_by(
                    models.MeetingTrailEntry.owner_id, models.MeetingTrailEntry.seq
                )
            ),
        ]


def test_the_demo_session_and_its_figures(postgres_admin_url: str) -> None:
    with migrated(postgres_admin_url) as db, migrated(postgres_admin_url) as again:
        loaded = load_demo(Suggestions(db))
        assert (loaded.session, loaded.suggestions, loaded.meetings) == ("8-3", 59, 2)
        assert loaded.satisfaction_rate > 0.95
        service = Suggestions(db)
        summary = service.summarize(SESSION.code, OFFICE)
        assert (summary.rated, summary.overdue, summary.dissatisfied) == (59, 0, 2)
        assert summary.satisfied + summary.basically_satisfied == 57
        items, _ = service.list_suggestions(
            pb.ListSuggestionsRequest(session_code="8-3", page=PageRequest(page_size=100)), OFFICE
        )
        assert len(items) == 59
        assert not any(s.supervision.answered_late for s in items)
        meetings, _ = service.list_meetings(
            pb.ListMeetingsRequest(status=pb.MEETING_STATUS_HELD), OFFICE
        )
        assert len(meetings) == 2 and all(m.minutes for m in meetings)
        for suggestion in items:
            check = service.verify_trail(
                pb.VerifySuggestionTrailRequest(suggestion_id=suggestion.id), OFFICE
            )
            assert check.intact and check.entries >= 5
        # Deterministic: the same entries, to the hash, in another database.
        load_demo(Suggestions(again))
        assert hashes(db) == hashes(again) and len(hashes(db)) > 59 * 5


def test_the_command_loads_once(postgres_admin_url: str, monkeypatch: Any, capsys: Any) -> None:
    with migrated(postgres_admin_url) as db:
        monkeypatch.setenv("LIAISON_REFERRAL_DATABASE_URL", db.url)
        main(["load-demo", "--if-empty"])
        assert '"suggestions": 59' in capsys.readouterr().out
        assert has_demo(db, any_session=True)
        main(["load-demo", "--if-empty"])
        assert "the demo was not loaded" in capsys.readouterr().out
        main(["load-demo"])
        assert "the demo was not loaded" in capsys.readouterr().out
        with db.read() as session:
            assert len(session.scalars(select(models.Suggestion.id)).all()) == 59
