"""Who is calling: bearer tokens, the platform's roles, and scope checks.

Every service verifies the caller itself (authorisation lives where the
data lives); the gateway forwards the end user's token in the gRPC
`authorization` metadata, and departments' own systems send a
client-credentials token from the same issuer. `kit.grpc_server` verifies
the token of every call with a `TokenVerifier` and makes the `Principal`
available to the handler through `current_principal()`; the use cases then
check role and street scope for the record and every record it references.

Two ways to verify, never both:
- production and any real deployment: RS256/ES256 tokens from the identity
  provider, checked against its JWKS (https only in production), issuer and
  audience, with 60 s of clock-skew leeway in production;
- a local run or tests: the development issuer, HS256 with a shared secret,
  only when LIAISON_DEV_ISSUER is set, never in production and never
  together with a JWKS URL. Its secret is random per run unless set (the
  local run hands one secret to all its processes).
"""

from __future__ import annotations

import contextvars
import dataclasses
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt
from jwt.types import Options

from kit.errors import PermissionDenied, SettingsError, Unauthenticated


class Role(StrEnum):
    CONSTITUENT = "constituent"
    DEPUTY = "deputy"
    STATION_STAFF = "station_staff"
    STREET_COMMITTEE = "street_committee"
    STANDING_COMMITTEE_OFFICE = "standing_committee_office"
    WORKING_BODY = "working_body"
    GOVERNMENT_OFFICE = "government_office"
    DEPARTMENT = "department"
    ADMIN = "admin"
    # The platform's own processes (a worker's sweep, the demo loader). Never
    # taken from a token: only code inside a service acts as the system.
    SYSTEM = "system"


# Roles whose tokens carry the street they work for; they act only there.
STREET_SCOPED_ROLES = frozenset({Role.STREET_COMMITTEE, Role.STATION_STAFF})
# Roles that act for the whole district.
DISTRICT_ROLES = frozenset({Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE, Role.SYSTEM})
# Every role that works for the congress or the government: all but the public.
STAFF_ROLES = frozenset(Role) - {Role.CONSTITUENT}
# The positions a street committee member's token may name (the registry's
# position roles): the sign-offs of a referral letter need them.
STREET_POSITIONS = frozenset({"street_director", "street_full_time_deputy_director"})

ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"]
DEV_ALGORITHM = "HS256"
DEV_TOKEN_TTL_SECONDS = 12 * 3600
PRODUCTION_LEEWAY_SECONDS = 60


@dataclass(frozen=True)
class Principal:
    """The verified caller: a person, a department's system, or the platform."""

    sub: str
    role: Role
    street_id: int | None = None
    unit_id: int | None = None
    name: str = ""
    # A deputy's own id in the registry (the `deputy_id` claim of a deputy's
    # token): what a deputy may see of a session they receive at.
    deputy_id: int | None = None
    # "user" for a person's token, "client" for a system's client-credentials
    # token, "system" for the platform's own processes.
    kind: str = "user"
    # A street committee member's position (the `position` claim, one of
    # STREET_POSITIONS): the director and the full-time deputy director sign
    # referral letters off.
    position: str | None = None

    @classmethod
    def system(cls, process: str) -> Principal:
        return cls(sub=f"system:{process}", role=Role.SYSTEM, name=process, kind="system")

    @property
    def is_district(self) -> bool:
        return self.role in DISTRICT_ROLES

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def acts_for_street(self, street_id: int | None) -> bool:
        """Whether this caller may act on a record of `street_id` (None:
        district level, outside every street)."""
        if self.is_district:
            return True
        return (
            self.role in STREET_SCOPED_ROLES
            and street_id is not None
            and street_id == self.street_id
        )


# ---------------------------------------------------------------- checks


def require(principal: Principal | None, *roles: Role, doing: str) -> Principal:
    """The caller when it has one of `roles`; UNAUTHENTICATED or PERMISSION_DENIED."""
    if principal is None:
        raise Unauthenticated(f"a bearer token is required to {doing}")
    if principal.role not in roles:
        raise PermissionDenied(f"role {principal.role.value} may not {doing}")
    return principal


def require_streets(principal: Principal, streets: Iterable[int | None], doing: str) -> None:
    """Refuse unless the caller may act in every one of `streets` (None stands
    for a district-level record)."""
    if principal.is_district:
        return
    outside = sorted({s or 0 for s in streets if not principal.acts_for_street(s)})
    if outside:
        where = ", ".join("district level" if s == 0 else f"street {s}" for s in outside)
        mine = f"street {principal.street_id}" if principal.street_id else "no street"
        raise PermissionDenied(
            f"a {principal.role.value} of {mine} may not {doing} ({where} is outside it)"
        )


