"""Bearer tokens (JWT), the platform's roles, and who may do what.

Development (LIAISON_ENV != production) signs and verifies HS256 tokens with
LIAISON_JWT_DEV_SECRET and offers demo accounts; production verifies RS256 /
ES256 tokens against the identity provider's JWKS, issuer and audience.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request
from jwt.types import Options
from starlette.concurrency import run_in_threadpool

from gateway.config import GatewaySettings
from gateway.problems import ProblemError


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


STREET_SCOPED_ROLES = frozenset({Role.STREET_COMMITTEE, Role.STATION_STAFF})
# Roles that may write anywhere in the registry.
DISTRICT_WRITERS = frozenset({Role.ADMIN, Role.STANDING_COMMITTEE_OFFICE})
# Roles that see internal records (positions, budgets); constituents do not.
STAFF_READERS = frozenset(Role) - {Role.CONSTITUENT}

ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"]
DEV_ALGORITHM = "HS256"
DEV_TOKEN_TTL_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Principal:
    """Who is calling, from a verified token."""

    sub: str
    role: Role
    street_id: int | None
    name: str

    def grpc_metadata(self) -> list[tuple[str, str]]:
        """Actor metadata the registry records for audit."""
        metadata = [("x-actor-role", self.role.value), ("x-actor-id", self.sub)]
        if self.street_id is not None:
            metadata.append(("x-actor-street-id", str(self.street_id)))
        return metadata

    def sees_private_deputy_data(self, deputy_street_id: int) -> bool:
        if self.role in DISTRICT_WRITERS:
            return True
        return self.role is Role.STREET_COMMITTEE and self.street_id == deputy_street_id


@dataclass(frozen=True)
class DemoAccount:
    account: str
    role: Role
    name: str
    street_id: int | None = None

    @property
    def sub(self) -> str:
        return f"demo:{self.account}"


# One demo account per role; the street-scoped ones belong to street 1.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("constituent", Role.CONSTITUENT, "演示选民"),
    DemoAccount("deputy", Role.DEPUTY, "演示代表"),
    DemoAccount("station-staff", Role.STATION_STAFF, "演示联络站工作人员", street_id=1),
    DemoAccount("street-committee", Role.STREET_COMMITTEE, "演示街道工委", street_id=1),
    DemoAccount("standing-committee-office", Role.STANDING_COMMITTEE_OFFICE, "演示常委会办公室"),
    DemoAccount("working-body", Role.WORKING_BODY, "演示工作机构"),
    DemoAccount("government-office", Role.GOVERNMENT_OFFICE, "演示区政府办公室"),
    DemoAccount("department", Role.DEPARTMENT, "演示职能部门"),
    DemoAccount("admin", Role.ADMIN, "演示管理员"),
)


def _unauthenticated(detail: str) -> ProblemError:
    return ProblemError(
        401,
        detail,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail}"'},
    )


class TokenVerifier:
    """Verifies bearer tokens according to the settings."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    def issue_dev_token(self, account: DemoAccount) -> tuple[str, int]:
        if self.settings.is_production:
            raise RuntimeError("development tokens are never issued in production")
        now = int(time.time())
        claims: dict[str, object] = {
            "sub": account.sub,
            "role": account.role.value,
            "name": account.name,
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": now,
            "exp": now + DEV_TOKEN_TTL_SECONDS,
        }
        if account.street_id is not None:
            claims["street_id"] = account.street_id
        token = jwt.encode(claims, self.settings.jwt_dev_secret, algorithm=DEV_ALGORITHM)
        return token, DEV_TOKEN_TTL_SECONDS

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _unauthenticated("malformed token") from exc
        algorithm = header.get("alg")
        options: Options = {"require": ["exp", "sub", "iss", "aud"]}
        try:
            if algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
                jwks = self._jwks
                # PyJWKClient fetches over blocking urllib (cached afterwards).
                key = await run_in_threadpool(jwks.get_signing_key_from_jwt, token)
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=ASYMMETRIC_ALGORITHMS,
                    audience=self.settings.jwt_audience,
                    issuer=self.settings.jwt_issuer,
                    options=options,
                )
            elif algorithm == DEV_ALGORITHM and not self.settings.is_production:
                claims = jwt.decode(
                    token,
                    self.settings.jwt_dev_secret,
                    algorithms=[DEV_ALGORITHM],
                    audience=self.settings.jwt_audience,
                    issuer=self.settings.jwt_issuer,
                    options=options,
                )
            else:
                raise _unauthenticated("token algorithm not accepted")
        except jwt.PyJWKClientError as exc:
            raise _unauthenticated("token signing key not found") from exc
        except jwt.ExpiredSignatureError as exc:
            raise _unauthenticated("token expired") from exc
        except jwt.PyJWTError as exc:
            raise _unauthenticated("invalid token") from exc
        return _principal(claims)


def _principal(claims: dict[str, object]) -> Principal:
    try:
        role = Role(str(claims.get("role", "")))
    except ValueError as exc:
        raise _unauthenticated("token has no known role") from exc
    raw_street = claims.get("street_id")
    street_id: int | None = None
    if raw_street is not None:
        try:
            street_id = int(str(raw_street))
        except ValueError as exc:
            raise _unauthenticated("token street_id is not an integer") from exc
    if role in STREET_SCOPED_ROLES and not street_id:
        raise _unauthenticated(f"a {role.value} token needs a street_id")
    return Principal(
        sub=str(claims["sub"]),
        role=role,
        street_id=street_id,
        name=str(claims.get("name", "")),
    )


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthenticated("expected a Bearer token")
    return token.strip()


async def optional_principal(request: Request) -> Principal | None:
    """The caller when a token is sent; a bad token is 401 even on public reads."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached if isinstance(cached, Principal) else None
    token = bearer_token(request)
    principal = None
    if token is not None:
        verifier: TokenVerifier = request.app.state.verifier
        principal = await verifier.verify(token)
    request.state.principal = principal if principal is not None else False
    return principal


def authentication_required() -> ProblemError:
    return ProblemError(
        401, "a bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="liaison"'}
    )


async def require_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise authentication_required()
    return principal


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only `roles`."""
    allowed = frozenset(roles)

    async def dependency(
        principal: Annotated[Principal, Depends(require_principal)],
    ) -> Principal:
        if principal.role not in allowed:
            raise ProblemError(403, f"role {principal.role.value} may not do this")
        return principal

    return dependency


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
StaffReader = Annotated[Principal, Depends(require_roles(*STAFF_READERS))]
