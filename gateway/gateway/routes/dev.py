"""The development token issuer for the demo accounts: mounted only when
LIAISON_DEV_ISSUER is set, which production refuses (kit.auth)."""

import dataclasses
from html import escape
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from gateway import schemas as s
from gateway.devoidc import (
    CLIENTS,
    ISSUER_PATH,
    DevOidcProvider,
    OAuthError,
    check_authorization,
    check_client,
)
from gateway.problems import NOT_FOUND, VALIDATION, ProblemError, invalid_field, responses
from gateway.routes.portal import CONTENT_SECURITY_POLICY
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
            unit_id=a.unit_id,
            position=a.position,
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
    if body.unit_id is not None:
        if account.unit_id is None:
            raise invalid_field("unit_id", f"the {account.account} account is not a department's")
        account = dataclasses.replace(account, unit_id=body.unit_id)
    issuer: DevIssuer = request.app.state.dev_issuer
    token = issuer.issue(account)
    return s.TokenOut(
        access_token=token,
        expires_in=DEV_TOKEN_TTL_SECONDS,
        role=account.role.value,
        street_id=account.street_id,
        deputy_id=account.deputy_id,
        unit_id=account.unit_id,
        position=account.position,
    )


# ------------------------------------- OpenID Connect for the console and the portal
#
# The development issuer as the OpenID Connect provider of the console and
# the portal (gateway.devoidc): discovery, an /authorize page where one picks
# a demo account (the portal's: a constituent's), and /token. These speak OAuth 2.0's own formats (form posts,
# RFC 6749 error objects, redirects), not the JSON API's, so they are outside
# /api/v1 and the OpenAPI document.

OIDC_PREFIX = ISSUER_PATH
oidc_router = APIRouter(prefix=OIDC_PREFIX, include_in_schema=False)

_PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# The fields of an authorization request the page carries to its form post.
_AUTHORIZE_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


def issuer_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + OIDC_PREFIX


def _provider(request: Request) -> DevOidcProvider:
    return request.app.state.dev_oidc  # type: ignore[no-any-return]


def _redirect(uri: str, params: dict[str, str]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{uri}?{query}", status_code=303, headers=dict(_NO_STORE))


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        '<link rel="stylesheet" href="/console/static/console.css">\n'
        f'</head>\n<body class="issuer">\n<main id="main" class="issuer-page">\n{body}\n'
        "</main>\n</body>\n</html>\n"
    )
    return HTMLResponse(document, status_code=status, headers=dict(_PAGE_HEADERS))


def _error_page(error: OAuthError) -> HTMLResponse:
    return _page(
        "登录请求无效 · Invalid sign-in request",
        '<h1>登录请求无效 <span lang="en">Invalid sign-in request</span></h1>\n'
        f'<p role="alert"><code>{escape(error.error)}</code>: {escape(error.description)}</p>',
        status=400,
    )


def _sign_in_page(params: dict[str, str], client_id: str) -> HTMLResponse:
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{escape(params.get(name, ""))}">'
        for name in _AUTHORIZE_FIELDS
    )
    choices = "\n".join(
        '<li><label class="account">'
        f'<input type="radio" name="account" value="{escape(a.account)}"'
        f"{' checked' if i == 0 else ''} required> "
        f'<span class="account-name">{escape(a.name)}</span> '
        f'<span class="account-role">{escape(a.account)} · {escape(a.role.value)}'
        f"{f' · street {a.street_id}' if a.street_id else ''}</span></label></li>"
        for i, a in enumerate(CLIENTS[client_id].accounts)
    )
    body = (
        '<h1>演示账号登录 <span lang="en">Demo sign-in</span></h1>\n'
        '<p class="note">本地开发用的签发方：选择一个演示账号登录人大代表联络平台。'
        '<span lang="en">The local development issuer: pick a demo account.</span></p>\n'
        f'<form method="post" action="{OIDC_PREFIX}/authorize" class="issuer-form">\n{hidden}\n'
        '<fieldset>\n<legend>演示账号 <span lang="en">Demo account</span></legend>\n'
        f'<ul class="accounts">\n{choices}\n</ul>\n</fieldset>\n'
        '<div class="actions">'
        '<button type="submit" name="decision" value="allow" id="sign-in">'
        '登录 <span lang="en">Sign in</span></button> '
        '<button type="submit" name="decision" value="deny" class="secondary">'
        '取消 <span lang="en">Cancel</span></button></div>\n</form>'
    )
    return _page("演示账号登录 · Demo sign-in", body)


@oidc_router.get("/.well-known/openid-configuration")
async def discovery(request: Request) -> JSONResponse:
    return JSONResponse(
        _provider(request).discovery(issuer_url(request)),
        headers={"Cache-Control": "public, max-age=300"},
    )


@oidc_router.get("/authorize")
async def authorize_page(request: Request) -> Response:
    params = {k: v for k, v in request.query_params.items() if k in _AUTHORIZE_FIELDS}
    return _authorize(request, params, decision=None, account="")


@oidc_router.post("/authorize")
async def authorize_decision(request: Request) -> Response:
    form = await request.form()
    params = {k: str(v) for k, v in form.items() if k in _AUTHORIZE_FIELDS}
    return _authorize(
        request,
        params,
        decision=str(form.get("decision", "")),
        account=str(form.get("account", "")),
    )


def _authorize(
    request: Request, params: dict[str, str], *, decision: str | None, account: str
) -> Response:
    issuer = issuer_url(request)
    try:
        client_id, redirect_uri = check_client(params, issuer)
    except OAuthError as refused:
        # An unknown client or redirect URI is never redirected to.
        return _error_page(refused)
    state = params.get("state", "")
    try:
        checked = check_authorization(params, issuer)
        if decision is None:
            return _sign_in_page(params, client_id)
        if decision != "allow":
            raise OAuthError("access_denied", "the sign-in was cancelled")
        code = _provider(request).issue_code(checked, account)
    except OAuthError as refused:
        return _redirect(
            redirect_uri,
            {"error": refused.error, "error_description": refused.description, "state": state},
        )
    return _redirect(redirect_uri, {"code": code, "state": state})


@oidc_router.post("/token")
async def token(request: Request) -> JSONResponse:
    form = await request.form()
    fields = {k: str(v) for k, v in form.items()}
    try:
        body = _provider(request).redeem(fields, issuer_url(request))
    except OAuthError as refused:
        return JSONResponse(refused.body(), status_code=refused.status, headers=dict(_NO_STORE))
    return JSONResponse(body, headers=dict(_NO_STORE))
