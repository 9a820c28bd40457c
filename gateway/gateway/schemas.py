"""The JSON API's bodies: explicit pydantic models, so the API is stable and
OpenAPI documents every schema. Field names are the protobuf field names;
enums are lowercase short names; ids of 0 ("none") become null.

Every value a client sends ends up in a protobuf field, so the input types
below carry that field's limits: ids and counts within int64 / int32, text
without NUL or lone surrogates (which protobuf or PostgreSQL refuse), and no
longer than the registry stores. A value out of range is a 422 naming the
field, never a failed upstream call."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt, Le
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
)
from pydantic_core import PydanticCustomError


class DeputyLevel(StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    CITY = "city"
    DISTRICT = "district"


class UnitKind(StrEnum):
    STANDING_COMMITTEE = "standing_committee"
    WORKING_BODY = "working_body"
    STANDING_COMMITTEE_OFFICE = "standing_committee_office"
    STREET_COMMITTEE = "street_committee"
    STREET_OFFICE = "street_office"
    GOVERNMENT_OFFICE = "government_office"
    DEPARTMENT = "department"


class PositionRole(StrEnum):
    STREET_DIRECTOR = "street_director"
    STREET_FULL_TIME_DEPUTY_DIRECTOR = "street_full_time_deputy_director"
    STREET_COMMITTEE_MEMBER = "street_committee_member"
    STREET_PAID_STAFF = "street_paid_staff"
    STATION_HEAD = "station_head"
    STATION_DEPUTY_HEAD = "station_deputy_head"


class BudgetLineKind(StrEnum):
    PERSONNEL = "personnel"
    OPERATIONS = "operations"


class RosterKind(StrEnum):
    DEPUTIES = "deputies"
    STATIONS = "stations"
    COMMUNITIES = "communities"
    POSITIONS = "positions"


class RosterFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def _zero_to_none(value: Any) -> Any:
    return None if value in (0, "") else value


# Output helpers: proto's zero values mean "not set".
RefId = Annotated[int | None, BeforeValidator(_zero_to_none)]
IsoDate = Annotated[date | None, BeforeValidator(_zero_to_none)]

# ---------------------------------------------------------------- input types

INT32_MAX = 2**31 - 1
# The bound of every int64 field: the largest integer a JSON reader that works
# in doubles (JavaScript, the portal, most OpenAPI tools) reads exactly. Past
# it such a reader rounds, so 2**63 - 1 itself would read as 2**63, outside
# int64, and a value just over the bound would pass as equal to it. Ids come
# from database sequences and amounts are in yuan: neither gets near it.
JSON_INT_MAX = 2**53 - 1


def _proto_text(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError(
            "lone_surrogate", "must be valid Unicode text (no lone surrogates)"
        ) from None
    return value


def _json_integer(value: Any) -> Any:
    # pydantic's lax mode takes true/false and "12" for an int; JSON has types.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("json_integer", "must be a JSON integer")
    return value


def _json_date(value: Any) -> Any:
    # pydantic's lax mode takes a number of seconds for a date.
    if not isinstance(value, str):
        raise PydanticCustomError("json_date", "must be an ISO date string, e.g. 2024-06-15")
    return value


# Text that protobuf and the registry's database accept; the pattern tells
# OpenAPI clients (and fuzzers) about NUL, the validator says what is wrong.
ProtoText = Annotated[
    str, AfterValidator(_proto_text), Field(json_schema_extra={"pattern": r"^[^\u0000]*$"})
]
# A record id (int64 in the contracts) in a path or query string.
IdParam = Annotated[int, Gt(0), Le(JSON_INT_MAX)]
# The same in a JSON body, where only a JSON number is an id.
Id = Annotated[IdParam, BeforeValidator(_json_integer)]
# Non-negative JSON integers that fit the proto field.
Int32Count = Annotated[int, Ge(0), Le(INT32_MAX), BeforeValidator(_json_integer)]
Int64Amount = Annotated[int, Ge(0), Le(JSON_INT_MAX), BeforeValidator(_json_integer)]
JsonDate = Annotated[date, BeforeValidator(_json_date)]
Text = Annotated[ProtoText, Field(max_length=2000)]
# The pattern admits neither NUL nor surrogates.
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Name = Annotated[ProtoText, Field(min_length=1, max_length=200)]
Gender = Literal["男", "女"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ListQuery(BaseModel):
    page_size: Annotated[int, Field(ge=1, le=500)] | None = Field(
        default=None, description="At most 500; the registry's default (50) when absent."
    )
    page_token: ProtoText | None = Field(
        default=None, max_length=1000, description="`next_page_token` of the previous page."
    )


class ActiveListQuery(ListQuery):
    include_inactive: bool = Field(default=False, description="Also list deactivated records.")


class _In(BaseModel):
    # Unknown keys are a client's typo, not something to drop silently.
    model_config = ConfigDict(extra="forbid")


class _Change(_In):
    """A PATCH body: the keys given are the update mask, so at least one."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})


class Deactivation(_Out):
    deactivated_at: datetime | None = None
    reason: str = ""


class _Record(_Out):
    id: int
    active: bool = True
    deactivation: Deactivation | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


# ---------------------------------------------------------------- streets


class Street(_Record):
    code: str
    name: str


class StreetCreate(_In):
    code: Code
    name: Name


class StreetUpdate(_Change):
    code: Code | None = None
    name: Name | None = None


class StreetQuery(ActiveListQuery):
    query: ProtoText | None = Field(
        default=None, max_length=200, description="Substring of name or code."
    )


# ---------------------------------------------------------------- areas


class Area(_Record):
    code: str
    name: str
    street_id: RefId = None


class AreaCreate(_In):
    code: Code
    name: Name
    street_id: Id


class AreaUpdate(_Change):
    code: Code | None = None
    name: Name | None = None
    street_id: Id | None = None


class AreaQuery(ActiveListQuery):
    street_id: IdParam | None = None


# ---------------------------------------------------------------- communities


class Community(_Record):
    code: str
    name: str
    street_id: RefId = None
    area_id: RefId = None
    address_keywords: list[str] = []


class CommunityCreate(_In):
    code: Code
    name: Name
    street_id: Id
    area_id: Id | None = None
    address_keywords: list[Annotated[ProtoText, Field(min_length=1, max_length=100)]] = []


class CommunityUpdate(_Change):
    code: Code | None = None
    name: Name | None = None
    street_id: Id | None = None
    area_id: Id | None = None
    address_keywords: list[Annotated[ProtoText, Field(min_length=1, max_length=100)]] | None = None


class CommunityQuery(ActiveListQuery):
    street_id: IdParam | None = None
    area_id: IdParam | None = None
    query: ProtoText | None = Field(default=None, max_length=200)


# ---------------------------------------------------------------- venues


class Venue(_Record):
    code: str
    name: str
    address: str = ""
    street_id: RefId = None
    capacity: int = 0
    opening_hours: str = ""


class VenueCreate(_In):
    code: Code
    name: Name
    address: Annotated[ProtoText, Field(max_length=300)] = ""
    street_id: Id
    capacity: Int32Count = 0
    opening_hours: Annotated[ProtoText, Field(max_length=200)] = ""


class VenueUpdate(_Change):
    code: Code | None = None
    name: Name | None = None
    address: Annotated[ProtoText, Field(max_length=300)] | None = None
    street_id: Id | None = None
    capacity: Int32Count | None = None
    opening_hours: Annotated[ProtoText, Field(max_length=200)] | None = None


class VenueQuery(ActiveListQuery):
    street_id: IdParam | None = None


# ---------------------------------------------------------------- stations


class Station(_Record):
    code: str
    name: str
    area_id: RefId = None
    street_id: RefId = Field(default=None, description="Derived from the area.")
    venue_id: RefId = None
    community_ids: list[int] = []
    opened_on: IsoDate = None


class StationCreate(_In):
    code: Code
    name: Name
    area_id: Id
    venue_id: Id | None = None
    community_ids: list[Id] = []
    opened_on: JsonDate | None = None


class StationUpdate(_Change):
    code: Code | None = None
    name: Name | None = None
    area_id: Id | None = None
    venue_id: Id | None = None
    community_ids: list[Id] | None = None
    opened_on: JsonDate | None = None


class StationQuery(ActiveListQuery):
    street_id: IdParam | None = None
    area_id: IdParam | None = None


