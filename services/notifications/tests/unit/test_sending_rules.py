"""The sending's rules without a database: backoff with jitter, the token
bucket, the lease against the timeout, and how providers' answers are read."""

from __future__ import annotations

import random

import httpx
import pytest

from kit.errors import SettingsError
from notifications.channels import (
    EmailChannel,
    Outgoing,
    PermanentFailure,
    ProviderChannel,
    TransientFailure,
)
from notifications.delivery import Backoff, TokenBucket
from notifications.provider_server import problem_of
from notifications.settings import ChannelSettings


def test_backoff_doubles_each_attempt_with_jitter_and_stops_at_its_cap() -> None:
    backoff = Backoff(base=10, cap=100)
    rng = random.Random(7)
    for attempt, full in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (9, 100)]:
        waits = [backoff.delay(attempt, rng) for _ in range(200)]
        assert min(waits) >= full / 2 and max(waits) <= full
        assert max(waits) - min(waits) > full / 4  # jittered, not one value


def test_the_token_bucket_lets_a_burst_through_then_paces_to_its_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(2, clock=lambda: now[0], sleep=sleep)
    assert bucket.available() == 2
    for _ in range(6):
        bucket.take()
    assert now[0] == pytest.approx(2.0)  # 2 at once, then 4 at 2 a second
    assert all(s == pytest.approx(0.5) for s in slept)


def test_a_lease_shorter_than_twice_the_timeout_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LIAISON_NOTIFICATIONS_PROVIDER_TIMEOUT", "30")
    monkeypatch.setenv("LIAISON_NOTIFICATIONS_LEASE_SECONDS", "45")
    with pytest.raises(SettingsError, match="LEASE_SECONDS"):
        ChannelSettings.load()


def outgoing(**changes: object) -> Outgoing:
    values: dict[str, object] = {
        "delivery_id": 42,
        "channel": "sms",
        "to": "+8613800000001",
        "subject": "预约已确认",
        "text": "您的接待预约已确认。",
    }
    return Outgoing(**(values | changes))  # type: ignore[arg-type]


def provider_answering(status: int, body: str) -> ProviderChannel:
    channel = ProviderChannel("sms", "http://provider.test", "k", 1.0)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text=body)

    channel.client = httpx.Client(
        base_url="http://provider.test", transport=httpx.MockTransport(handler)
    )
    channel.seen = seen  # type: ignore[attr-defined]
    return channel


def test_a_provider_call_carries_the_delivery_as_idempotency_key() -> None:
    channel = provider_answering(200, '{"id": "pm-1"}')
    accepted = channel.send(outgoing())
    assert (accepted.provider, accepted.message_id) == ("sms-http", "pm-1")
    [request] = channel.seen  # type: ignore[attr-defined]
    assert request.headers["Idempotency-Key"] == "42"
    assert request.url.path == "/v1/messages"


@pytest.mark.parametrize(
    ("status", "body", "failure"),
    [
        (500, "boom", TransientFailure),
        (503, "", TransientFailure),
        (429, "slow down", TransientFailure),
        (200, "not json", TransientFailure),
        (400, '{"error": "to is required"}', PermanentFailure),
        (404, "", PermanentFailure),
    ],
)
def test_a_provider_answer_is_a_transient_or_permanent_failure(
    status: int, body: str, failure: type[Exception]
) -> None:
    with pytest.raises(failure, match=str(status) if status != 200 else "without a message id"):
        provider_answering(status, body).send(outgoing())


def test_an_email_has_a_text_and_html_body_a_calendar_and_the_deliverys_message_id() -> None:
    mail = EmailChannel(ChannelSettings()).compose(
        outgoing(
            channel="email", to="a@example.org", html="<p>已确认</p>", calendar=b"BEGIN:VCALENDAR"
        )
    )
    assert mail["Message-ID"] == "<delivery-42@liaison.local>"
    assert mail.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in mail.walk()]
    assert types == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "the body must be a JSON object"),
        ({"channel": "fax", "to": "1", "template": "t"}, "channel must be one of sms, wechat"),
        ({"channel": "sms", "to": " ", "template": "t"}, "to is required"),
        ({"channel": "sms", "to": "1", "template": "t", "params": 3}, "params must be an object"),
        ({"channel": "sms", "to": "1", "template": "t"}, None),
    ],
)
def test_the_provider_server_names_what_is_wrong_with_a_message(
    body: object, problem: str | None
) -> None:
    assert problem_of(body) == problem
