"""The development token issuer for the demo accounts: mounted only when
LIAISON_DEV_ISSUER is set, which production refuses (kit.auth)."""

import dataclasses
from typing import Any

from fastapi import APIRouter, Request

from gateway import schemas as s
from gateway.problems import NOT_FOUND, VALIDATION, ProblemError, invalid_field, responses
from kit.auth import DEMO_ACCOUNTS, DEV_TOKEN_TTL_SECONDS, DevIssuer

router = APIRouter(prefix="/api/v1/dev", tags=["development"])


@router.get(
    "/accounts",
    response_model=list[s.DemoAccountOut],
    summary="The demo accounts, one per role",
    operation_id="list_demo_accounts",
)
async def list_accounts() -> Any:
    return [
        s.DemoAccountOut(
            account=a.account,
            role=a.role.value,
            name=a.name,
            street_id=a.street_id,
            deputy_id=a.deputy_id,
        )
        for a in DEMO_ACCOUNTS
    ]


@router.post(
    "/tokens",
    response_model=s.TokenOut,
    responses=responses(VALIDATION, NOT_FOUND),
    summary="Issue a token for a demo account",
    operation_id="issue_dev_token",
)
async def issue_token(request: Request, body: s.DevTokenRequest) -> Any:
    account = next((a for a in DEMO_ACCOUNTS if a.account == body.account), None)
    if account is None:
        raise ProblemError(404, f"no demo account {body.account!r}")
    if body.street_id is not None:
        if account.street_id is None:
            raise invalid_field("street_id", f"the {account.account} account has no street")
        account = dataclasses.replace(account, street_id=body.street_id)
    if body.deputy_id is not None:
        if account.deputy_id is None:
            raise invalid_field("deputy_id", f"the {account.account} account is not a deputy")
        account = dataclasses.replace(account, deputy_id=body.deputy_id)
    issuer: DevIssuer = request.app.state.dev_issuer
    token = issuer.issue(account)
    return s.TokenOut(
        access_token=token,
        expires_in=DEV_TOKEN_TTL_SECONDS,
        role=account.role.value,
        street_id=account.street_id,
        deputy_id=account.deputy_id,
    )
