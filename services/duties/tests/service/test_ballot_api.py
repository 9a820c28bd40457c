"""The BallotService over gRPC, as the api serves it (duties.api.register):
the vote answers without a token and the other RPCs do not; refusals carry
their status code and the field they name. The rules and the secrecy are
tested on the use cases (test_ballots.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import grpc
import pytest

from liaison.duties.v1 import ballots_pb2 as pb
from liaison.duties.v1 import ballots_pb2_grpc as pb_grpc

pytestmark = pytest.mark.postgres


def stub(api: Any, who: str | None) -> pb_grpc.BallotServiceStub:
    return pb_grpc.BallotServiceStub(api.channel_as(who))


def test_a_ballot_over_grpc_with_an_anonymous_vote(api: Any) -> None:
    committee = stub(api, "street-committee")
    meeting = committee.ScheduleReportMeeting(
        pb.ScheduleReportMeetingRequest(
            deputy_id=1, held_on=date.today().isoformat(), venue="石牌街代表联络站"
        )
    )
    ballot = committee.OpenBallot(pb.OpenBallotRequest(meeting_id=meeting.id))
    codes = (
        stub(api, "station-staff")
        .IssueBallotCodes(pb.IssueBallotCodesRequest(ballot_id=ballot.id, count=2))
        .codes
    )
    anyone = stub(api, None)
    vote = pb.CastVoteRequest(ballot_id=ballot.id, code=codes[0], choice=pb.BALLOT_CHOICE_SATISFIED)
    assert anyone.CastVote(vote).ballot_id == ballot.id
    error = api.refused(lambda: anyone.CastVote(vote), grpc.StatusCode.FAILED_PRECONDITION)
    assert "voted already" in error.details()
    error = api.refused(
        lambda: anyone.CastVote(
            pb.CastVoteRequest(ballot_id=ballot.id, code="0000", choice=pb.BALLOT_CHOICE_SATISFIED)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert set(api.field_errors(error)) == {"code"}
    assert codes[0] not in error.details()
    # Everything but the vote and a published result needs a token.
    for call in (
        lambda: anyone.GetBallot(pb.GetBallotRequest(id=ballot.id)),
        lambda: anyone.CloseBallot(pb.CloseBallotRequest(id=ballot.id)),
        lambda: anyone.ListBallotComments(pb.ListBallotCommentsRequest(id=ballot.id)),
        lambda: anyone.GetBallotResult(pb.GetBallotResultRequest(id=ballot.id)),
        lambda: anyone.ScheduleReportMeeting(pb.ScheduleReportMeetingRequest(deputy_id=1)),
    ):
        api.refused(call, grpc.StatusCode.UNAUTHENTICATED)
    api.refused(
        lambda: stub(api, "deputy").CloseBallot(pb.CloseBallotRequest(id=ballot.id)),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    closed = committee.CloseBallot(pb.CloseBallotRequest(id=ballot.id))
    assert (closed.papers_cast, closed.result_shown) == (1, False)
    error = api.refused(
        lambda: committee.GetBallotResult(pb.GetBallotResultRequest(id=ballot.id)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert "minimum turnout" in error.details()