# ---------------------------------------------------------------- units


class Unit(_Record):
    code: str
    name: str
    kind: UnitKind | None = None
    parent_id: RefId = None
    street_id: RefId = None
    responsibilities: str = ""


class UnitCreate(_In):
    code: Code
    name: Name
    kind: UnitKind
    parent_id: Id | None = None
    street_id: Id | None = Field(
        default=None, description="For street committees and street offices."
    )
    responsibilities: Text = ""


class UnitUpdate(_Change):
    code: Code | None = None
    name: Name | None = None
    kind: UnitKind | None = None
    parent_id: Id | None = None
    street_id: Id | None = None
    responsibilities: Text | None = None


class UnitQuery(ActiveListQuery):
    kind: UnitKind | None = None
    parent_id: IdParam | None = None
    street_id: IdParam | None = None


# ---------------------------------------------------------------- deputies


class DeputyContact(BaseModel):
    """Private: shown only to roles that need it."""

    model_config = ConfigDict(extra="forbid")

    phone: Annotated[ProtoText, Field(max_length=40)] = ""
    email: Annotated[ProtoText, Field(max_length=200)] = ""
    workplace: Annotated[ProtoText, Field(max_length=200)] = ""
    workplace_address: Annotated[ProtoText, Field(max_length=300)] = ""


class Deputy(_Record):
    code: str
    name: str
    gender: str = ""
    level: DeputyLevel | None = None
    term: str = ""
    term_start: IsoDate = None
    term_end: IsoDate = None
    street_id: RefId = None
    station_id: RefId = None
    profession: str = ""
    expertise: list[str] = []
    contact_community_ids: list[int] = []
    biography: str = ""
    contact: DeputyContact | None = Field(
        default=None,
        description=(
            "Private contact; present only for admin, the standing committee office and "
            "the deputy's own street committee."
        ),
    )


class DeputyCreate(_In):
    code: Code
    name: Name
    gender: Gender
    level: DeputyLevel
    term: Annotated[ProtoText, Field(max_length=40)] = ""
    term_start: JsonDate | None = None
    term_end: JsonDate | None = None
    street_id: Id
    station_id: Id | None = None
    profession: Annotated[ProtoText, Field(max_length=200)] = ""
    expertise: list[Annotated[ProtoText, Field(min_length=1, max_length=50)]] = []
    contact_community_ids: list[Id] = []
    biography: Annotated[ProtoText, Field(max_length=5000)] = ""
    contact: DeputyContact | None = None


class DeputyUpdate(_Change):
    code: Code | None = None
    name: Name | None = None
    gender: Gender | None = None
    level: DeputyLevel | None = None
    term: Annotated[ProtoText, Field(max_length=40)] | None = None
    term_start: JsonDate | None = None
    term_end: JsonDate | None = None
    street_id: Id | None = None
    station_id: Id | None = None
    profession: Annotated[ProtoText, Field(max_length=200)] | None = None
    expertise: list[Annotated[ProtoText, Field(min_length=1, max_length=50)]] | None = None
    contact_community_ids: list[Id] | None = None
    biography: Annotated[ProtoText, Field(max_length=5000)] | None = None
    contact: DeputyContact | None = None


class DeputyQuery(ActiveListQuery):
    level: DeputyLevel | None = None
    street_id: IdParam | None = None
    station_id: IdParam | None = None
    expertise: ProtoText | None = Field(
        default=None, max_length=50, description="An expertise tag."
    )
    query: ProtoText | None = Field(
        default=None, max_length=200, description="Substring of name or code."
    )


class DeputyProfile(_Out):
    """What anyone may see of a deputy."""

    id: int
    code: str
    name: str
    gender: str = ""
    level: DeputyLevel | None = None
    term: str = ""
    street_id: RefId = None
    street_name: str = ""
    station_id: RefId = None
    station_name: str = ""
    profession: str = ""
    expertise: list[str] = []
    contact_community_ids: list[int] = []
    biography: str = ""
    active: bool = True


# ---------------------------------------------------------------- positions


class Position(_Out):
    id: int
    role: PositionRole | None = None
    unit_id: RefId = Field(default=None, description="The street committee, for street roles.")
    station_id: RefId = Field(default=None, description="The station, for station roles.")
    deputy_id: RefId = None
    holder_name: str = ""
    holder_title: str = ""
    started_on: IsoDate = None
    ended_on: IsoDate = None
    end_reason: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None


class PositionCreate(_In):
    role: PositionRole
    unit_id: Id | None = None
    station_id: Id | None = None
    deputy_id: Id | None = None
    holder_name: Annotated[ProtoText, Field(max_length=100)] = ""
    holder_title: Annotated[ProtoText, Field(max_length=200)] = ""
    started_on: JsonDate | None = None


class PositionUpdate(_Change):
    deputy_id: Id | None = None
    holder_name: Annotated[ProtoText, Field(max_length=100)] | None = None
    holder_title: Annotated[ProtoText, Field(max_length=200)] | None = None
    started_on: JsonDate | None = None


class PositionQuery(ListQuery):
    include_ended: bool = False
    role: PositionRole | None = None
    unit_id: IdParam | None = None
    station_id: IdParam | None = None
    deputy_id: IdParam | None = None
    street_id: IdParam | None = Field(default=None, description="Positions in this street.")


class Vacate(_In):
    ended_on: JsonDate | None = Field(
        default=None, description="Today (Asia/Shanghai) when absent."
    )
    reason: Annotated[ProtoText, Field(min_length=1, max_length=500)]


# ---------------------------------------------------------------- budgets

Year = Annotated[int, Field(ge=2000, le=2100)]


class BudgetLine(_Record):
    unit_id: RefId = None
    year: int
    kind: BudgetLineKind | None = None
    amount_yuan: int
    note: str = ""


class BudgetLineCreate(_In):
    unit_id: Id
    year: Annotated[Year, BeforeValidator(_json_integer)]
    kind: BudgetLineKind
    amount_yuan: Int64Amount
    note: Text = ""


class BudgetLineUpdate(_Change):
    kind: BudgetLineKind | None = None
    amount_yuan: Int64Amount | None = None
    note: Text | None = None


class BudgetLineQuery(ActiveListQuery):
    unit_id: IdParam | None = None
    year: Year | None = None


class StreetBudgetCheck(_Out):
    unit_id: int
    unit_name: str
    year: int
    personnel_yuan: int
    operations_yuan: int
    total_yuan: int
    minimum_yuan: int
    meets_minimum: bool
    shortfall_yuan: int


class BudgetChecks(_Out):
    checks: list[StreetBudgetCheck]


# ---------------------------------------------------------------- common


class Deactivate(_In):
    reason: Annotated[ProtoText, Field(min_length=1, max_length=500)]


class StationDeputy(_Out):
    deputy: DeputyProfile
    is_station_head: bool = False


class FindStationResult(_Out):
    community: Community
    station: Station
    venue: Venue | None = None
    street: Street | None = None
    deputies: list[StationDeputy] = Field(
        default=[],
        description="The station's deputies, national first, then provincial, city, district.",
    )
    contact_deputies: list[DeputyProfile] = Field(
        default=[], description="Deputies who are the fixed contact for this community."
    )


class RosterImportResult(_Out):
    created: int
    updated: int


class DemoAccountOut(BaseModel):
    account: str
    role: str
    name: str
    street_id: int | None = None
    deputy_id: int | None = None
    unit_id: int | None = Field(default=None, description="A department's registry unit.")
    position: str | None = Field(
        default=None, description="A street committee member's position, for sign-offs."
    )


class DevTokenRequest(_In):
    account: ProtoText = Field(
        max_length=100, description="A demo account name from GET /api/v1/dev/accounts."
    )
    street_id: Id | None = Field(
        default=None,
        description="For a street-scoped account (street committee, station staff): "
        "act for this street instead of the account's own.",
    )
    deputy_id: Id | None = Field(
        default=None,
        description="For the deputy account: act as this deputy (registry id) "
        "instead of the account's own.",
    )
    unit_id: Id | None = Field(
        default=None,
        description="For a department's account: act for this department (registry unit id) "
        "instead of the account's own.",
    )


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    role: str
    street_id: int | None = None
    deputy_id: int | None = None
    unit_id: int | None = None
    position: str | None = None


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    services: dict[str, Literal["serving", "not serving"]] | None = Field(
        default=None, description="Each service behind the gateway, as its gRPC health says."
    )
    directory: Literal["loaded", "loading"] | None = Field(
        default=None,
        description="The public directory in memory: ready once its first snapshot is loaded.",
    )


