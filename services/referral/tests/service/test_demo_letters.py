"""The demo half year of letters on PostgreSQL: the district's figures (23
letters referred through the district, 17 answered and 6 in hand, the rest
on the street's route), two extensions, one reopened letter, two overdue,
mostly satisfied ratings; every letter's trail intact; `load-demo
--if-empty` a second time adds nothing."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from sqlalchemy import func, select

from kit.auth import Principal, Role
from kit.db import Database
from kit.migrations import upgrade
from kit.testrun import throwaway_database
from kit.workdays import SHANGHAI
from referral import cli, demo_letters, models
from referral.bootstrap import MIGRATIONS
from referral.service import Referral
from referral.supervision import Supervision

pytestmark = [pytest.mark.postgres]

TODAY = date(2026, 11, 27)
ADMIN = Principal(sub="test:admin", role=Role.ADMIN)
ANSWERED = {"answered", "fed_back", "closed"}


@pytest.fixture(scope="module")
def demo_db(postgres_admin_url: str) -> Any:
    with throwaway_database("referral_demo_test", admin_url=postgres_admin_url) as url:
        db = Database(url, "referral")
        try:
            upgrade(db, MIGRATIONS)
            loaded = demo_letters.load_demo(db, TODAY)
            yield db, url, loaded
        finally:
            db.dispose()


def rows(db: Database) -> list[Any]:
    with db.read() as session:
        return list(
            session.execute(
                select(
                    models.Letter.id,
                    models.Letter.route,
                    models.Letter.stage,
                    models.Letter.round,
                    models.Letter.due_at,
                    models.Letter.due_extended,
                    models.Letter.handler_kind,
                    models.Letter.handler_id,
                    models.Letter.state,
                ).order_by(models.Letter.id)
            ).all()
        )


def test_the_half_year_has_the_districts_figures(demo_db: Any) -> None:
    db, _, loaded = demo_db
    letters = rows(db)
    assert len(letters) == loaded.letters >= 30
    district = [r for r in letters if r.route == "district"]
    street = [r for r in letters if r.route == "street"]
    assert len(district) == 23 and len(street) == len(letters) - 23
    # Every district letter reached the government office and a department.
    assert all(r.handler_kind == "department" and 52 <= r.handler_id <= 65 for r in district)
    assert sum(r.stage in ANSWERED for r in district) == 17
    assert sum(r.stage == "in_hand" for r in district) == 6
    # The street offices answered most of theirs; some are still on their way.
    answered_by_streets = [r for r in street if r.stage in ANSWERED]
    assert len(answered_by_streets) >= len(street) // 2
    assert all(r.handler_kind == "street_office" for r in answered_by_streets)
    assert {"in_hand", "deputy_sign_off", "director_sign_off"} <= {r.stage for r in street}
    assert loaded.by_route == {"district": 23, "street": len(street)}
    assert loaded.by_stage == dict(Counter(r.stage for r in letters))
    # Two extensions, one reopened and answered again, two overdue today.
    assert sum(r.due_extended for r in letters) == 2
    (reopened,) = [r for r in letters if r.round == 2]
    assert reopened.stage == "closed" and len(reopened.state["answers"]) == 2
    end_of_today = datetime.combine(TODAY, time(23, 59), SHANGHAI).astimezone(UTC)
    overdue = [r for r in letters if r.stage == "in_hand" and r.due_at < end_of_today]
    assert len(overdue) == 2
    # Sign-offs with comments on the street's route.
    signed = [s for r in street for s in r.state["sign_offs"]]
    assert signed and all(s["comment"] for s in signed)
    # Ratings: mostly satisfied; the reopening's dissatisfied one among them.
    ratings = [x for r in letters for x in r.state["ratings"]]
    assert loaded.ratings == len(ratings) >= 30
    shares = Counter(x["satisfaction"] for x in ratings)
    assert shares["dissatisfied"] == 1
    assert shares["satisfied"] / len(ratings) >= 0.7
    assert loaded.satisfied == len(ratings) - 1


def test_every_trail_is_intact(demo_db: Any) -> None:
    db, _, _ = demo_db
    referral = Referral(db)
    for row in rows(db):
        check = referral.verify_trail(row.id, ADMIN)
        assert check.intact, (row.id, check.reason)
        assert check.entries >= 2


def test_the_sweep_escalates_the_overdue_letters(demo_db: Any) -> None:
    db, _, _ = demo_db
    now = datetime.combine(TODAY, time(12), SHANGHAI).astimezone(UTC)
    result = Supervision(db).sweep(now)
    assert result.overdue == 2 and result.escalations >= 2
    assert Supervision(db).sweep(now).escalations == 0


def test_loading_again_adds_nothing(
    demo_db: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db, url, loaded = demo_db

    def counts() -> tuple[int, int]:
        with db.read() as session:
            return (
                int(session.scalar(select(func.count()).select_from(models.Letter)) or 0),
                int(session.scalar(select(func.count()).select_from(models.TrailEntry)) or 0),
            )

    before = counts()
    monkeypatch.setenv("LIAISON_REFERRAL_DATABASE_URL", url)
    cli.main(["load-demo", "--if-empty"])
    assert "not loaded" in capsys.readouterr().out
    assert counts() == before
    # Without --if-empty the demo letters are found in, and not loaded twice.
    assert demo_letters.load_demo(db, TODAY) == demo_letters.DemoLetters()
    assert counts() == before
    assert before[0] == loaded.letters