# ---------------------------------------------------------------- the caller


_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "liaison_principal", default=None
)


def current_principal() -> Principal | None:
    """The verified caller of the gRPC call being handled; None when anonymous."""
    return _current.get()


@contextmanager
def acting_as(principal: Principal | None) -> Iterator[None]:
    token = _current.set(principal)
    try:
        yield
    finally:
        _current.reset(token)


# ---------------------------------------------------------------- settings


class AuthConfigurationError(SettingsError):
    """The environment does not describe a safe way to verify tokens."""


@dataclass(frozen=True)
class AuthSettings:
    env: str = "development"
    issuer: str = "liaison-dev"
    audience: str = "liaison"
    jwks_url: str = ""
    dev_issuer: bool = False
    dev_secret: str = field(default="", repr=False)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def leeway(self) -> int:
        return PRODUCTION_LEEWAY_SECONDS if self.is_production else 5

    def validate(self) -> None:
        if self.dev_issuer and self.is_production:
            raise AuthConfigurationError(
                "LIAISON_DEV_ISSUER must not be set in production: the development "
                "issuer signs tokens with a shared secret"
            )
        if self.dev_issuer and self.jwks_url:
            raise AuthConfigurationError(
                "set either LIAISON_DEV_ISSUER or LIAISON_JWT_JWKS_URL, not both"
            )
        if self.is_production:
            if not self.jwks_url:
                raise AuthConfigurationError("production needs LIAISON_JWT_JWKS_URL")
            if not self.jwks_url.startswith("https://"):
                raise AuthConfigurationError("LIAISON_JWT_JWKS_URL must be https in production")
            if not self.issuer or self.issuer == "liaison-dev":
                raise AuthConfigurationError("production needs LIAISON_JWT_ISSUER")

    def with_secret(self) -> AuthSettings:
        """These settings with a random development secret when none is set."""
        if not self.dev_issuer or self.dev_secret:
            return self
        return dataclasses.replace(self, dev_secret=secrets.token_urlsafe(32))


# ---------------------------------------------------------------- verifying


class TokenVerifier:
    """Verifies bearer tokens as the settings say; shared by the gateway and
    every service."""

    def __init__(self, settings: AuthSettings) -> None:
        settings.validate()
        self.settings = settings.with_secret()
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
            if settings.jwks_url
            else None
        )

    @property
    def needs_network(self) -> bool:
        """Whether verifying may fetch keys (blocking): async callers use a thread."""
        return self._jwks is not None

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("malformed token") from exc
        algorithm = header.get("alg")
        options: Options = {"require": ["exp", "sub", "iss", "aud"]}
        s = self.settings
        try:
            if algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ASYMMETRIC_ALGORITHMS
            elif algorithm == DEV_ALGORITHM and s.dev_issuer:
                key, algorithms = s.dev_secret, [DEV_ALGORITHM]
            else:
                raise Unauthenticated("token algorithm not accepted")
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway,
                options=options,
            )
        except jwt.PyJWKClientError as exc:
            raise Unauthenticated("token signing key not found") from exc
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid token") from exc
        return principal_from_claims(claims)


def _optional_id(claims: dict[str, Any], name: str) -> int | None:
    raw = claims.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise Unauthenticated(f"token {name} is not an integer") from exc
    if not 0 < value < 2**63:
        raise Unauthenticated(f"token {name} is out of range")
    return value


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(str(claims.get("role", "")))
    except ValueError as exc:
        raise Unauthenticated("token has no known role") from exc
    if role is Role.SYSTEM:
        raise Unauthenticated("token has no known role")
    street_id = _optional_id(claims, "street_id")
    if role in STREET_SCOPED_ROLES and street_id is None:
        raise Unauthenticated(f"a {role.value} token needs a street_id")
    deputy_id = _optional_id(claims, "deputy_id")
    if deputy_id is not None and role is not Role.DEPUTY:
        raise Unauthenticated("only a deputy's token names a deputy_id")
    position = claims.get("position") or None
    if position is not None and (
        role is not Role.STREET_COMMITTEE or position not in STREET_POSITIONS
    ):
        raise Unauthenticated(
            "only a street committee member's token names a position, one of: "
            + ", ".join(sorted(STREET_POSITIONS))
        )
    # Client-credentials tokens (RFC 9068) name the client and have no person.
    kind = (
        "client" if claims.get("client_id") and claims.get("client_id") == claims["sub"] else "user"
    )
    return Principal(
        sub=str(claims["sub"]),
        role=role,
        street_id=street_id,
        unit_id=_optional_id(claims, "unit_id"),
        name=str(claims.get("name", "")),
        deputy_id=deputy_id,
        kind=kind,
        position=str(position) if position is not None else None,
    )


