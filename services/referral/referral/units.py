"""The units a referral letter passes through, and who acts for them.

A unit is a small value: its kind and, where there is more than one of the
kind, its id (the street's id for a street's committee and office, the
department's id for a functional department). The district's own bodies
(the working body that reviews, the standing committee office, the
government office) are one each.

An `Actor` is the caller as the letter's rules see it: the role of the
verified token, the street and deputy it names, the department a
department's token acts for, and for street committee staff their position
(the full-time deputy director 专职副主任 or the director 主任), which the
sign-offs need. The street office (街道办事处) has no role of its own in
`kit.auth`: it signs in with the department role and its street, and no
department id.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kit.auth import Principal, Role


class UnitKind(StrEnum):
    STREET_COMMITTEE = "street_committee"
    STREET_OFFICE = "street_office"
    WORKING_BODY = "working_body"
    STANDING_COMMITTEE_OFFICE = "standing_committee_office"
    GOVERNMENT_OFFICE = "government_office"
    DEPARTMENT = "department"


# Kinds with one unit per street or per department: they carry an id.
NUMBERED = frozenset({UnitKind.STREET_COMMITTEE, UnitKind.STREET_OFFICE, UnitKind.DEPARTMENT})


@dataclass(frozen=True)
class Unit:
    kind: UnitKind
    id: int | None = None

    def __post_init__(self) -> None:
        if (self.kind in NUMBERED) != (self.id is not None):
            needs = "needs an id" if self.kind in NUMBERED else "has no id"
            raise ValueError(f"a {self.kind.value} unit {needs}")

    def __str__(self) -> str:
        match self.kind:
            case UnitKind.STREET_COMMITTEE:
                return f"the street committee of street {self.id}"
            case UnitKind.STREET_OFFICE:
                return f"the street office of street {self.id}"
            case UnitKind.DEPARTMENT:
                return f"department {self.id}"
            case UnitKind.WORKING_BODY:
                return "the district congress's working body"
            case UnitKind.STANDING_COMMITTEE_OFFICE:
                return "the standing committee office"
            case UnitKind.GOVERNMENT_OFFICE:
                return "the district government office"


def street_committee(street_id: int) -> Unit:
    return Unit(UnitKind.STREET_COMMITTEE, street_id)


def street_office(street_id: int) -> Unit:
    return Unit(UnitKind.STREET_OFFICE, street_id)


def department(department_id: int) -> Unit:
    return Unit(UnitKind.DEPARTMENT, department_id)


WORKING_BODY = Unit(UnitKind.WORKING_BODY)
STANDING_COMMITTEE_OFFICE = Unit(UnitKind.STANDING_COMMITTEE_OFFICE)
GOVERNMENT_OFFICE = Unit(UnitKind.GOVERNMENT_OFFICE)

_DISTRICT_UNITS = {
    Role.WORKING_BODY: WORKING_BODY,
    Role.STANDING_COMMITTEE_OFFICE: STANDING_COMMITTEE_OFFICE,
    Role.GOVERNMENT_OFFICE: GOVERNMENT_OFFICE,
}


class Position(StrEnum):
    """A street committee member's position, for the sign-offs."""

    DEPUTY_DIRECTOR = "deputy_director"  # 专职副主任
    DIRECTOR = "director"  # 主任


@dataclass(frozen=True)
class Actor:
    role: Role
    street_id: int | None = None
    deputy_id: int | None = None
    department_id: int | None = None
    position: Position | None = None
    sub: str = ""
    name: str = ""

    @classmethod
    def from_principal(
        cls,
        principal: Principal,
        *,
        department_id: int | None = None,
        position: Position | None = None,
    ) -> Actor:
        """The actor of a verified caller; a department's token names its
        department as `unit_id` unless `department_id` is given (the
        registry knows a street committee member's position)."""
        if department_id is None and principal.role is Role.DEPARTMENT:
            department_id = principal.unit_id
        return cls(
            role=principal.role,
            street_id=principal.street_id,
            deputy_id=principal.deputy_id,
            department_id=department_id,
            position=position,
            sub=principal.sub,
            name=principal.name,
        )

    @property
    def unit(self) -> Unit | None:
        """The unit this actor works for; None for deputies, constituents,
        station staff, administrators and the platform itself."""
        if self.role in _DISTRICT_UNITS:
            return _DISTRICT_UNITS[self.role]
        if self.role is Role.STREET_COMMITTEE and self.street_id is not None:
            return street_committee(self.street_id)
        if self.role is Role.DEPARTMENT:
            if self.department_id is not None:
                return department(self.department_id)
            if self.street_id is not None:
                return street_office(self.street_id)
        return None

    def __str__(self) -> str:
        if self.role is Role.DEPUTY:
            return f"deputy {self.deputy_id}" if self.deputy_id else "a deputy"
        unit = self.unit
        if unit is None:
            return f"a {self.role.value}" + (
                f" of street {self.street_id}" if self.street_id else ""
            )
        if self.position is not None and unit.kind is UnitKind.STREET_COMMITTEE:
            return f"the {self.position.value.replace('_', ' ')} of {unit}"
        return str(unit)
