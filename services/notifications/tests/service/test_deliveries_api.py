"""The delivery log over gRPC (DeliveryService): the admin and the standing
committee office list deliveries with filters, read one and retry a failed
or dead one (audited); everybody else is refused and nothing changes."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from sqlalchemy import select, update

from kit.audit import audit_entries
from liaison.common.v1 import envelope_pb2
from liaison.notifications.v1 import deliveries_pb2 as pb
from liaison.notifications.v1 import deliveries_pb2_grpc as pb_grpc
from notifications.message_models import Delivery
from notifications.sending_testrun import delivery, queue

pytestmark = pytest.mark.postgres


def stub(api: Any, who: str | None) -> pb_grpc.DeliveryServiceStub:
    return pb_grpc.DeliveryServiceStub(api.channel_as(who))


def in_state(api: Any, channel: str, state: str, **values: Any) -> int:
    delivery_id = queue(api.db, channel, recipient="deputy:3")
    with api.db.unit_of_work() as uow:
        uow.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(state=state, attempts=6 if state == "dead" else 0, **values)
        )
    return delivery_id


@pytest.mark.parametrize("who", ["admin", "standing-committee-office"])
def test_the_admin_and_the_office_list_deliveries_by_state_channel_and_recipient(
    api: Any, who: str
) -> None:
    dead = in_state(api, "sms", "dead", last_error="sms-http answered 500: boom")
    sent = in_state(api, "email", "sent")

    listed = stub(api, who).ListDeliveries(
        pb.ListDeliveriesRequest(state="dead", channel="sms", recipient="deputy:3")
    )
    ids = [d.id for d in listed.deliveries]
    assert dead in ids and sent not in ids
    [record] = [d for d in listed.deliveries if d.id == dead]
    assert (record.channel, record.state, record.recipient, record.event_type) == (
        "sms",
        "dead",
        "deputy:3",
        "reception.booking_confirmed",
    )
    assert record.last_error == "sms-http answered 500: boom"
    every = stub(api, who).ListDeliveries(
        pb.ListDeliveriesRequest(
            event_type="reception.booking_confirmed", created_from="2020-01-01"
        )
    )
    assert {dead, sent} <= {d.id for d in every.deliveries}
    none = stub(api, who).ListDeliveries(pb.ListDeliveriesRequest(created_to="2020-01-01"))
    assert list(none.deliveries) == []


def test_the_log_is_paged(api: Any) -> None:
    for _ in range(3):
        in_state(api, "wechat", "failed")
    first = stub(api, "admin").ListDeliveries(
        pb.ListDeliveriesRequest(channel="wechat", page=envelope_pb2.PageRequest(page_size=2))
    )
    assert len(first.deliveries) == 2 and first.page.next_page_token
    second = stub(api, "admin").ListDeliveries(
        pb.ListDeliveriesRequest(
            channel="wechat",
            page=envelope_pb2.PageRequest(page_size=2, page_token=first.page.next_page_token),
        )
    )
    assert second.deliveries[0].id > first.deliveries[-1].id


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.ListDeliveriesRequest(state="lost"), "state"),
        (pb.ListDeliveriesRequest(channel="fax"), "channel"),
        (pb.ListDeliveriesRequest(recipient="alice"), "recipient"),
        (pb.ListDeliveriesRequest(created_from="yesterday"), "created_from"),
        (pb.ListDeliveriesRequest(created_to="9999-12-31"), "created_to"),
        (pb.ListDeliveriesRequest(created_from="0001-01-01T00:00:00+14:00"), "created_from"),
        (
            pb.ListDeliveriesRequest(created_from="2026-02-01", created_to="2026-01-01"),
            "created_to",
        ),
    ],
)
def test_a_bad_filter_is_invalid_naming_the_field(
    api: Any, request_: pb.ListDeliveriesRequest, field: str
) -> None:
    error = api.refused(
        lambda: stub(api, "admin").ListDeliveries(request_), grpc.StatusCode.INVALID_ARGUMENT
    )
    assert field in api.field_errors(error)


@pytest.mark.parametrize("who", ["deputy", "street-committee", "constituent", "working-body"])
def test_only_the_admin_and_the_office_read_or_retry(api: Any, who: str) -> None:
    dead = in_state(api, "email", "dead")
    calls = [
        lambda: stub(api, who).ListDeliveries(pb.ListDeliveriesRequest()),
        lambda: stub(api, who).GetDelivery(pb.GetDeliveryRequest(id=dead)),
        lambda: stub(api, who).RetryDelivery(pb.RetryDeliveryRequest(id=dead)),
    ]
    for call in calls:
        error = api.refused(call, grpc.StatusCode.PERMISSION_DENIED)
        assert "only the admin and the standing committee office may" in error.details()
    assert delivery(api.db, dead).state == "dead"
    api.refused(
        lambda: stub(api, None).ListDeliveries(pb.ListDeliveriesRequest()),
        grpc.StatusCode.UNAUTHENTICATED,
    )


def test_a_dead_delivery_is_retried_from_nought_and_the_retry_audited(api: Any) -> None:
    dead = in_state(api, "sms", "dead", last_error="attempts ran out")

    retried = stub(api, "standing-committee-office").RetryDelivery(pb.RetryDeliveryRequest(id=dead))

    assert (retried.state, retried.attempts, retried.last_error) == ("queued", 0, "")
    assert stub(api, "admin").GetDelivery(pb.GetDeliveryRequest(id=dead)).state == "queued"
    with api.db.read() as session:
        [entry] = session.execute(
            select(audit_entries).where(
                audit_entries.c.record_kind == "notification_delivery",
                audit_entries.c.record_id == dead,
            )
        ).all()
    assert (entry.action, entry.actor_role) == ("delivery_retried", "standing_committee_office")


@pytest.mark.parametrize("state", ["queued", "sending", "sent", "delivered", "suppressed"])
def test_a_delivery_in_another_state_is_not_retried_naming_its_state(api: Any, state: str) -> None:
    found = in_state(api, "email", state)
    error = api.refused(
        lambda: stub(api, "admin").RetryDelivery(pb.RetryDeliveryRequest(id=found)),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    assert f"delivery {found} is {state}" in error.details()
    assert delivery(api.db, found).state == state


def test_an_unknown_delivery_is_not_found_naming_it(api: Any) -> None:
    error = api.refused(
        lambda: stub(api, "admin").GetDelivery(pb.GetDeliveryRequest(id=999999)),
        grpc.StatusCode.NOT_FOUND,
    )
    assert "delivery 999999" in error.details()
