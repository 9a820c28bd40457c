"""Conversations (互动交流) as pure rules: who takes part in a thread, who
reads and writes it, who moderates what a constituent writes, what each
reader sees of a constituent, and what an opinion made of a thread says.

Three kinds of thread:
- `constituent`: a signed-in constituent with the deputies of the liaison
  station they choose. Participants: the constituent's account
  (`user:<subject>`), the station's serving deputies (`deputy:<id>`, as the
  registry lists them when the thread starts) and the staff of the
  station's street (`role:station_staff@street:<id>`: station staff tokens
  name a street, not a station). Each message the constituent writes is
  held until the station staff or the street committee of that street
  approves it or rejects it with a reason; deputies see approved messages
  only, and the thread only once one of its messages is approved. What the
  staff and deputies write in it is published at once.
- `deputies`: among deputies; every participant a `deputy:<id>`.
- `working`: between deputies, the station staff and street committee of a
  street, and the standing committee office.

Reading and writing: the participants (any of the caller's mailboxes is a
participant address), and for a constituent thread the street committee of
its street (its moderator, not a participant: it gets the held messages,
not every message). Anyone else is told the thread does not exist.

Personal data (decided here): a constituent's name (their token's `name`)
is shown in full to the constituent and to the staff of the thread's
street, who answer them and record the opinion; deputies and other
participants see it masked (the first character and asterisks, "张**").
A phone left for the opinion is kept for that alone: no view shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kit.auth import Principal, Role
from kit.errors import FailedPrecondition, PermissionDenied, Violations
from notifications import addresses

SUBJECT_MAX = 200
TEXT_MAX = 2000
REASON_MAX = 500
PHONE_MAX = 40
PARTICIPANTS_MAX = 50
OPINION_MAX = 2000  # reception's limit on an opinion's text


class Kind(StrEnum):
    CONSTITUENT = "constituent"
    DEPUTIES = "deputies"
    WORKING = "working"


class State(StrEnum):
    HELD = "held"
    PUBLISHED = "published"
    REJECTED = "rejected"


# Who may take part in a working thread, by address kind: deputies, the
# staff of a street's stations, a street committee, the standing committee office.
WORKING_ROLES = frozenset(
    {Role.STATION_STAFF, Role.STREET_COMMITTEE, Role.STANDING_COMMITTEE_OFFICE}
)
ROLE_LABELS = {
    Role.STATION_STAFF: "联络站工作人员",
    Role.STREET_COMMITTEE: "街道人大工委",
    Role.STANDING_COMMITTEE_OFFICE: "区人大常委会办公室",
    Role.ADMIN: "平台管理员",
}


@dataclass(frozen=True)
class Thread:
    """What the rules need of a thread."""

    kind: Kind
    participants: tuple[str, ...]
    street_id: int | None = None
    constituent_sub: str = ""
    published: bool = True  # a constituent thread: one of its messages approved


def station_staff(street_id: int) -> str:
    return addresses.office(Role.STATION_STAFF, street_id=street_id)


def street_committee(street_id: int) -> str:
    return addresses.office(Role.STREET_COMMITTEE, street_id=street_id)


def moderators(street_id: int) -> tuple[str, ...]:
    """The mailboxes that moderate a constituent thread of `street_id`."""
    return (station_staff(street_id), street_committee(street_id))


def constituent_participants(
    sub: str, street_id: int, deputy_ids: Iterable[int]
) -> tuple[str, ...]:
    """A constituent thread's participants: the constituent, the station's
    deputies and the staff of its street."""
    return (
        addresses.user(sub),
        *(addresses.deputy(d) for d in sorted(set(deputy_ids))),
        station_staff(street_id),
    )


def own_address(principal: Principal) -> str:
    """The mailbox a message the caller writes comes from: a deputy's own,
    an office's shared one, a constituent's account."""
    if principal.role is Role.DEPUTY and principal.deputy_id:
        return addresses.deputy(principal.deputy_id)
    if principal.role in addresses.OFFICE_ROLES:
        return addresses.office(
            principal.role, street_id=principal.street_id, unit_id=principal.unit_id
        )
    return addresses.user(principal.sub)


def check_start(
    principal: Principal,
    kind: str,
    subject: str,
    text: str,
    *,
    station_id: int,
    participants: Sequence[str],
    phone: str,
) -> tuple[str, ...]:
    """Every problem of a new thread at once, then whether the caller may
    start it; the other participants' parsed addresses (deputies, working)."""
    v = Violations()
    if kind not in {k.value for k in Kind}:
        v.add("kind", "must be one of: constituent, deputies, working")
    check_text(v, "subject", subject, SUBJECT_MAX)
    check_text(v, "text", text, TEXT_MAX)
    others: list[str] = []
    if kind == Kind.CONSTITUENT:
        if station_id <= 0:
            v.add("station_id", "is required: the station whose deputies you write to")
        if participants:
            v.add("participants", "are the station's deputies and staff: name the station only")
        if len(phone) > PHONE_MAX:
            v.add("phone", f"is at most {PHONE_MAX} characters")
        elif phone and not all(c.isdigit() or c in "+- ()" for c in phone):
            v.add("phone", "may hold digits, spaces, +, - and brackets only")
    elif kind in (Kind.DEPUTIES, Kind.WORKING):
        if station_id:
            v.add("station_id", "is only for a constituent's thread")
        if phone:
            v.add("phone", "is only for a constituent's thread")
        if not participants:
            v.add("participants", "name at least one other participant")
        if len(participants) > PARTICIPANTS_MAX:
            v.add("participants", f"are at most {PARTICIPANTS_MAX}")
        for i, text_address in enumerate(participants):
            problem = participant_problem(Kind(kind), text_address)
            if problem:
                v.add(f"participants[{i}]", problem)
            else:
                others.append(str(addresses.parse(text_address)))
    v.raise_if_any("the conversation cannot be started")
    require_starter(principal, Kind(kind))
    mine = own_address(principal)
    return tuple(dict.fromkeys(a for a in others if a != mine))