class _Page(_Out):
    next_page_token: str | None = Field(
        default=None, description="Pass as `page_token` for the next page; null on the last page."
    )
    total_size: int = 0


def page_model(item: type[BaseModel], name: str) -> type[_Page]:
    """A named page schema (e.g. `StreetPage`) with `items` of `item`."""
    from pydantic import create_model

    model: type[_Page] = create_model(name, __base__=_Page, items=(list[item], ...))  # type: ignore[valid-type,call-overload]
    return model


# ---------------------------------------------------------------- the audit


class AuditEntry(_Out):
    id: int
    occurred_at: datetime | None = None
    actor_subject: str
    actor_role: str
    actor_street_id: int | None = None
    action: str
    record_kind: str
    record_id: int
    changed_fields: list[str] = []
    correlation_id: str = ""


class AuditQuery(ListQuery):
    record_kind: ProtoText | None = Field(
        default=None, max_length=40, description="One kind of record, e.g. `station`."
    )
    record_id: IdParam | None = Field(default=None, description="One record (with `record_kind`).")
    actor_subject: ProtoText | None = Field(
        default=None, max_length=200, description="One actor, by the token's subject."
    )


AuditPage = page_model(AuditEntry, "AuditEntryPage")


# ---------------------------------------------------------------- reception


class SessionKind(StrEnum):
    REGULAR = "regular"
    EXTRA = "extra"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class DayOffPolicy(StrEnum):
    KEEP = "keep"
    MOVE = "move"


