"""Constituents' ratings of deputies over gRPC, on real PostgreSQL: one a
year per rater and deputy (also under concurrent requests), the public
counts and comments without the rater, abuse reports once per reporter,
moderation by the deputy's street committee and the district, audited, and
refusals that name the problem and change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from duties.record_models import DeputyRating, DeputyRatingReport
from kit.tables import audit_entries, outbox_events
from kit.testrun import field_errors, refused
from liaison.duties.v1 import record_pb2 as pb
from liaison.duties.v1 import record_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.postgres]

Api = Any
SATISFIED = pb.DEPUTY_RATING_LEVEL_SATISFIED
BASIC = pb.DEPUTY_RATING_LEVEL_BASICALLY_SATISFIED
DISSATISFIED = pb.DEPUTY_RATING_LEVEL_DISSATISFIED
JUNE = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
NOW = [JUNE]


@pytest.fixture(autouse=True)
def clock(api: Api) -> Iterator[None]:
    """The use cases' clock: 1 June 2026 unless a test moves it."""
    api.boot.duty_records.clock = lambda: NOW[0]
    yield
    NOW[0] = JUNE


def as_(api: Api, who: str | dict[str, Any] | None) -> pb_grpc.DutyRecordServiceStub:
    return pb_grpc.DutyRecordServiceStub(api.channel_as(who))


def constituent(api: Api, sub: str) -> pb_grpc.DutyRecordServiceStub:
    return as_(api, {"sub": sub, "role": "constituent"})


def counts(api: Api) -> tuple[int, int, int]:
    with api.db.read() as session:
        return (
            int(session.scalar(select(func.count()).select_from(DeputyRating)) or 0),
            int(session.scalar(select(func.count()).select_from(DeputyRatingReport)) or 0),
            int(session.scalar(select(func.count()).select_from(outbox_events)) or 0),
        )


def unchanged(api: Api, call: Any, code: grpc.StatusCode) -> grpc.RpcError:
    before = counts(api)
    error = refused(call, code)
    assert counts(api) == before
    return error


def rate(api: Api, sub: str, deputy: int, level: int, comment: str = "") -> pb.DeputyRating:
    return constituent(api, sub).RateDeputy(  # type: ignore[no-any-return]
        pb.RateDeputyRequest(deputy_id=deputy, level=level, comment=comment)
    )


def test_one_rating_a_year_and_the_second_is_refused_naming_it(api: Api) -> None:
    given = rate(api, "voter-a", 1, SATISFIED, "  很负责  ")
    assert (given.year, given.level, given.comment) == (2026, SATISFIED, "很负责")
    second = unchanged(
        api, lambda: rate(api, "voter-a", 1, DISSATISFIED), grpc.StatusCode.ALREADY_EXISTS
    )
    assert "deputy 1 in 2026 already" in (second.details() or "")
    # another deputy, another rater, another year: each its own
    rate(api, "voter-a", 2, BASIC)
    rate(api, "voter-b", 1, DISSATISFIED, "没见过")
    NOW[0] = datetime(2027, 1, 5, tzinfo=UTC)
    assert rate(api, "voter-a", 1, BASIC).year == 2027
    with api.db.read() as session:
        types = list(session.scalars(select(outbox_events.c.type)))
    assert types.count("deputy_rated") == 4


def test_concurrent_ratings_of_one_rater_make_one(api: Api) -> None:
    def attempt(i: int) -> str:
        try:
            rate(api, "voter-race", 3, SATISFIED, f"第{i}次")
            return "made"
        except grpc.RpcError as error:
            return error.code().name

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("made") == 1
    assert set(outcomes) == {"made", "ALREADY_EXISTS"}
    with api.db.read() as session:
        assert (
            session.scalar(
                select(func.count()).where(
                    DeputyRating.rater_sub == "voter-race", DeputyRating.deputy_id == 3
                )
            )
            == 1
        )