def participant_problem(kind: Kind, text: str) -> str:
    """Why `text` cannot take part in a `kind` thread ("" when it can)."""
    try:
        parsed = addresses.parse(text)
    except ValueError as error:
        return str(error)
    if parsed.kind == "deputy":
        return ""
    if kind is Kind.DEPUTIES:
        return "a deputies' thread is among deputies only (deputy:<id>)"
    if parsed.kind == "role" and Role(parsed.value) in WORKING_ROLES:
        if Role(parsed.value) is Role.STANDING_COMMITTEE_OFFICE:
            return (
                ""
                if parsed.street_id is None and parsed.unit_id is None
                else ("the standing committee office is role:standing_committee_office")
            )
        return (
            "" if parsed.street_id is not None else f"name the street: {parsed.value}@street:<id>"
        )
    return (
        "a working thread is between deputies (deputy:<id>), station staff and street "
        "committees (role:station_staff@street:<id>, role:street_committee@street:<id>) "
        "and the standing committee office (role:standing_committee_office)"
    )


def require_starter(principal: Principal, kind: Kind) -> None:
    if kind is Kind.CONSTITUENT and principal.role is not Role.CONSTITUENT:
        raise PermissionDenied(
            f"role {principal.role.value} may not start a constituent's thread: a signed-in "
            "constituent does (staff answer in it)"
        )
    if kind is Kind.DEPUTIES and (principal.role is not Role.DEPUTY or not principal.deputy_id):
        raise PermissionDenied(
            f"role {principal.role.value} may not start a deputies' thread: a deputy does"
        )
    if kind is Kind.WORKING:
        may = (principal.role is Role.DEPUTY and principal.deputy_id) or (
            principal.role in WORKING_ROLES
        )
        if not may:
            raise PermissionDenied(
                f"role {principal.role.value} may not start a working thread: deputies, "
                "station staff, street committees and the standing committee office do"
            )
    if principal.kind != "user":
        raise PermissionDenied("a conversation is started by a signed-in person")
    if kind is Kind.CONSTITUENT and not addresses.is_valid(f"user:{principal.sub}"):
        raise FailedPrecondition(
            "this account's subject cannot be written to (user:<subject>): sign in with an "
            "account of the platform's identity provider"
        )


def check_text(v: Violations, field: str, value: str, limit: int) -> None:
    if not value.strip():
        v.add(field, "is required")
    elif len(value) > limit:
        v.add(field, f"is at most {limit} characters")


def is_participant(principal: Principal, thread: Thread) -> bool:
    mine = set(addresses.addresses_of(principal))
    return any(a in mine for a in thread.participants)


