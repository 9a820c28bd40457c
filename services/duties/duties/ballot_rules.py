"""The secret ballot's rules without I/O: ballot codes (making, normalising,
hashing), a ballot paper's choice and comment, the tally, the minimum
turnout below which nothing of a ballot is shown, and the share of
"satisfied + basically satisfied" below which a deputy is flagged for
re-nomination.

A ballot code is the voter's only credential: 16 symbols of Crockford's
base32 (80 random bits from `secrets`), printed as four groups of four
(`7QK2-M9XD-4HTB-RW3C`). Typing is forgiving: case, spaces, hyphens and
full-width characters do not matter, and the letters Crockford leaves out
are read as the digits they look like (O as 0, I and L as 1). Only a hash
of the code, bound to its ballot, is stored; 80 random bits make a plain
SHA-256 as safe as a slow hash (nobody can try 2^80 codes).
"""

from __future__ import annotations

import hashlib
import math
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from kit.errors import FailedPrecondition, Violations

# Crockford's base32: no I, L, O or U, so nothing is mistaken for 1, 0 or V.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 4
GROUP_LENGTH = 4
CODE_LENGTH = GROUPS * GROUP_LENGTH
CODE_BITS = CODE_LENGTH * 5
# What a voter may type: a code with separators, at most twice its length.
MAX_TYPED_LENGTH = 2 * CODE_LENGTH + 8
_READ_AS = {"O": "0", "I": "1", "L": "1"}
_SEPARATORS = frozenset(" -_.\t")

# Codes one request may issue, and a ballot's whole: a meeting's hall.
MAX_CODES_PER_ISSUE = 500
MAX_CODES_PER_BALLOT = 2000
MAX_COMMENT_LENGTH = 2000

DEFAULT_MIN_TURNOUT = 10
DEFAULT_REELECTION_SHARE = 0.6


class Choice(StrEnum):
    """满意 / 基本满意 / 不满意."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


# ---------------------------------------------------------------- codes


def new_code() -> str:
    """A fresh printable code, e.g. `7QK2-M9XD-4HTB-RW3C`."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(symbols)


def new_codes(count: int) -> list[str]:
    """`count` distinct fresh codes (a repeat has odds of 2^-80; refused anyway)."""
    codes: dict[str, None] = {}
    while len(codes) < count:
        codes[new_code()] = None
    return list(codes)


def format_code(canonical: str) -> str:
    """The printed form of a canonical code: groups of four joined by '-'."""
    return "-".join(canonical[i : i + GROUP_LENGTH] for i in range(0, len(canonical), GROUP_LENGTH))


def normalise_code(typed: str) -> str | None:
    """The canonical 16 symbols of a typed code, or None when it cannot be one."""
    if not typed or len(typed) > MAX_TYPED_LENGTH:
        return None
    text = unicodedata.normalize("NFKC", typed).upper()
    symbols = []
    for char in text:
        if char in _SEPARATORS:
            continue
        char = _READ_AS.get(char, char)
        if char not in ALPHABET:
            return None
        symbols.append(char)
    if len(symbols) != CODE_LENGTH:
        return None
    return "".join(symbols)


def code_hash(ballot_id: int, canonical: str) -> bytes:
    """What is stored of a code: SHA-256 bound to its ballot, so a code of one
    ballot is unknown to every other."""
    return hashlib.sha256(f"liaison-ballot:{ballot_id}:{canonical}".encode()).digest()


def check_code_count(count: int, already_issued: int) -> None:
    """Refuse an issue of `count` codes that is empty, too big for one
    request, or would take the ballot past its whole."""
    v = Violations()
    if count <= 0:
        v.add("count", "must be at least 1")
    elif count > MAX_CODES_PER_ISSUE:
        v.add("count", f"must be at most {MAX_CODES_PER_ISSUE} in one request")
    elif already_issued + count > MAX_CODES_PER_BALLOT:
        v.add(
            "count",
            f"{already_issued} codes were issued already; a ballot has at most "
            f"{MAX_CODES_PER_BALLOT}",
        )
    v.raise_if_any("cannot issue these codes")


# ---------------------------------------------------------------- a paper


@dataclass(frozen=True)
class Paper:
    """A checked vote: its choice and its comment (empty when none)."""

    choice: Choice
    comment: str


def check_paper(choice: str, comment: str) -> Paper:
    """The vote's choice and comment, or InvalidArgument naming the field."""
    v = Violations()
    v.one_of("choice", choice, [c.value for c in Choice])
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        v.add("comment", f"is longer than {MAX_COMMENT_LENGTH} characters")
    elif "\x00" in text:
        v.add("comment", "holds a NUL character")
    v.raise_if_any("the vote is not valid")
    return Paper(Choice(choice), text)


T = TypeVar("T")


def shuffled(items: Iterable[T]) -> list[T]:
    """`items` in an order drawn from the operating system's randomness."""
    out = list(items)
    secrets.SystemRandom().shuffle(out)
    return out


# ---------------------------------------------------------------- the result


@dataclass(frozen=True)
class Tally:
    satisfied: int = 0
    basically_satisfied: int = 0
    dissatisfied: int = 0

    @classmethod
    def of(cls, choices: Iterable[Choice | str]) -> Tally:
        counts = dict.fromkeys(Choice, 0)
        for choice in choices:
            counts[Choice(choice)] += 1
        return cls(
            counts[Choice.SATISFIED],
            counts[Choice.BASICALLY_SATISFIED],
            counts[Choice.DISSATISFIED],
        )

    @property
    def cast(self) -> int:
        return self.satisfied + self.basically_satisfied + self.dissatisfied

    @property
    def share(self) -> float:
        """The share of "satisfied + basically satisfied" (0 when none voted)."""
        if self.cast == 0:
            return 0.0
        return (self.satisfied + self.basically_satisfied) / self.cast


@dataclass(frozen=True)
class ResultRules:
    """When a ballot's result may be shown and when it flags the deputy.

    min_turnout: papers cast below which nothing of the ballot (counts,
    share, comments) is shown, so that no one's vote can be inferred from a
    handful; reelection_share: a share strictly below it flags the deputy
    for the re-nomination review.
    """

    min_turnout: int = DEFAULT_MIN_TURNOUT
    reelection_share: float = DEFAULT_REELECTION_SHARE

    def __post_init__(self) -> None:
        if self.min_turnout < 1:
            raise ValueError("the minimum turnout must be at least 1")
        if not (0.0 <= self.reelection_share <= 1.0) or math.isnan(self.reelection_share):
            raise ValueError("the re-election share must be between 0 and 1")

    def shown(self, cast: int) -> bool:
        return cast >= self.min_turnout

    def require_shown(self, ballot_id: int, closed: bool, cast: int) -> None:
        """Refuse while the ballot is open, or when too few papers were cast."""
        if not closed:
            raise FailedPrecondition(
                f"ballot {ballot_id} is still open: its result is shown once it is closed"
            )
        if not self.shown(cast):
            raise FailedPrecondition(
                f"ballot {ballot_id} had {cast} papers cast, fewer than the minimum "
                f"turnout of {self.min_turnout}: its result and comments are withheld "
                "so that no one's vote can be inferred"
            )

    def flagged(self, tally: Tally) -> bool:
        """Whether the deputy is flagged for re-nomination (never on a
        withheld result: too few papers say nothing either way)."""
        return self.shown(tally.cast) and tally.share < self.reelection_share
