"""Recipients' addresses: what parses, what is refused with why, and which
mailboxes each caller reads."""

from __future__ import annotations

import pytest

from kit.auth import Principal, Role
from notifications import addresses


@pytest.mark.parametrize(
    "text",
    [
        "user:3f1c-2b",
        "deputy:12",
        "role:standing_committee_office",
        "role:street_committee@street:3",
        "role:station_staff@street:21",
        "role:department@unit:7",
    ],
)
def test_addresses_parse_and_print_the_same(text: str) -> None:
    assert str(addresses.parse(text)) == text
    assert addresses.is_valid(text)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "required"),
        ("deputy:0", "not an address"),
        ("deputy:x", "not an address"),
        ("user:", "not a user address"),
        ("user:a b", "not a user address"),
        ("role:king", "not a role"),
        ("role:constituent", "no office mailbox"),
        ("role:deputy@street:1", "no office mailbox"),
        ("role:street_committee@ward:1", "not an address"),
        ("mail:someone@example.org", "not an address"),
        ("user:" + "a" * 300, "at most"),
    ],
)
def test_a_bad_address_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        addresses.parse(text)
    assert not addresses.is_valid(text)


def test_an_office_is_addressed_by_its_unit_before_its_street() -> None:
    assert addresses.office(Role.DEPARTMENT, street_id=3, unit_id=7) == "role:department@unit:7"
    assert addresses.office("street_committee", street_id=3) == "role:street_committee@street:3"
    with pytest.raises(ValueError, match="no office mailbox"):
        addresses.office(Role.CONSTITUENT)


def test_each_caller_reads_their_own_mailboxes_only() -> None:
    constituent = Principal(sub="c-1", role=Role.CONSTITUENT)
    deputy = Principal(sub="d-1", role=Role.DEPUTY, deputy_id=5)
    committee = Principal(sub="s-1", role=Role.STREET_COMMITTEE, street_id=2)
    department = Principal(sub="u-1", role=Role.DEPARTMENT, unit_id=9)
    office = Principal(sub="o-1", role=Role.STANDING_COMMITTEE_OFFICE)
    assert addresses.addresses_of(constituent) == ("user:c-1",)
    assert addresses.addresses_of(deputy) == ("user:d-1", "deputy:5")
    assert addresses.addresses_of(committee) == ("user:s-1", "role:street_committee@street:2")
    assert addresses.addresses_of(department) == ("user:u-1", "role:department@unit:9")
    assert addresses.addresses_of(office) == ("user:o-1", "role:standing_committee_office")
    assert addresses.addresses_of(Principal.system("worker")) == ()
    client = Principal(sub="dept-system", role=Role.DEPARTMENT, unit_id=9, kind="client")
    assert addresses.addresses_of(client) == ()


def test_only_the_holder_or_the_admin_manages_a_mailbox() -> None:
    deputy = Principal(sub="d-1", role=Role.DEPUTY, deputy_id=5)
    other = Principal(sub="d-2", role=Role.DEPUTY, deputy_id=6)
    admin = Principal(sub="a-1", role=Role.ADMIN)
    assert addresses.may_read(deputy, "deputy:5")
    assert not addresses.may_read(other, "deputy:5")
    assert addresses.may_manage(admin, "deputy:5")
    assert not addresses.may_read(admin, "deputy:5")
    assert not addresses.may_manage(other, "user:d-1")