def may_moderate(principal: Principal, thread: Thread) -> bool:
    """The station staff and the street committee of a constituent thread's street."""
    return (
        thread.kind is Kind.CONSTITUENT
        and principal.role in (Role.STATION_STAFF, Role.STREET_COMMITTEE)
        and thread.street_id is not None
        and principal.street_id == thread.street_id
    )


def may_read(principal: Principal, thread: Thread) -> bool:
    if may_moderate(principal, thread):
        return True
    if not is_participant(principal, thread):
        return False
    # Deputies see a constituent's thread once something in it was approved.
    if thread.kind is Kind.CONSTITUENT and principal.role is Role.DEPUTY:
        return thread.published
    return True


def may_turn_into_opinion(principal: Principal, thread: Thread) -> bool:
    """The staff who hold the conversation: its moderators (the district's
    offices are not in a constituent's thread and do not read it)."""
    return may_moderate(principal, thread)


def require_turn_into_opinion(principal: Principal, thread: Thread) -> None:
    if thread.kind is not Kind.CONSTITUENT:
        raise FailedPrecondition(
            f"a {thread.kind.value} thread has no constituent's opinion: only a "
            "constituent's thread is turned into one"
        )
    if not may_turn_into_opinion(principal, thread):
        raise PermissionDenied(
            f"role {principal.role.value} may not turn this thread into an opinion: the "
            f"station staff and street committee of street {thread.street_id} do"
        )


def is_constituent(thread: Thread, author_address: str) -> bool:
    return bool(thread.constituent_sub) and author_address == addresses.user(thread.constituent_sub)


def state_of_new_message(thread: Thread, author_address: str) -> State:
    """A constituent's message waits for a moderator; everyone else's is published."""
    return State.HELD if is_constituent(thread, author_address) else State.PUBLISHED


def may_see_message(principal: Principal, thread: Thread, state: str, author: str) -> bool:
    """Published messages for every reader; held and rejected ones for their
    author and the moderators."""
    if state == State.PUBLISHED:
        return True
    return may_moderate(principal, thread) or author in addresses.addresses_of(principal)


def sees_constituent_name(principal: Principal, thread: Thread) -> bool:
    """The constituent themself and the staff of the thread's street."""
    if thread.constituent_sub and principal.sub == thread.constituent_sub:
        return principal.role is Role.CONSTITUENT
    return may_moderate(principal, thread)


def mask_name(name: str) -> str:
    """The first character and an asterisk for each other ("张三丰" -> "张**")."""
    name = name.strip()
    if not name:
        return "选民"
    return name[0] + "*" * max(len(name) - 1, 1)


def constituent_label(name: str, *, full: bool) -> str:
    return f"选民 {name.strip() or '（未署名）'}" if full else f"选民 {mask_name(name)}"


def office_label(principal: Principal) -> str:
    base = ROLE_LABELS.get(principal.role, principal.role.value)
    return f"{base}（{principal.name}）" if principal.name else base


def require_moderation(principal: Principal, thread: Thread, state: str) -> None:
    if not may_moderate(principal, thread):
        raise PermissionDenied(
            f"role {principal.role.value} may not moderate this message: the station staff "
            f"and street committee of street {thread.street_id} do"
        )
    if state != State.HELD:
        raise FailedPrecondition(f"the message is {state}: only a held one is moderated")


def check_decision(decision: str, reason: str) -> None:
    v = Violations()
    if decision not in ("approve", "reject"):
        v.add("decision", "must be approve or reject")
    if decision == "reject":
        check_text(v, "reason", reason, REASON_MAX)
    elif reason and len(reason) > REASON_MAX:
        v.add("reason", f"is at most {REASON_MAX} characters")
    v.raise_if_any("the moderation is not valid")


def reference(conversation_id: int) -> str:
    """The thread's reference in its opinion's text: how a retry finds an
    opinion recorded before a crash. No personal data."""
    return f"〔互动交流 C{conversation_id}〕"


def opinion_content(
    conversation_id: int, subject: str, texts: Sequence[str], content: str = ""
) -> str:
    """The opinion's text: `content` if given, else the subject and the
    constituent's published messages; the thread's reference at its end,
    within reception's limit."""
    tail = "\n" + reference(conversation_id)
    body = content.strip() or "\n".join([subject.strip(), *(t.strip() for t in texts)])
    room = OPINION_MAX - len(tail)
    if len(body) > room:
        body = body[: room - 1] + "…"
    return body + tail
