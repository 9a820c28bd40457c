"""JSON values onto protobuf messages: lists of nested messages included,
and a list query's page."""

from __future__ import annotations

from gateway.convert import fill_message, message_to_dict, page_request
from gateway.schemas import ListQuery
from liaison.common.v1 import envelope_pb2
from liaison.reception.v1 import reception_pb2


def test_a_list_of_nested_messages_is_filled_item_by_item() -> None:
    rule = fill_message(
        reception_pb2.StationRule(slots=[reception_pb2.SlotHours(start="08:00", end="09:00")]),
        {
            "day_of_month": 20,
            "day_off_policy": "move",
            "slots": [
                {"label": "上午", "start": "09:00", "end": "12:00"},
                {"start": "14:30", "end": "17:30"},
            ],
        },
    )
    assert isinstance(rule, reception_pb2.StationRule)
    assert rule.day_off_policy == reception_pb2.DAY_OFF_POLICY_MOVE
    assert [(s.label, s.start, s.end) for s in rule.slots] == [
        ("上午", "09:00", "12:00"),
        ("", "14:30", "17:30"),
    ]
    assert message_to_dict(rule)["slots"][1] == {"label": "", "start": "14:30", "end": "17:30"}


def test_a_query_s_page_is_asked_for_and_no_page_is_the_service_s_default() -> None:
    asked = page_request(ListQuery(page_size=5, page_token="10"))
    assert asked == envelope_pb2.PageRequest(page_size=5, page_token="10")
    assert page_request(ListQuery()) == envelope_pb2.PageRequest()
