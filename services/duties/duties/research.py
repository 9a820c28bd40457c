"""Self-chosen research (自主选题调研) as pure rules: a deputy proposes a
topic, their street committee funds it from the street's budget line, the
deputy reports to the standing committee, whose office acknowledges it.

    PROPOSED --approve (the deputy's street committee: a grant against a
             budget line of its own)--> APPROVED
    PROPOSED --decline (the same committee, with a reason)--> DECLINED
    APPROVED --report (the proposing deputy: the report's text)--> REPORTED
    REPORTED --acknowledge (the standing committee office)--> ACKNOWLEDGED

The budget: a line's remaining amount is its amount in the registry minus
the grants this service has made against it; a grant above it is refused
(FAILED_PRECONDITION naming the remaining amount). The service locks the
line's row while it adds the grant, so two grants cannot overdraw it.

Decisions the seed leaves open, made here:
- a grant is at most the amount requested (a committee may give less);
- the line is the deputy's street committee's (its unit's street), active, of the research's
  year, and an operations line (the registry's personnel lines pay staff);
- a declined topic stays declined (the deputy proposes again).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kit.auth import Principal, Role
from kit.errors import FailedPrecondition, PermissionDenied, Violations, invalid

TITLE_MAX = 200
PLAN_MAX = 20_000
REPORT_MAX = 200_000
REASON_MAX = 2_000
# Far above any street's yearly operations line; a typo of extra zeros stops here.
REQUEST_MAX_YUAN = 10_000_000


class ResearchState(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DECLINED = "declined"
    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"


@dataclass(frozen=True)
class Proposal:
    title: str
    plan: str
    amount_requested_yuan: int
    year: int


def check_proposal(
    principal: Principal, deputy_id: int, proposal: Proposal, this_year: int
) -> None:
    """A deputy proposes for themself; every problem of the proposal at once."""
    if principal.role != Role.DEPUTY or principal.deputy_id != deputy_id:
        raise PermissionDenied("a research topic is proposed by the deputy, for themself")
    problems = Violations()
    if not proposal.title.strip():
        problems.add("title", "is required")
    elif len(proposal.title) > TITLE_MAX:
        problems.add("title", f"is longer than {TITLE_MAX} characters")
    if not proposal.plan.strip():
        problems.add("plan", "is required")
    elif len(proposal.plan) > PLAN_MAX:
        problems.add("plan", f"is longer than {PLAN_MAX} characters")
    if proposal.amount_requested_yuan <= 0:
        problems.add("amount_requested_yuan", "must be a positive number of yuan")
    elif proposal.amount_requested_yuan > REQUEST_MAX_YUAN:
        problems.add("amount_requested_yuan", f"is above {REQUEST_MAX_YUAN} yuan")
    if proposal.year not in (this_year, this_year + 1):
        problems.add("year", f"must be {this_year} or {this_year + 1}")
    problems.raise_if_any("the research topic cannot be proposed")


@dataclass(frozen=True)
class BudgetLine:
    """What a grant needs of the registry's budget line."""

    id: int
    unit_id: int
    street_id: int | None  # the street of the line's unit (a street committee's)
    year: int
    operations: bool
    active: bool
    amount_yuan: int


def remaining_yuan(line: BudgetLine, granted_yuan: int) -> int:
    """What is left of the line after the grants made against it (never
    below zero: a line the registry lowered below its grants has nothing left)."""
    return max(line.amount_yuan - granted_yuan, 0)


def require_street_committee(principal: Principal, street_id: int, doing: str) -> None:
    if principal.role != Role.STREET_COMMITTEE or principal.street_id != street_id:
        raise PermissionDenied(
            f"role {principal.role.value} may not {doing}: the deputy's street committee "
            f"(street {street_id}) does"
        )


def require_state(state: str, wanted: ResearchState, doing: str) -> None:
    if state != wanted.value:
        raise FailedPrecondition(
            f"the research is {state}: only a {wanted.value} one can be {doing}"
        )


def check_grant(
    principal: Principal,
    *,
    street_id: int,
    state: str,
    year: int,
    amount_requested_yuan: int,
    amount_yuan: int,
    line: BudgetLine,
    granted_yuan: int,
) -> int:
    """A grant the committee may make now; the line's remaining amount after it."""
    require_street_committee(principal, street_id, "approve this research")
    require_state(state, ResearchState.PROPOSED, "approved")
    if amount_yuan <= 0:
        raise invalid("amount_yuan", "must be a positive number of yuan")
    if amount_yuan > amount_requested_yuan:
        raise invalid(
            "amount_yuan",
            f"{amount_yuan} yuan is more than the {amount_requested_yuan} yuan requested",
        )
    if line.street_id != street_id:
        raise PermissionDenied(
            f"budget line {line.id} is unit {line.unit_id}'s, not street {street_id}'s "
            "committee's: a grant is drawn on the deputy's street's own line"
        )
    problems = Violations()
    if not line.active:
        problems.add("budget_line_id", f"budget line {line.id} is deactivated")
    if line.year != year:
        problems.add("budget_line_id", f"budget line {line.id} is for {line.year}, not {year}")
    if not line.operations:
        problems.add("budget_line_id", f"budget line {line.id} is a personnel line")
    problems.raise_if_any("the grant cannot be drawn on this budget line")
    left = remaining_yuan(line, granted_yuan)
    if amount_yuan > left:
        raise FailedPrecondition(
            f"the grant of {amount_yuan} yuan exceeds budget line {line.id}'s remaining "
            f"{left} yuan",
        )
    return left - amount_yuan


def check_decline(principal: Principal, street_id: int, state: str, reason: str) -> None:
    require_street_committee(principal, street_id, "decline this research")
    require_state(state, ResearchState.PROPOSED, "declined")
    if not reason.strip():
        raise invalid("reason", "is required")
    if len(reason) > REASON_MAX:
        raise invalid("reason", f"is longer than {REASON_MAX} characters")


def check_report(principal: Principal, deputy_id: int, state: str, text: str) -> None:
    if principal.role != Role.DEPUTY or principal.deputy_id != deputy_id:
        raise PermissionDenied("the report is submitted by the deputy who proposed the topic")
    require_state(state, ResearchState.APPROVED, "reported")
    if not text.strip():
        raise invalid("text", "is required")
    if len(text) > REPORT_MAX:
        raise invalid("text", f"is longer than {REPORT_MAX} characters")


def check_acknowledge(principal: Principal, state: str) -> None:
    if principal.role != Role.STANDING_COMMITTEE_OFFICE:
        raise PermissionDenied(
            f"role {principal.role.value} may not acknowledge a research report: "
            "the standing committee office does"
        )
    require_state(state, ResearchState.REPORTED, "acknowledged")


def may_read(principal: Principal, deputy_id: int, street_id: int) -> bool:
    """The deputy, their street's committee and the district offices."""
    if principal.role in (Role.STANDING_COMMITTEE_OFFICE, Role.ADMIN, Role.SYSTEM):
        return True
    if principal.role == Role.STREET_COMMITTEE:
        return principal.street_id == street_id
    return principal.role == Role.DEPUTY and principal.deputy_id == deputy_id
