"""Conversations' rules without I/O: who reads, moderates and starts what,
the constituent's name masked, and an opinion's text made of a thread."""

from __future__ import annotations

import pytest

from kit.auth import Principal, Role
from kit.errors import InvalidArgument, PermissionDenied
from notifications import conversations as rules

CONSTITUENT = Principal(sub="voter-1", role=Role.CONSTITUENT, name="张三丰")
DEPUTY = Principal(sub="dep-1", role=Role.DEPUTY, deputy_id=1)
STAFF_1 = Principal(sub="s1", role=Role.STATION_STAFF, street_id=1)
COMMITTEE_2 = Principal(sub="c2", role=Role.STREET_COMMITTEE, street_id=2)
ADMIN = Principal(sub="admin", role=Role.ADMIN)


def thread(published: bool) -> rules.Thread:
    return rules.Thread(
        kind=rules.Kind.CONSTITUENT,
        participants=rules.constituent_participants("voter-1", 1, [2, 1]),
        street_id=1,
        constituent_sub="voter-1",
        published=published,
    )


def test_participants_of_a_constituents_thread() -> None:
    assert thread(False).participants == (
        "user:voter-1",
        "deputy:1",
        "deputy:2",
        "role:station_staff@street:1",
    )


def test_deputies_read_only_a_published_thread_and_outsiders_none() -> None:
    assert not rules.may_read(DEPUTY, thread(False))
    assert rules.may_read(DEPUTY, thread(True))
    assert rules.may_read(STAFF_1, thread(False)) and rules.may_read(CONSTITUENT, thread(False))
    assert not rules.may_read(COMMITTEE_2, thread(True))
    assert not rules.may_read(ADMIN, thread(True))


def test_held_messages_are_for_their_author_and_the_moderators() -> None:
    t = thread(True)
    assert rules.state_of_new_message(t, "user:voter-1") is rules.State.HELD
    assert rules.state_of_new_message(t, "deputy:1") is rules.State.PUBLISHED
    assert rules.may_see_message(CONSTITUENT, t, "held", "user:voter-1")
    assert rules.may_see_message(STAFF_1, t, "held", "user:voter-1")
    assert not rules.may_see_message(DEPUTY, t, "held", "user:voter-1")
    assert rules.may_see_message(DEPUTY, t, "published", "user:voter-1")


def test_the_name_is_masked_but_for_the_constituent_and_the_streets_staff() -> None:
    assert rules.mask_name("张三丰") == "张**"
    assert rules.mask_name("李") == "李*"
    assert rules.mask_name(" ") == "选民"
    t = thread(True)
    assert rules.sees_constituent_name(CONSTITUENT, t)
    assert rules.sees_constituent_name(STAFF_1, t)
    assert not rules.sees_constituent_name(DEPUTY, t)


def test_only_the_moderators_moderate_and_a_decision_is_checked() -> None:
    with pytest.raises(PermissionDenied, match="street 1 do"):
        rules.require_moderation(DEPUTY, thread(True), "held")
    rules.require_moderation(STAFF_1, thread(True), "held")
    with pytest.raises(InvalidArgument) as caught:
        rules.check_decision("reject", "")
    assert [v.field for v in caught.value.violations] == ["reason"]


def test_who_starts_which_thread() -> None:
    with pytest.raises(PermissionDenied, match="a deputy does"):
        rules.check_start(
            STAFF_1, "deputies", "s", "t", station_id=0, participants=["deputy:2"], phone=""
        )
    others = rules.check_start(
        DEPUTY, "deputies", "s", "t", station_id=0, participants=["deputy:2", "deputy:1"], phone=""
    )
    assert others == ("deputy:2",)  # the starter's own mailbox is added, not repeated
    assert rules.participant_problem(rules.Kind.WORKING, "role:street_committee") != ""
    assert rules.participant_problem(rules.Kind.WORKING, "role:street_committee@street:3") == ""
    assert rules.participant_problem(rules.Kind.WORKING, "user:someone") != ""


def test_an_opinions_text_keeps_the_reference_within_receptions_limit() -> None:
    text = rules.opinion_content(7, "路灯", ["坏了" * 2000])
    assert len(text) == rules.OPINION_MAX
    assert text.endswith("〔互动交流 C7〕") and text.startswith("路灯\n坏了")
    assert rules.opinion_content(7, "路灯", ["x"], "请修路灯") == "请修路灯\n〔互动交流 C7〕"
