"""Who may see the personal data of a session (the constituents who booked
it, who raised what there): the staff of the station's street (station staff,
the street committee), the district's offices, and the deputies on that
session's rota. Everyone else sees the session's public face only.

The rule is checked by the service for every record it returns, and for
every record a request refers to (`reception.service` and the use cases
built on it)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kit.auth import Principal, Role
from reception import models


def session_deputies(session: Session, session_id: int) -> set[int]:
    """The registry ids of the deputies on a session's rota."""
    query = select(models.RotaAssignment.deputy_id).where(
        models.RotaAssignment.session_id == session_id
    )
    return set(session.scalars(query))


def is_station_staff(who: Principal | None, station: models.RegistryStation) -> bool:
    """The district's offices, and the station staff and street committee of
    the station's street."""
    if who is None:
        return False
    if who.role in (Role.STATION_STAFF, Role.STREET_COMMITTEE):
        return who.acts_for_street(station.street_id)
    return who.is_district


def may_see_personal(
    session: Session,
    who: Principal | None,
    station: models.RegistryStation,
    session_id: int,
) -> bool:
    """Whether `who` may see the personal data of session `session_id` at
    `station`: its station's staff, or a deputy on its rota."""
    if is_station_staff(who, station):
        return True
    return (
        who is not None
        and who.role is Role.DEPUTY
        and who.deputy_id is not None
        and who.deputy_id in session_deputies(session, session_id)
    )
