"""Who a message is for: recipients as addresses.

A message goes to one address, a mailbox that one person or one office
reads:

| address                      | whose                                                   |
|------------------------------|---------------------------------------------------------|
| `user:<sub>`                 | one signed-in account (a constituent: the token's subject, a pseudonymous id) |
| `deputy:<id>`                | a deputy (the registry's id; the deputy's token names it) |
| `role:<role>`                | a district office: every holder of that role (standing committee office, working body, government office, admin) |
| `role:<role>@street:<id>`    | the staff of one street in a street-scoped role (the street working committee, a liaison station's staff, the street office) |
| `role:<role>@unit:<id>`      | one unit in a unit-scoped role (a department, the government office) |

An office's mailbox is shared: its messages are read and archived once for
the office. `addresses_of` says which mailboxes a caller reads: their own
account's always, their deputy's when they are one, and their role's (with
the street or unit their token names). Nothing here is personal data: a
subject is the identity provider's pseudonymous id, never a name or a phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kit.auth import Principal, Role

MAX_LENGTH = 240
_SUB = re.compile(r"^[A-Za-z0-9._:@|+=-]{1,200}$")
_ROLE = re.compile(r"^role:([a-z_]+)(?:@(street|unit):([1-9][0-9]{0,11}))?$")
_DEPUTY = re.compile(r"^deputy:([1-9][0-9]{0,11})$")
# Roles whose mailbox is not one person's: read by every holder of the role
# (with the street or unit their token names). A constituent and a deputy
# each have their own account's and deputy's mailboxes only; the platform's
# own processes have none.
OFFICE_ROLES = frozenset(Role) - {Role.CONSTITUENT, Role.DEPUTY, Role.SYSTEM}


@dataclass(frozen=True)
class Address:
    """A parsed address: `kind` is "user", "deputy" or "role"."""

    kind: str
    value: str  # the subject, the deputy's id, or the role
    street_id: int | None = None
    unit_id: int | None = None

    def __str__(self) -> str:
        if self.kind != "role":
            return f"{self.kind}:{self.value}"
        if self.unit_id is not None:
            return f"role:{self.value}@unit:{self.unit_id}"
        if self.street_id is not None:
            return f"role:{self.value}@street:{self.street_id}"
        return f"role:{self.value}"

    @property
    def deputy_id(self) -> int | None:
        return int(self.value) if self.kind == "deputy" else None


def user(sub: str) -> str:
    return str(parse(f"user:{sub}"))


def deputy(deputy_id: int) -> str:
    return str(parse(f"deputy:{deputy_id}"))


def office(role: Role | str, *, street_id: int | None = None, unit_id: int | None = None) -> str:
    """The mailbox of an office: a role, with the street or unit it serves."""
    role = Role(role)
    if role not in OFFICE_ROLES:
        raise ValueError(f"{role.value} has no office mailbox: address its people instead")
    return str(
        Address(
            "role", role.value, street_id=street_id if unit_id is None else None, unit_id=unit_id
        )
    )


def parse(text: str) -> Address:
    """The address `text` names; ValueError saying what is wrong otherwise."""
    if not isinstance(text, str) or not text:
        raise ValueError("an address is required, e.g. user:<subject>, deputy:<id> or role:<role>")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"an address is at most {MAX_LENGTH} characters")
    if text.startswith("user:"):
        sub = text.removeprefix("user:")
        if not _SUB.match(sub):
            raise ValueError(f"{text!r} is not a user address: user:<the account's subject>")
        return Address("user", sub)
    if match := _DEPUTY.match(text):
        return Address("deputy", match.group(1))
    if match := _ROLE.match(text):
        role, scope, number = match.groups()
        try:
            parsed_role = Role(role)
        except ValueError:
            raise ValueError(f"{role!r} is not a role of the platform") from None
        if parsed_role not in OFFICE_ROLES:
            raise ValueError(f"{role} has no office mailbox: address its people instead")
        return Address(
            "role",
            role,
            street_id=int(number) if scope == "street" else None,
            unit_id=int(number) if scope == "unit" else None,
        )
    raise ValueError(
        f"{text!r} is not an address: user:<subject>, deputy:<id>, role:<role>, "
        "role:<role>@street:<id> or role:<role>@unit:<id>"
    )


def is_valid(text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def addresses_of(principal: Principal) -> tuple[str, ...]:
    """Every mailbox `principal` reads: their account's, their deputy's, their office's."""
    if principal.role is Role.SYSTEM or principal.kind != "user":
        return ()
    found = [user(principal.sub)] if _SUB.match(principal.sub) else []
    if principal.role is Role.DEPUTY and principal.deputy_id:
        found.append(deputy(principal.deputy_id))
    if principal.role in OFFICE_ROLES:
        found.append(
            office(principal.role, street_id=principal.street_id, unit_id=principal.unit_id)
        )
    return tuple(found)


def may_read(principal: Principal, address: str) -> bool:
    """Whether `principal` reads the mailbox at `address` (its holder only)."""
    return address in addresses_of(principal)


def may_manage(principal: Principal, address: str) -> bool:
    """Whether `principal` may set the channels and contacts of `address`:
    its holder, or the admin for any (an office's contacts are set up by
    the admin when it has no holder signed in yet)."""
    return principal.role is Role.ADMIN or may_read(principal, address)
