"""Bearer tokens at the edge: verified once here for early, clear errors,
then forwarded to the services, which verify them again and decide.

Roles, principals and the verifier are kit's (`kit.auth`), the same code the
services run. The gateway's own checks (a role that may never do a thing)
only answer sooner; every rule about records and streets is enforced by the
service that owns the records.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from gateway.problems import ProblemError
from kit.auth import (
    DEMO_ACCOUNTS,
    DISTRICT_ROLES,
    STAFF_ROLES,
    DemoAccount,
    Principal,
    Role,
    TokenVerifier,
    bearer_token,
)
from kit.errors import Unauthenticated

__all__ = [
    "DEMO_ACCOUNTS",
    "DISTRICT_WRITERS",
    "STAFF_READERS",
    "DemoAccount",
    "OptionalPrincipal",
    "Principal",
    "Role",
    "StaffReader",
    "TokenVerifier",
    "optional_principal",
    "require_principal",
    "require_roles",
]

# Roles that may write anywhere in the registry.
DISTRICT_WRITERS = frozenset(DISTRICT_ROLES - {Role.SYSTEM})
# Roles that see internal records (positions, budgets); constituents do not.
STAFF_READERS = frozenset(STAFF_ROLES - {Role.SYSTEM})
# Roles that may change the registry at all (the registry checks the street).
REGISTRY_WRITERS = DISTRICT_WRITERS | {Role.STREET_COMMITTEE}


def _unauthenticated(detail: str) -> ProblemError:
    return ProblemError(
        401,
        detail,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{detail}"'},
    )


async def verify(verifier: TokenVerifier, token: str) -> Principal:
    try:
        if verifier.needs_network:
            # PyJWKClient fetches keys over blocking urllib (cached afterwards).
            return await run_in_threadpool(verifier.verify, token)
        return verifier.verify(token)
    except Unauthenticated as refused:
        raise _unauthenticated(refused.message) from refused


async def optional_principal(request: Request) -> Principal | None:
    """The caller when a token is sent; a bad token is 401 even on public reads.
    The verified token is kept on the request, to be forwarded."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached if isinstance(cached, Principal) else None
    try:
        token = bearer_token(request.headers.get("authorization"))
    except Unauthenticated as refused:
        raise _unauthenticated(refused.message) from refused
    principal = None
    if token is not None:
        principal = await verify(request.app.state.verifier, token)
        request.state.token = token
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