def test_bad_ratings_name_the_field_and_change_nothing(api: Api) -> None:
    bad = unchanged(
        api,
        lambda: constituent(api, "voter-c").RateDeputy(
            pb.RateDeputyRequest(deputy_id=1, comment="x" * 501)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(field_errors(bad)) == {"level", "comment"}
    unknown = unchanged(
        api, lambda: rate(api, "voter-c", 999, SATISFIED), grpc.StatusCode.NOT_FOUND
    )
    assert "deputy 999" in (unknown.details() or "")
    for who in ("deputy", "street-committee", "admin"):
        unchanged(
            api,
            lambda w=who: as_(api, w).RateDeputy(
                pb.RateDeputyRequest(deputy_id=1, level=SATISFIED)
            ),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    unchanged(
        api,
        lambda: as_(api, None).RateDeputy(pb.RateDeputyRequest(deputy_id=1, level=SATISFIED)),
        grpc.StatusCode.UNAUTHENTICATED,
    )


def test_the_public_sees_counts_and_comments_never_the_rater(api: Api) -> None:
    rate(api, "voter-p1", 5, SATISFIED, "办事认真")
    rate(api, "voter-p2", 5, DISSATISFIED)
    rate(api, "voter-p3", 5, BASIC, "还可以")
    seen = as_(api, None).GetDeputyRatings(pb.GetDeputyRatingsRequest(deputy_id=5))
    (year,) = seen.years
    assert (year.year, year.satisfied, year.basically_satisfied, year.dissatisfied, year.total) == (
        2026,
        1,
        1,
        1,
        3,
    )
    assert sorted(c.comment for c in seen.comments) == ["办事认真", "还可以"]
    assert "voter-p" not in str(seen)
    assert (
        refused(
            lambda: as_(api, None).GetDeputyRatings(pb.GetDeputyRatingsRequest(deputy_id=998)),
            grpc.StatusCode.NOT_FOUND,
        ).details()
        == "the registry has no deputy 998"
    )


def test_reports_once_each_then_moderation_by_the_deputys_street_hides_and_restores(
    api: Api,
) -> None:
    rating = rate(api, "voter-m", 2, DISSATISFIED, "骂人的话")  # deputy 2 is of street 1
    report = pb.ReportRatingCommentRequest(rating_id=rating.id, reason="辱骂")
    constituent(api, "reporter-1").ReportRatingComment(report)
    as_(api, "deputy").ReportRatingComment(report)
    again = unchanged(
        api,
        lambda: constituent(api, "reporter-1").ReportRatingComment(report),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert "already" in (again.details() or "")
    silent = rate(api, "voter-n", 2, SATISFIED)
    unchanged(
        api,
        lambda: constituent(api, "reporter-1").ReportRatingComment(
            pb.ReportRatingCommentRequest(rating_id=silent.id, reason="x")
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    listed = as_(api, "street-committee").ListReportedComments(pb.ListReportedCommentsRequest())
    (found,) = [c for c in listed.comments if c.rating_id == rating.id]
    assert found.reports == 2 and set(found.report_reasons) == {"辱骂"}
    assert "voter-m" not in str(listed) and "reporter-1" not in str(listed)

    hide = pb.ModerateRatingCommentRequest(
        rating_id=rating.id, action=pb.COMMENT_MODERATION_HIDE, reason="含辱骂"
    )
    other_street = {"sub": "sc-2", "role": "street_committee", "street_id": 2}
    # street 2's committee neither sees street 1's reported comments nor asks for them
    theirs = as_(api, other_street).ListReportedComments(pb.ListReportedCommentsRequest())
    assert rating.id not in [c.rating_id for c in theirs.comments]
    refused(
        lambda: as_(api, other_street).ListReportedComments(
            pb.ListReportedCommentsRequest(deputy_id=2)
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    for who in (other_street, "station-staff", "constituent", "deputy", "working-body"):
        unchanged(
            api,
            lambda w=who: as_(api, w).ModerateRatingComment(hide),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    moderated = as_(api, "street-committee").ModerateRatingComment(hide)
    assert moderated.hidden and moderated.moderation_reason == "含辱骂"
    comments = as_(api, None).GetDeputyRatings(pb.GetDeputyRatingsRequest(deputy_id=2)).comments
    assert "骂人的话" not in [c.comment for c in comments]
    # the counts keep the hidden comment's rating
    assert sum(y.total for y in as_(api, None).GetDeputyRatings(
        pb.GetDeputyRatingsRequest(deputy_id=2)).years) >= 3  # fmt: skip
    unchanged(
        api,
        lambda: as_(api, "admin").ModerateRatingComment(hide),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    # moderated: no longer in the queue, unless asked for
    assert rating.id not in [
        c.rating_id
        for c in as_(api, "admin").ListReportedComments(pb.ListReportedCommentsRequest()).comments
    ]
    restored = as_(api, "standing-committee-office").ModerateRatingComment(
        pb.ModerateRatingCommentRequest(
            rating_id=rating.id, action=pb.COMMENT_MODERATION_RESTORE, reason="复核后恢复"
        )
    )
    assert not restored.hidden
    with api.db.read() as session:
        actions = list(
            session.scalars(
                select(audit_entries.c.action).where(
                    audit_entries.c.record_kind == "deputy_rating",
                    audit_entries.c.record_id == rating.id,
                )
            )
        )
    assert actions == ["created", "comment_hidden", "comment_restored"]
    bad = unchanged(
        api,
        lambda: as_(api, "admin").ModerateRatingComment(
            pb.ModerateRatingCommentRequest(rating_id=rating.id)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(field_errors(bad)) == {"action", "reason"}