def bearer_token(header: str | None) -> str | None:
    """The token of an `authorization` value; None when absent."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("expected a Bearer token")
    return token.strip()


# ---------------------------------------------------------------- the dev issuer


@dataclass(frozen=True)
class DemoAccount:
    account: str
    role: Role
    name: str
    street_id: int | None = None
    unit_id: int | None = None
    deputy_id: int | None = None
    client: bool = False  # a department system's client credentials
    position: str | None = None  # a street committee member's (STREET_POSITIONS)

    @property
    def sub(self) -> str:
        return f"demo:{self.account}"


DEMO_DEPARTMENT_ID = 52

# One demo account per role (street-scoped ones belong to street 1), and a
# department's own system calling with client credentials.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("constituent", Role.CONSTITUENT, "演示选民"),
    # The demo district's first deputy (registry id 1).
    DemoAccount("deputy", Role.DEPUTY, "演示代表", deputy_id=1),
    DemoAccount("station-staff", Role.STATION_STAFF, "演示联络站工作人员", street_id=1),
    DemoAccount("street-committee", Role.STREET_COMMITTEE, "演示街道工委", street_id=1),
    # The street committee's full-time deputy director and director, who sign
    # referral letters off.
    DemoAccount(
        "street-deputy-director",
        Role.STREET_COMMITTEE,
        "演示街道工委专职副主任",
        street_id=1,
        position="street_full_time_deputy_director",
    ),
    DemoAccount(
        "street-director",
        Role.STREET_COMMITTEE,
        "演示街道工委主任",
        street_id=1,
        position="street_director",
    ),
    DemoAccount("standing-committee-office", Role.STANDING_COMMITTEE_OFFICE, "演示常委会办公室"),
    DemoAccount("working-body", Role.WORKING_BODY, "演示工作机构"),
    DemoAccount("government-office", Role.GOVERNMENT_OFFICE, "演示区政府办公室"),
    # The registry demo's first department (unit 52, the housing bureau), and
    # its own system calling with client credentials.
    DemoAccount("department", Role.DEPARTMENT, "演示职能部门", unit_id=DEMO_DEPARTMENT_ID),
    DemoAccount(
        "department-system",
        Role.DEPARTMENT,
        "演示职能部门系统",
        unit_id=DEMO_DEPARTMENT_ID,
        client=True,
    ),
    # A street office (街道办事处) signs in with the department role and its street.
    DemoAccount("street-office", Role.DEPARTMENT, "演示街道办事处", street_id=1),
    DemoAccount("admin", Role.ADMIN, "演示管理员"),
)


class DevIssuer:
    """Signs development tokens for the demo accounts (or any claims, in tests)."""

    def __init__(self, settings: AuthSettings) -> None:
        if not settings.dev_issuer or settings.is_production or not settings.dev_secret:
            raise AuthConfigurationError("the development issuer is not enabled")
        self.settings = settings

    def issue(self, account: DemoAccount, ttl: int = DEV_TOKEN_TTL_SECONDS) -> str:
        claims: dict[str, Any] = {"sub": account.sub, "role": account.role.value}
        if account.name:
            claims["name"] = account.name
        if account.street_id is not None:
            claims["street_id"] = account.street_id
        if account.unit_id is not None:
            claims["unit_id"] = account.unit_id
        if account.deputy_id is not None:
            claims["deputy_id"] = account.deputy_id
        if account.position is not None:
            claims["position"] = account.position
        if account.client:
            claims["client_id"] = account.sub
        return self.sign(claims, ttl)

    def sign(self, claims: dict[str, Any], ttl: int = DEV_TOKEN_TTL_SECONDS) -> str:
        now = int(time.time())
        full = {
            "iss": self.settings.issuer,
            "aud": self.settings.audience,
            "iat": now,
            "exp": now + ttl,
            **claims,
        }
        return jwt.encode(full, self.settings.dev_secret, algorithm=DEV_ALGORITHM)