# A field named `date` would shadow the type in its class: annotate with this.
Day = date
ClockTime = Annotated[str, Field(pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]
Reason = Annotated[ProtoText, Field(min_length=1, max_length=500)]


class SlotHours(BaseModel):
    """One slot's opening hours, in Asia/Shanghai time."""

    model_config = ConfigDict(extra="forbid")
    label: Annotated[ProtoText, Field(max_length=40)] = Field(
        default="", description="e.g. 上午; derived from the start when empty."
    )
    start: ClockTime
    end: ClockTime


class SessionSlot(_Out):
    label: str
    starts_at: datetime = Field(description="UTC.")
    ends_at: datetime = Field(description="UTC.")
    local_start: str = Field(description="Asia/Shanghai, e.g. 09:00.")
    local_end: str
    capacity: int = Field(default=0, description="The venue's capacity; 0 when not known.")


class ReceptionSession(_Out):
    id: int
    station_id: int
    station_name: str = ""
    street_id: RefId = None
    date: Day = Field(description="Asia/Shanghai.")
    kind: SessionKind
    status: SessionStatus
    slots: list[SessionSlot] = []
    reason: str = Field(default="", description="Why an extra session is held.")
    cancellation_reason: str = ""
    nominal_date: IsoDate = Field(
        default=None, description="A regular session's reception day before its rule moved it."
    )
    flags: list[str] = Field(
        default=[],
        description="moved_from_day_off, kept_on_day_off, holidays_not_covered (only weekends "
        "were counted: the holiday library has no notice for that year yet).",
    )
    venue_name: str = ""
    venue_address: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None


class ReceptionSessions(_Out):
    items: list[ReceptionSession]


class StationRule(_Out):
    station_id: int
    day_of_month: int
    day_off_policy: DayOffPolicy
    slots: list[SlotHours] = []
    effective_slots: list[SlotHours] = []
    updated_at: datetime | None = None


class StationRuleSet(_In):
    day_of_month: Annotated[int, Field(ge=1, le=31), BeforeValidator(_json_integer)] = Field(
        default=15, description="A day the month lacks is its last day."
    )
    day_off_policy: DayOffPolicy = Field(
        default=DayOffPolicy.KEEP,
        description="When the day is a public holiday or a weekend: keep it, or move to the next "
        "working day.",
    )
    slots: list[SlotHours] = Field(
        default=[],
        max_length=6,
        description="Empty: the venue's hours, else 9:00-12:00, 14:30-17:30.",
    )


class ScheduleSessions(_In):
    station_id: Id | None = Field(
        default=None, description="One station; every station the caller may change when absent."
    )
    from_month: Annotated[str, Field(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")] | None = Field(
        default=None, description="YYYY-MM; the current month when absent."
    )
    months: Annotated[int, Field(ge=1, le=24), BeforeValidator(_json_integer)] | None = Field(
        default=None, description="How many months (4 when absent)."
    )


class ScheduledSessions(_Out):
    created: int = 0
    existing: int = 0
    sessions: list[ReceptionSession] = []


class ExtraSession(_In):
    date: Annotated[Day, BeforeValidator(_json_date)]
    reason: Reason = Field(description="Why: before a congress meeting, a hot issue...")
    slots: list[SlotHours] = Field(
        default=[], max_length=6, description="The station's when empty."
    )


class CancelSession(_In):
    reason: Reason


# ---------------------------------------------------------------- bookings


class BookingStatus(StrEnum):
    BOOKED = "booked"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class Attendance(StrEnum):
    ATTENDED = "attended"
    NO_SHOW = "no_show"


PersonName = Annotated[ProtoText, Field(max_length=50)]
Topic = Annotated[ProtoText, Field(min_length=1, max_length=500)]


class BookingCreate(_In):
    slot_id: Id = Field(description="One of the session's slots (see its availability).")
    name: Annotated[PersonName, Field(min_length=1)]
    phone: Annotated[ProtoText, Field(min_length=1, max_length=40)] = Field(
        description="A Chinese mobile (13800138000) or landline with its area code "
        "(020-12345678); kept in E.164.",
        examples=["13800138000"],
    )
    community_id: Id = Field(description="A community the session's station serves.")
    topic: Topic = Field(description="What the constituent wants to raise.")
    waitlist: bool = Field(
        default=False,
        description="When the slot is full: join its waitlist (else 409 'slot X is full; join "
        "the waitlist').",
    )


class Booking(_Out):
    id: int
    session_id: int
    slot_id: int
    status: BookingStatus
    waitlist_position: int = Field(
        default=0, description="1 = next to get a place; 0 if not waiting."
    )
    name: str = ""
    phone: str = Field(default="", description="E.164.")
    community_id: RefId = None
    topic: str = ""
    signed_in: bool = Field(
        default=False, description="Tied to a constituent's account (else only the cancel code)."
    )
    created_at: datetime | None = None
    updated_at: datetime | None = None
    cancelled_at: datetime | None = None


class BookingCreated(_Out):
    booking: Booking
    cancel_code: str = Field(
        description="Cancels the booking without signing in. Shown once: only its hash is kept."
    )


class BookingCancel(_In):
    cancel_code: Annotated[ProtoText, Field(max_length=100)] | None = Field(
        default=None, description="The code given at booking, for a booker not signed in."
    )


class SlotAvailability(_Out):
    slot_id: int
    label: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    local_start: str = ""
    local_end: str = ""
    capacity: int = Field(
        default=0, description="The venue's capacity, or the service's default when not known."
    )
    capacity_known: bool = False
    booked: int = 0
    waitlisted: int = 0
    available: int = 0
    open: bool = Field(default=False, description="Still bookable.")


class Availability(_Out):
    session_id: int
    station_id: int
    date: Day
    cancelled: bool = False
    slots: list[SlotAvailability] = []


class WalkIn(_Out):
    id: int
    session_id: int
    name: str = ""
    community_id: RefId = None
    topic: str = ""
    recorded_at: datetime | None = None


class WalkInCreate(_In):
    name: PersonName = Field(default="", description="Optional.")
    community_id: Id = Field(description="A community the session's station serves.")
    topic: Topic


class SessionBookings(_Out):
    bookings: list[Booking] = []
    walk_ins: list[WalkIn] = []


class MyBookings(_Out):
    items: list[Booking] = []


class AttendanceMark(_In):
    attendance: Attendance


# ---------------------------------------------------------------- opinions and reception records


class OpinionSource(StrEnum):
    RECEPTION = "reception"
    ONLINE = "online"
    ORDER = "order"


class OpinionCategory(StrEnum):
    """The platform's fixed list (reception.opinion_rules.CATEGORIES)."""

    URBAN_PLANNING = "urban_planning"
    TRANSPORT = "transport"
    ENVIRONMENT = "environment"
    EDUCATION = "education"
    HEALTH = "health"
    ELDERLY_CARE = "elderly_care"
    EMPLOYMENT = "employment"
    PROPERTY = "property"
    PUBLIC_SAFETY = "public_safety"
    LEGAL = "legal"
    ECONOMY = "economy"
    CULTURE_SPORTS = "culture_sports"
    COMMUNITY = "community"
    OTHER = "other"


class OpinionStatus(StrEnum):
    RECORDED = "recorded"
    ANSWERED_ON_THE_SPOT = "answered_on_the_spot"
    HANDED_ON = "handed_on"
    MERGED = "merged"
    DECLINED = "declined"
    IN_PROGRESS = "in_progress"
    DONE = "done"


OpinionText = Annotated[ProtoText, Field(min_length=1, max_length=2000)]
TrackingCode = Annotated[
    str, Field(pattern=r"^[Tt][Hh]-[0-9]{4}-[0-9]{6,10}$", examples=["TH-2026-000123"])
]


class OpinionNew(_In):
    source: OpinionSource = Field(
        default=OpinionSource.ONLINE,
        description="online: anyone, without a token too. reception: the station's staff and "
        "the deputies on the session's rota. order: the street committee.",
    )
    category: OpinionCategory
    content: OpinionText
    community_id: Id | None = Field(
        default=None, description="Required online and for orders: the station serving it takes it."
    )
    session_id: Id | None = Field(default=None, description="The reception (source reception).")
    raiser_name: Annotated[ProtoText, Field(max_length=100)] | None = Field(
        default=None, description="Required online and at a reception; kept from everyone else."
    )
    raiser_phone: Annotated[ProtoText, Field(max_length=40)] | None = None
    raiser_contact: Annotated[ProtoText, Field(max_length=300)] | None = None
    taken_by_deputy_id: Id | None = Field(
        default=None, description="A reception's or an order's deputy who took it."
    )


class OpinionRaiser(_Out):
    name: str = ""
    phone: str = ""
    contact: str = ""
    subject: str = ""


class OpinionTimelineEntry(_Out):
    at: datetime | None = None
    kind: str
    text: str = Field(default="", description="Public words; never who raised it.")


class Opinion(_Out):
    id: int
    tracking_code: str
    source: OpinionSource
    category: OpinionCategory
    content: str
    community_id: RefId = None
    community_name: str = ""
    station_id: int
    station_name: str = ""
    street_id: int
    session_id: RefId = None
    status: OpinionStatus
    taken_by_deputy_id: RefId = None
    taken_by_deputy_name: str = ""
    merged_into_id: RefId = None
    merged_into_code: str = ""
    decline_reason: str = ""
    answer: str = ""
    raiser: OpinionRaiser | None = Field(
        default=None, description="Only for those who may see it; null otherwise."
    )
    raiser_hidden: bool = False
    timeline: list[OpinionTimelineEntry] = []
    recorded_at: datetime | None = None
    updated_at: datetime | None = None


class OpinionTrack(_Out):
    tracking_code: str
    category: OpinionCategory
    category_name: str = ""
    status: OpinionStatus
    station_id: int
    station_name: str = ""
    timeline: list[OpinionTimelineEntry] = []
    merged_into_code: str = ""
    recorded_at: datetime | None = None


class OpinionQuery(BaseModel):
    station_id: IdParam | None = None
    street_id: IdParam | None = None
    status: list[OpinionStatus] = Field(
        default=[], description="Any of these; recorded and in_progress (the queue) when absent."
    )
    category: OpinionCategory | None = None
    source: OpinionSource | None = None
    taken_by_deputy_id: IdParam | None = None
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None
    page_size: Annotated[int, Field(ge=1, le=200)] | None = Field(
        default=None, description="At most 200; 50 when absent."
    )
    page_token: Annotated[ProtoText, Field(max_length=40)] | None = Field(
        default=None, description="`next_page_token` of the previous page."
    )


class OpinionPage(_Out):
    items: list[Opinion]
    next_page_token: str | None = None


class OpinionAnswer(_In):
    answer: OpinionText = Field(description="Public words.")


class OpinionHandOn(_In):
    note: Annotated[ProtoText, Field(max_length=500)] = Field(
        default="", description="Public words, e.g. 转街道办事处办理."
    )


class OpinionMerge(_In):
    into_id: Id = Field(description="Another opinion of the same street.")


class OpinionDecline(_In):
    reason: Reason = Field(description="Public words.")


class OpinionAssign(_In):
    deputy_id: Id | None = Field(
        default=None, description="An active deputy of the street; a deputy taking it: absent."
    )


class SuggestedDeputy(_Out):
    deputy_id: int
    name: str = ""
    station_id: RefId = None
    matched_expertise: list[str] = []
    score: int = 0
    same_station: bool = False
    open_opinions: int = 0
    reason: str = ""


class SuggestedDeputies(_Out):
    items: list[SuggestedDeputy]


class ReceptionRecordSet(_In):
    deputy_ids: list[Id] = Field(
        default=[], max_length=50, description="Deputies present: deputies of the station."
    )
    person_times: Annotated[int, Field(ge=0, le=100_000), BeforeValidator(_json_integer)] = Field(
        default=0, description="People received."
    )
    notes: Annotated[ProtoText, Field(max_length=2000)] = Field(
        default="", description="No personal data."
    )
    # JSON true or false only (lax mode would take 0 and "yes").
    lock: StrictBool = Field(default=False, description="Lock the record: it changes no more.")


class ReceptionRecord(_Out):
    session_id: int
    station_id: int
    session_date: IsoDate = None
    deputy_ids: list[int] = []
    deputy_names: list[str] = []
    person_times: int = 0
    notes: str = ""
    locked: bool = False
    opinions_recorded: int = 0
    updated_at: datetime | None = None
    locked_at: datetime | None = None


class FiguresQuery(BaseModel):
    station_id: IdParam | None = Field(default=None, description="One station, or")
    street_id: IdParam | None = Field(
        default=None, description="one street; neither: the district."
    )
    year: Annotated[int, Field(ge=2000, le=2100)]
    month: Annotated[int, Field(ge=1, le=12)] | None = Field(
        default=None, description="The whole year when absent."
    )


class FigureCount(_Out):
    key: str
    label: str = ""
    count: int = 0


class MonthFigures(_Out):
    month: str
    sessions_recorded: int = 0
    deputy_activity_person_times: int = 0
    reception_person_times: int = 0
    opinions_collected: int = 0


class ReceptionFigures(_Out):
    station_id: RefId = None
    street_id: RefId = None
    year: int
    month: RefId = None
    sessions_recorded: int = 0
    deputy_activity_person_times: int = Field(
        default=0, description="Deputies present at recorded receptions (person-times)."
    )
    reception_person_times: int = 0
    opinions_collected: int = 0
    by_category: list[FigureCount] = []
    by_outcome: list[FigureCount] = []
    by_source: list[FigureCount] = []
    months: list[MonthFigures] = []


# ---------------------------------------------------------------- the rota


class RotaStatus(StrEnum):
    NEEDS_ROTA = "needs_rota"
    COMPLETE = "complete"
    GAPS = "gaps"


class SwapStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class RotaDeputy(_Out):
    deputy_id: int
    name: str = ""
    level: str = Field(default="", description="national, provincial, city or district.")
    lead: bool = Field(default=False, description="The station head or deputy head leading it.")


class SessionRota(_Out):
    session_id: int
    station_id: int
    date: Day
    status: RotaStatus
    gaps: list[str] = Field(
        default=[], description="no_head_available, too_few_deputies: why it is not complete."
    )
    deputies: list[RotaDeputy] = Field(default=[], description="The lead first.")
    min_deputies: int = 0
    published_at: datetime | None = None
    updated_at: datetime | None = None


class RotaPickIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    deputy_id: Id
    lead: StrictBool = Field(default=False, description="At most one, a head; else the first head.")


class RotaSet(_In):
    deputies: list[RotaPickIn] = Field(
        min_length=1, max_length=30, description="The whole rota, a head among them."
    )


class RotaGenerate(_In):
    from_month: Annotated[str, Field(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")] | None = Field(
        default=None, description="YYYY-MM; the current month when absent."
    )
    months: Annotated[int, Field(ge=1, le=24), BeforeValidator(_json_integer)] | None = Field(
        default=None, description="How many months (4 when absent)."
    )
    regenerate: StrictBool = Field(
        default=False, description="Draw again the rotas of future sessions that have one."
    )


class RotaGenerated(_Out):
    published: int = 0
    kept: int = 0
    rotas: list[SessionRota] = []


class UnavailabilityIn(_In):
    first_day: Annotated[Day, BeforeValidator(_json_date)]
    last_day: Annotated[Day, BeforeValidator(_json_date)]
    reason: Reason


class UnavailabilityOut(_Out):
    id: int
    deputy_id: int
    first_day: Day
    last_day: Day
    reason: str = ""
    created_at: datetime | None = None
    withdrawn_at: datetime | None = None


class Unavailabilities(_Out):
    items: list[UnavailabilityOut]


class SwapIn(_In):
    proposer_id: Id = Field(description="The deputy on `session_id` who proposes.")
    session_id: Id
    counterpart_id: Id = Field(description="A deputy of the same station.")
    counterpart_session_id: Id | None = Field(
        default=None, description="The counterpart's session taken in return; none: just hand over."
    )


class RotaSwapOut(_Out):
    id: int
    station_id: int
    proposer_id: int
    session_id: int
    counterpart_id: int
    counterpart_session_id: RefId = None
    status: SwapStatus
    decided_by_role: str = ""
    created_at: datetime | None = None
    decided_at: datetime | None = None


class RotaSwaps(_Out):
    items: list[RotaSwapOut]


# ---------------------------------------------------------------- referral letters


class LetterStage(StrEnum):
    JURISDICTION = "jurisdiction"
    DEPUTY_SIGN_OFF = "deputy_sign_off"
    DEPUTY_DIRECTOR_SIGN_OFF = "deputy_director_sign_off"
    DIRECTOR_SIGN_OFF = "director_sign_off"
    REVIEW = "review"
    DISPATCH = "dispatch"
    ASSIGNMENT = "assignment"
    AWAITING_RECEIPT = "awaiting_receipt"
    IN_HAND = "in_hand"
    ANSWERED = "answered"
    FED_BACK = "fed_back"
    CLOSED = "closed"


class LetterRoute(StrEnum):
    STREET = "street"
    DISTRICT = "district"


class LetterUnitKind(StrEnum):
    STREET_COMMITTEE = "street_committee"
    STREET_OFFICE = "street_office"
    WORKING_BODY = "working_body"
    STANDING_COMMITTEE_OFFICE = "standing_committee_office"
    GOVERNMENT_OFFICE = "government_office"
    DEPARTMENT = "department"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


class Rater(StrEnum):
    DEPUTY = "deputy"
    CONSTITUENT = "constituent"


class LetterUnit(_Out):
    kind: LetterUnitKind
    id: RefId = Field(default=None, description="The street's id, or the department's.")
    label: str = ""


class SignOff(_Out):
    signer: str
    by: str = ""
    at: datetime | None = None
    comment: str = ""
    refused: bool = False


class Hop(_Out):
    from_unit: LetterUnit
    to_unit: LetterUnit
    kind: str
    sent_at: datetime | None = None
    received_at: datetime | None = None


class LetterAnswer(_Out):
    by: LetterUnit | None = None
    at: datetime | None = None
    text: str = ""
    attachments: list[str] = Field(default=[], description="SHA-256 of each file.")
    round: int = 1


class LetterRating(_Out):
    rater: Rater
    satisfaction: Satisfaction
    at: datetime | None = None
    round: int = 1


class LetterExtension(_Out):
    requested_at: datetime | None = None
    reason: str = ""
    requested_last_day: str = ""
    decision: str = Field(default="", description="Empty while pending.")
    decided_at: datetime | None = None
    comment: str = ""


class LetterAttachment(_Out):
    sha256: str
    filename: str = ""
    content_type: str = ""
    size: int = 0
    uploaded_by: LetterUnit | None = None
    uploaded_at: datetime | None = None


class LetterDeadline(_Out):
    received_at: datetime | None = None
    last_day: str = Field(description="The last day to answer, Asia/Shanghai.")
    ends_at: datetime | None = None
    extended: bool = False
    holidays_known: bool = True


class Letter(_Out):
    id: int
    opinion_id: int
    tracking_code: str
    street_id: int
    station_id: RefId = None
    community_id: RefId = None
    community_name: str = ""
    category: OpinionCategory
    content: str = Field(description="What was raised; never who raised it.")
    deputy_id: RefId = Field(default=None, description="The deputy who took the opinion.")
    note: str = ""
    stage: LetterStage
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    route: LetterRoute | None = None
    awaits: str = Field(default="", description="What the letter awaits, in words.")
    holder: LetterUnit | None = None
    handler: LetterUnit | None = None
    co_handlers: list[LetterUnit] = []
    sign_offs: list[SignOff] = []
    hops: list[Hop] = []
    answers: list[LetterAnswer] = []
    ratings: list[LetterRating] = []
    extensions: list[LetterExtension] = []
    round: int = 1
    deadline: LetterDeadline | None = Field(
        default=None, description="The legal deadline, from the handling unit's receipt."
    )
    stage_due_at: datetime | None = None
    attachments: list[LetterAttachment] = Field(
        default=[], description="Files uploaded for its answers (one letter only)."
    )


class PublicSignOff(_Out):
    signer: str
    at: datetime | None = None
    refused: bool = False


class PublicLetter(_Out):
    """A referral letter as anyone holding its opinion's tracking code
    follows it: never its content, comments, reasons or who acted."""

    tracking_code: str
    stage: LetterStage
    awaits: str = ""
    route: LetterRoute | None = None
    holder: LetterUnit | None = None
    handler: LetterUnit | None = None
    co_handlers: list[LetterUnit] = []
    hops: list[Hop] = []
    sign_offs: list[PublicSignOff] = []
    answers: list[LetterAnswer] = []
    ratings: list[LetterRating] = []
    deadline: LetterDeadline | None = None
    round: int = 1
    opened_at: datetime | None = None
    updated_at: datetime | None = None


class LetterCounts(_Out):
    received: int = 0
    referred: int = Field(default=0, description="Sent the district's way.")
    answered: int = 0
    in_hand: int = Field(default=0, description="Sent to a handling unit, not answered yet.")
    overdue: int = Field(default=0, description="In hand, past the legal deadline.")
    closed: int = 0


class StreetLetterFigures(_Out):
    street_id: int
    counts: LetterCounts


class HandlerLetterFigures(_Out):
    unit: LetterUnit
    counts: LetterCounts
    median_days_to_answer: float = Field(default=0, description="From receipt, calendar days.")
    p90_days_to_answer: float = 0


class MonthLetterFigures(_Out):
    month: str
    received: int = 0
    answered: int = 0


class StageCount(_Out):
    stage: LetterStage
    letters: int = 0


class SatisfactionCounts(_Out):
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0


class LetterFigures(_Out):
    """Public aggregates of a year's referral letters: no record, no person."""

    year: int
    street_id: RefId = None
    totals: LetterCounts
    by_street: list[StreetLetterFigures] = []
    by_handler: list[HandlerLetterFigures] = []
    by_month: list[MonthLetterFigures] = []
    open_by_stage: list[StageCount] = []
    satisfaction: SatisfactionCounts
    median_days_to_answer: float = 0
    p90_days_to_answer: float = 0


class LetterFiguresQuery(BaseModel):
    year: Annotated[int, Field(ge=2000, le=2100)]
    street_id: IdParam | None = None


LetterComment = Annotated[ProtoText, Field(max_length=500)]
ContentHash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class JurisdictionDecision(_In):
    route: LetterRoute = Field(
        description="street: within the street's powers; district: to the working body."
    )


class LetterSignOff(_In):
    comment: LetterComment = ""


class LetterRefusal(_In):
    reason: Reason


class LetterReview(_In):
    accept: bool
    reason: LetterComment = Field(default="", description="Required when returning it.")


class LetterNoBody(_In):
    pass


class LetterAssignment(_In):
    lead_department_id: Id
    co_handler_ids: list[Id] = Field(default=[], max_length=20)


class LetterAnswerBody(_In):
    text: Annotated[ProtoText, Field(min_length=1, max_length=5000)]
    attachments: list[ContentHash] = Field(default=[], max_length=20)


class ExtensionRequest(_In):
    reason: Reason
    requested_last_day: date = Field(description="At most six months from receipt.")


class ExtensionDecision(_In):
    approve: bool
    comment: LetterComment = Field(default="", description="Required when refusing.")


class LetterFeedBack(_In):
    comment: LetterComment = ""


class LetterRatingBody(_In):
    rater: Rater
    satisfaction: Satisfaction
    reopen: bool = Field(default=False, description="Only when dissatisfied; once per letter.")


class LetterQuery(ListQuery):
    street_id: IdParam | None = None
    stage: LetterStage | None = None


LetterPage = page_model(Letter, "LetterPage")


class TrailCheck(_Out):
    intact: bool
    entries: int
    break_position: int | None = Field(
        default=None, description="The first entry that does not hold (0 = the first)."
    )
    reason: str = ""


# ---------------------------------------------------------------- deputies' suggestions and meetings


class SuggestionCategory(StrEnum):
    URBAN_DEVELOPMENT = "urban_development"
    TRANSPORT = "transport"
    EDUCATION = "education"
    HEALTH = "health"
    ENVIRONMENT = "environment"
    SOCIAL_SECURITY = "social_security"
    ECONOMY = "economy"
    PUBLIC_SAFETY = "public_safety"
    OTHER = "other"


class SuggestionStage(StrEnum):
    REGISTERED = "registered"
    ASSIGNED = "assigned"
    IN_HAND = "in_hand"
    ANSWERED = "answered"
    RATED = "rated"


class MeetingStatus(StrEnum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


SuggestionText = Annotated[ProtoText, Field(min_length=1, max_length=10000)]
ShortNote = Annotated[ProtoText, Field(max_length=500)]
# Lists of deputies or departments: distinct ids.
IdList = Annotated[list[Id], Field(max_length=50)]


class CongressSession(BaseModel):
    code: Code = Field(examples=["8-3"])
    label: Name = Field(examples=["天河区第八届人民代表大会第三次会议"])
    year: Annotated[int, Ge(1954), Le(2200), BeforeValidator(_json_integer)]


class CoHandler(_Out):
    department_id: int
    opinion: str = ""
    opinion_at: datetime | None = None


class Supervision(_Out):
    received_at: datetime | None = None
    last_day: IsoDate = Field(default=None, description="The legal deadline's last day.")
    ends_at: datetime | None = Field(default=None, description="24:00 of the last day, exclusive.")
    holidays_known: bool = False
    overdue_level: int = Field(
        default=0, description="0 in time, 1 overdue, 2 over 30 days, 3 over 90 days."
    )
    answered_late: bool = False
    reminder_days: list[int] = Field(default_factory=list, description="Reminders still to come.")
    next_reminder_at: datetime | None = None


class Suggestion(_Out):
    id: int
    session: CongressSession
    street_id: int
    proposer_id: int
    cosigner_ids: list[int] = Field(default_factory=list)
    title: str
    content: str
    category: SuggestionCategory
    stage: SuggestionStage
    lead_department_id: RefId = None
    co_handlers: list[CoHandler] = Field(default_factory=list)
    supervision: Supervision | None = None
    answer: str = ""
    answered_at: datetime | None = None
    satisfaction: Satisfaction | None = None
    rating_comment: str = ""
    registered_at: datetime | None = None
    updated_at: datetime | None = None


SuggestionPage = page_model(Suggestion, "SuggestionPage")


class SuggestionNew(_In):
    session: CongressSession
    street_id: Id = Field(description="The proposing deputy's street (staff: their own).")
    proposer_id: Id | None = Field(default=None, description="Staff: the deputy; a deputy: omit.")
    cosigner_ids: IdList = Field(default_factory=list, description="Co-signing deputies.")
    title: Name
    content: SuggestionText
    category: SuggestionCategory


class SuggestionQuery(ListQuery):
    session_code: Code | None = None
    street_id: IdParam | None = None
    stage: SuggestionStage | None = None
    deputy_id: IdParam | None = Field(default=None, description="Proposed or co-signed by.")
    department_id: IdParam | None = Field(default=None, description="Led or co-handled by.")


class SuggestionAssign(_In):
    lead_department_id: Id
    co_handler_ids: Annotated[list[Id], Field(max_length=20)] = Field(default_factory=list)


class SuggestionOpinion(_In):
    opinion: Annotated[ProtoText, Field(min_length=1, max_length=5000)]


class SuggestionAnswer(_In):
    answer: SuggestionText


class SuggestionRating(_In):
    satisfaction: Satisfaction
    comment: ShortNote = ""


class SessionSummaryQuery(BaseModel):
    session_code: Code


class SessionSummary(_Out):
    session_code: str
    suggestions: int = 0
    registered: int = 0
    assigned: int = 0
    in_hand: int = 0
    answered: int = 0
    rated: int = 0
    overdue: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    satisfaction_rate: float = Field(
        default=0.0, description="(satisfied + basically satisfied) / rated; 0 with none rated."
    )


class Meeting(_Out):
    id: int
    street_id: int
    deputy_id: int
    department_id: int
    topic: str
    suggestion_id: RefId = None
    status: MeetingStatus
    scheduled_for: datetime | None = None
    place: str = ""
    held_at: datetime | None = None
    attended_by: str = ""
    minutes: str = ""
    cancel_reason: str = ""
    requested_at: datetime | None = None
    updated_at: datetime | None = None


MeetingPage = page_model(Meeting, "MeetingPage")


class MeetingNew(_In):
    street_id: Id = Field(description="The deputy's street, whose committee arranges it.")
    deputy_id: Id | None = Field(default=None, description="Staff: the deputy; a deputy: omit.")
    department_id: Id = Field(description="The agency whose head is asked to come.")
    topic: Annotated[ProtoText, Field(min_length=1, max_length=500)]
    suggestion_id: Id | None = None


class MeetingQuery(ListQuery):
    street_id: IdParam | None = None
    status: MeetingStatus | None = None
    suggestion_id: IdParam | None = None


class MeetingSchedule(_In):
    scheduled_for: AwareDatetime = Field(description="With its time zone.")
    place: Annotated[ProtoText, Field(min_length=1, max_length=500)]


class MeetingRecord(_In):
    held_at: AwareDatetime = Field(description="With its time zone.")
    attended_by: Name = Field(description="The head who came: name and post.")
    minutes: Annotated[ProtoText, Field(min_length=1, max_length=20000)]


class MeetingCancel(_In):
    reason: Annotated[ProtoText, Field(min_length=1, max_length=500)]


# ---------------------------------------------------------------- the report plan and learning materials

PlanYear = Annotated[int, Ge(2000), Le(2200)]


class ReportPlanNew(_In):
    first_year: Annotated[PlanYear, BeforeValidator(_json_integer)] = Field(
        description="The cycle's first year: it holds this year and the two after."
    )


class ReportPlanExtension(_In):
    joined_in: Annotated[PlanYear, BeforeValidator(_json_integer)] | None = Field(
        default=None,
        description="The year the joiners joined in (they report in it or later); "
        "this year (Asia/Shanghai) when absent.",
    )


class ReportPlanQuery(BaseModel):
    street_id: IdParam | None = Field(default=None, description="Street staff: their own.")
    deputy_id: IdParam | None = Field(default=None, description="A deputy: their own.")


class ReportSlot(_Out):
    deputy_id: int
    street_id: int
    level: str = ""
    year: int
    joined: bool = Field(default=False, description="Joined after the cycle was planned.")


class YearLoad(_Out):
    year: int
    deputies: int = 0


class ReportPlan(_Out):
    first_year: int
    slots: list[ReportSlot] = Field(default_factory=list, description="By year, then deputy.")
    loads: list[YearLoad] = Field(default_factory=list, description="Of the slots shown.")
    made_at: datetime | None = None
    updated_at: datetime | None = None
    joined_ids: list[int] = Field(
        default_factory=list, description="An extension: the deputies it placed."
    )
    withdrawn_ids: list[int] = Field(
        default_factory=list, description="An extension: the leavers whose slots it freed."
    )


class MaterialKind(StrEnum):
    DOCUMENT = "document"
    ARTICLE = "article"
    VIDEO = "video"


class MaterialNew(_In):
    title: Name
    kind: MaterialKind
    text: Annotated[ProtoText, Field(max_length=100_000)] = Field(
        default="", description="A document's or an article's text."
    )
    url: Annotated[ProtoText, Field(max_length=2000)] = Field(
        default="", description="An https link: a video's, or a source's."
    )
    street_id: Id | None = Field(
        default=None,
        description="For one street's deputies (a street committee: its own); "
        "absent: the whole district.",
    )


class Material(_Out):
    id: int
    title: str
    kind: MaterialKind
    text: str = ""
    url: str = ""
    street_id: RefId = Field(default=None, description="Null: the whole district.")
    published_at: datetime | None = None
    read_at: datetime | None = Field(default=None, description="A deputy: when they read it.")


MaterialPage = page_model(Material, "MaterialPage")


class MaterialQuery(ListQuery):
    street_id: IdParam | None = None
    unread_only: bool = Field(default=False, description="A deputy: only those not yet read.")


class ReadershipQuery(BaseModel):
    street_id: IdParam | None = Field(default=None, description="Street staff: their own.")


class Reader(_Out):
    deputy_id: int
    name: str = ""
    street_id: int
    read_at: datetime | None = None


class MaterialReadership(_Out):
    material_id: int
    read: list[Reader] = Field(default_factory=list)
    not_read: list[Reader] = Field(default_factory=list)


class FiveOnesItem(StrEnum):
    TRAINING = "training"
    SUGGESTION = "suggestion"
    RESEARCH = "research"
    DUTY_REPORT = "duty_report"
    VISIT = "visit"


class ItemStatus(StrEnum):
    DONE = "done"
    SHORT = "short"
    NOT_DUE = "not_due"


class ScorecardQuery(BaseModel):
    year: PlanYear | None = Field(default=None, description="This year (Asia/Shanghai) if absent.")


class ShortfallQuery(ScorecardQuery):
    street_id: IdParam | None = Field(
        default=None, description="Absent: the district (street staff: their street)."
    )


class ScorecardEvidence(_Out):
    kind: str
    day: str
    ref: str = Field(description="The record it comes from, e.g. `referral/letter/12`.")
    flagged: bool = False


class ScorecardItem(_Out):
    item: FiveOnesItem
    status: ItemStatus
    evidence: list[ScorecardEvidence] = Field(default_factory=list)
    flagged: bool = Field(
        default=False,
        description="The duty report's ballot fell below the share (shown to the district's "
        "offices, the deputy's street staff and the deputy).",
    )


class Scorecard(_Out):
    deputy_id: int
    street_id: int
    year: int
    items: list[ScorecardItem]
    short: list[FiveOnesItem] = Field(default_factory=list, description="What is still short.")
    days_left: int = Field(description="Before the year ends, today included; 0 once ended.")
    open: bool


class ItemShortfall(_Out):
    item: FiveOnesItem
    count: int = 0
    deputy_ids: list[int] = Field(default_factory=list)


class StreetShortfalls(_Out):
    street_id: int
    deputies: int = 0
    complete: int = 0
    items: list[ItemShortfall] = Field(default_factory=list)
    flagged_ids: list[int] = Field(default_factory=list)


class Shortfalls(_Out):
    year: int
    days_left: int = 0
    open: bool = False
    deputies: int = 0
    complete: int = Field(default=0, description="Deputies with nothing short.")
    items: list[ItemShortfall] = Field(default_factory=list)
    flagged_ids: list[int] = Field(default_factory=list)
    streets: list[StreetShortfalls] = Field(default_factory=list)


# ---------------------------------------------------------------- duty reports and ballots
# (the duties service's BallotService; docs/BALLOTS.md)


class ReportMeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"


class BallotStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


class BallotChoice(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


class ReportQuestion(BaseModel):
    question: Annotated[ProtoText, Field(min_length=1, max_length=4000)] = Field(
        description="What a voter asked (no name)."
    )
    answer: Annotated[ProtoText, Field(min_length=1, max_length=4000)] = Field(
        description="The deputy's answer on the spot."
    )


class ReportMeeting(_Out):
    id: int
    deputy_id: int
    street_id: int
    held_on: date
    year: int
    venue: str
    status: ReportMeetingStatus
    questions: list[ReportQuestion] = []
    ballot_id: RefId = Field(default=None, description="Null until its ballot is opened.")
    created_at: datetime | None = None
    updated_at: datetime | None = None


ReportMeetingPage = page_model(ReportMeeting, "ReportMeetingPage")


class ReportMeetingNew(_In):
    deputy_id: Id
    held_on: JsonDate = Field(description="The meeting's day (YYYY-MM-DD).")
    venue: Annotated[ProtoText, Field(min_length=1, max_length=200)]


class ReportMeetingQuery(ListQuery):
    street_id: IdParam | None = None
    deputy_id: IdParam | None = None
    year: Annotated[int, Field(ge=2000, le=2100)] | None = None


class ReportAnswers(_In):
    questions: Annotated[list[ReportQuestion], Field(min_length=1, max_length=200)]


class Ballot(_Out):
    id: int
    meeting_id: int
    deputy_id: int
    street_id: int
    year: int
    status: BallotStatus
    codes_issued: int = 0
    papers_cast: int = Field(default=0, description="Counted at closing: 0 while open.")
    result_shown: bool = Field(
        default=False, description="Closed with at least the minimum turnout."
    )
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    published_at: datetime | None = None


class BallotCodesNew(_In):
    count: Annotated[int, Field(ge=1, le=500), BeforeValidator(_json_integer)] = Field(
        description="Codes for the voters present: 1-500 a request, 2000 a ballot."
    )


class BallotCodes(_Out):
    ballot_id: int
    codes: list[str] = Field(
        description="Printable one-time codes, answered this once: only their hashes are kept."
    )
    codes_issued: int = Field(description="The ballot's codes so far, these included.")


class VoteNew(_In):
    code: Annotated[ProtoText, Field(min_length=1, max_length=40)] = Field(
        description="The ballot code as printed; case, spaces and hyphens do not matter."
    )
    choice: BallotChoice
    comment: Annotated[ProtoText, Field(max_length=2000)] = Field(
        default="",
        description="Optional; goes back to the deputy in writing, apart from the choice.",
    )


class VoteCounted(_Out):
    ballot_id: int


class BallotResult(_Out):
    ballot_id: int
    meeting_id: int
    deputy_id: int
    year: int
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    papers_cast: int = 0
    codes_issued: int = 0
    share: float = Field(
        default=0.0, description="(satisfied + basically satisfied) / papers cast."
    )
    flagged: bool = Field(default=False, description="Below the re-nomination share.")
    reelection_share: float = 0.0
    min_turnout: int = 0
    published: bool = False


class BallotComments(_Out):
    ballot_id: int
    comments: list[str] = Field(description="In a random order, without times.")


# ---------------------------------------------------------------- deputies' activities, research and visits


class ActivityKind(StrEnum):
    TRAINING = "training"
    INSPECTION = "inspection"
    FORUM = "forum"
    RESEARCH_TRIP = "research_trip"
    JOINT_STREET_EVENT = "joint_street_event"


class OrganiserLevel(StrEnum):
    STREET = "street"
    STATION = "station"
    DISTRICT = "district"


class ActivityAttendanceMark(StrEnum):
    ATTENDED = "attended"
    ABSENT_WITH_LEAVE = "absent_with_leave"
    ABSENT = "absent"


class ResearchState(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DECLINED = "declined"
    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"


LongText = Annotated[ProtoText, Field(min_length=1, max_length=20000)]


class Invitation(_Out):
    deputy_id: int
    invited_at: datetime | None = None
    signed_up_at: datetime | None = None
    attendance: ActivityAttendanceMark | None = Field(
        default=None, description="None: not recorded yet."
    )
    attendance_recorded_at: datetime | None = None


class Activity(_Out):
    id: int
    kind: ActivityKind
    title: str
    starts_on: IsoDate = None
    ends_on: IsoDate = None
    place: str
    organiser: str
    level: OrganiserLevel
    street_id: RefId = Field(default=None, description="None for a district activity.")
    station_id: RefId = None
    invitations: list[Invitation] = Field(
        default_factory=list, description="All for staff; a deputy sees their own."
    )
    invited: int = 0
    signed_up: int = 0
    attended: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


ActivityPage = page_model(Activity, "ActivityPage")


class ActivityNew(_In):
    kind: ActivityKind
    title: Name
    starts_on: JsonDate
    ends_on: JsonDate | None = Field(default=None, description="Omit for a one-day activity.")
    place: Name
    organiser: Name = Field(description="The organising body as shown, e.g. 林和街道人大工委.")
    station_id: Id | None = Field(default=None, description="A station's staff: their station.")


class ActivityQuery(ListQuery):
    year: Year | None = None
    street_id: IdParam | None = None
    kind: ActivityKind | None = None
    deputy_id: IdParam | None = Field(default=None, description="Invited deputy.")


class ActivityInvitations(_In):
    deputy_ids: Annotated[list[Id], Field(min_length=1, max_length=500)]


class AttendanceEntry(_In):
    deputy_id: Id
    attendance: ActivityAttendanceMark


class ActivityAttendance(_In):
    entries: Annotated[list[AttendanceEntry], Field(min_length=1, max_length=500)]


class KindFigures(_Out):
    kind: ActivityKind | None = Field(default=None, description="None: all kinds together.")
    activities: int = 0
    invited: int = 0
    person_times: int = Field(default=0, description="Invitations recorded as attended.")
    absent_with_leave: int = 0
    absent: int = 0


class StreetActivityFigures(_Out):
    street_id: int
    by_kind: list[KindFigures] = Field(default_factory=list)
    total: KindFigures


class ActivityFigures(_Out):
    year: int
    by_kind: list[KindFigures] = Field(default_factory=list)
    total: KindFigures
    streets: list[StreetActivityFigures] = Field(default_factory=list)


class ActivityFiguresQuery(BaseModel):
    year: Year
    street_id: IdParam | None = None


class Research(_Out):
    id: int
    deputy_id: int
    street_id: int
    year: int
    title: str
    plan: str
    amount_requested_yuan: int
    state: ResearchState
    budget_line_id: RefId = None
    amount_granted_yuan: int = 0
    decline_reason: str = ""
    report: str = ""
    proposed_at: datetime | None = None
    approved_at: datetime | None = None
    reported_at: datetime | None = None
    acknowledged_at: datetime | None = None
    updated_at: datetime | None = None


ResearchPage = page_model(Research, "ResearchPage")


class ResearchNew(_In):
    title: Name
    plan: LongText
    amount_requested_yuan: Annotated[int, Gt(0), Le(10_000_000), BeforeValidator(_json_integer)]
    year: Year | None = Field(default=None, description="This year when absent.")


class ResearchQuery(ListQuery):
    year: Year | None = None
    street_id: IdParam | None = None
    deputy_id: IdParam | None = None
    state: ResearchState | None = None


class ResearchApproval(_In):
    budget_line_id: Id = Field(description="An operations line of the committee's, for the year.")
    amount_yuan: Annotated[int, Gt(0), Le(10_000_000), BeforeValidator(_json_integer)]


class ResearchDecline(_In):
    reason: Annotated[ProtoText, Field(min_length=1, max_length=2000)]


# A research report's characters at most (the duties service's REPORT_MAX).
RESEARCH_REPORT_MAX = 200_000


class ResearchReport(_In):
    text: Annotated[ProtoText, Field(min_length=1, max_length=RESEARCH_REPORT_MAX)]


class FollowUp(_Out):
    id: int
    text: str
    added_at: datetime | None = None
    answer: str = ""
    answered_at: datetime | None = None


class Visit(_Out):
    id: int
    deputy_id: int
    street_id: int
    visited_on: IsoDate = None
    visitors: list[str] = Field(default_factory=list)
    place: str
    raised: str = ""
    follow_ups: list[FollowUp] = Field(default_factory=list)
    recorded_at: datetime | None = None


VisitPage = page_model(Visit, "VisitPage")


class VisitNew(_In):
    deputy_id: Id
    visited_on: JsonDate
    visitors: Annotated[
        list[Annotated[ProtoText, Field(min_length=1, max_length=50)]],
        Field(min_length=1, max_length=10),
    ] = Field(description="The committee's staff who went.")
    place: Name = Field(description="The deputy's workplace.")
    raised: Annotated[ProtoText, Field(max_length=20000)] = Field(
        default="", description="What the deputy raised."
    )


class VisitQuery(ListQuery):
    year: Year | None = None
    street_id: IdParam | None = None
    deputy_id: IdParam | None = None


class FollowUpNew(_In):
    text: LongText


class FollowUpAnswer(_In):
    answer: LongText


class VisitCoverage(_Out):
    year: int
    street_id: int
    deputies: int = Field(default=0, description="Serving deputies of the street.")
    visited: int = Field(default=0, description="Of them, visited in the year.")
    not_visited_deputy_ids: list[int] = Field(default_factory=list)


class VisitCoverageQuery(BaseModel):
    year: Year
    street_id: IdParam | None = Field(default=None, description="A committee: its own street.")


# ---------------------------------------------------------------- the duty record and ratings
# (the duties service's DutyRecordService: gateway/routes/duty_record.py)

DutyEntryKind = Literal[
    "reception_attended",
    "opinion_taken",
    "letter_followed",
    "suggestion_followed",
    "activity_attended",
    "research_reported",
    "visit_received",
    "report_rated",
]


class DutyRecordQuery(ListQuery):
    year: Annotated[int, Field(ge=2000, le=2100)] | None = Field(
        default=None, description="The year (Asia/Shanghai); the current one when absent."
    )
    kind: DutyEntryKind | None = Field(
        default=None, description="Entries of one kind only (the counts are of every kind)."
    )


class DutyRecordEntry(_Out):
    # A plain string: a kind the service adds later still passes this gateway.
    kind: str = Field(description="One of the `kind` filter's values.")
    on: str = Field(description="ISO date (Asia/Shanghai) it counts for.")
    title: str = ""
    status: str = ""
    completed: bool = False
    detail: str = ""
    source_service: str
    source_type: str
    source_id: int


class DutyKindCount(_Out):
    kind: str
    count: int = 0
    completed: int = 0


class DutyRecord(_Out):
    deputy_id: int
    year: int
    counts: list[DutyKindCount] = Field(default_factory=list)
    entries: list[DutyRecordEntry] = Field(default_factory=list)
    next_page_token: str | None = None
    total_size: int = 0


class DeputyRatingLevel(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


class DeputyRatingNew(_In):
    level: DeputyRatingLevel = Field(description="满意 / 基本满意 / 不满意.")
    comment: ShortNote = ""


class DeputyRatingGiven(_Out):
    id: int
    deputy_id: int
    year: int
    level: DeputyRatingLevel
    comment: str = ""
    rated_at: datetime | None = None


class DeputyRatingsQuery(ListQuery):
    year: Annotated[int, Field(ge=2000, le=2100)] | None = Field(
        default=None, description="One year's counts and comments; every year when absent."
    )


class RatingYearCounts(_Out):
    year: int
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0
    total: int = 0


class PublishedComment(_Out):
    rating_id: int
    year: int
    level: DeputyRatingLevel
    comment: str
    rated_on: str


class DeputyRatings(_Out):
    deputy_id: int
    years: list[RatingYearCounts] = Field(default_factory=list)
    comments: list[PublishedComment] = Field(default_factory=list)
    next_page_token: str | None = None
    total_size: int = 0


class RatingReportNew(_In):
    reason: Annotated[ProtoText, Field(min_length=1, max_length=500)]


class RatingReport(_Out):
    id: int
    rating_id: int
    reason: str
    reported_at: datetime | None = None


class ReportedCommentsQuery(ListQuery):
    deputy_id: IdParam | None = None
    include_moderated: bool = Field(
        default=False, description="Also comments with no report since their last moderation."
    )


class ModeratedComment(_Out):
    rating_id: int
    deputy_id: int
    year: int
    level: DeputyRatingLevel
    comment: str
    hidden: bool = False
    moderation_reason: str = ""
    moderated_at: datetime | None = None
    reports: int = 0
    report_reasons: list[str] = Field(default_factory=list)


ModeratedCommentPage = page_model(ModeratedComment, "ModeratedCommentPage")


class CommentModerationNew(_In):
    action: Literal["hide", "restore"]
    reason: Annotated[ProtoText, Field(min_length=1, max_length=500)]
