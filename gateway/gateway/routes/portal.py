"""The public portal: one HTML page at `/`, its stylesheet and script under
`/portal/`, and `/portal/config.json`, where it reads which OpenID Connect
provider and client a constituent signs in with (optional: everything but
their own letters works without). Beside them, `/shared/`: the scripts the
portal and the staff console both load (signin.js, the authorization code
flow with PKCE). Not part of the API, so not in the OpenAPI document.

Constituents sign in with LIAISON_CONSOLE_OIDC_ISSUER, as staff do, with the
portal's own client (LIAISON_PORTAL_OIDC_CLIENT_ID); without an issuer, on a
local run, with the gateway's development issuer (gateway.devoidc)."""

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from gateway.config import GatewaySettings
from gateway.devoidc import ISSUER_PATH

PORTAL_DIR = Path(__file__).resolve().parents[1] / "portal"
STATIC_PREFIX = "/portal"
SHARED_DIR = Path(__file__).resolve().parents[1] / "shared"
SHARED_PREFIX = "/shared"

# The page loads nothing but its own files and calls only this origin's API
# (the gateway's other pages start from the same directives).
PAGE_POLICY = (
    "default-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
)
CONTENT_SECURITY_POLICY = "; ".join(PAGE_POLICY)

router = APIRouter(include_in_schema=False)


def issuer_for(request: Request) -> str:
    """The provider the console and the portal sign in with; empty when
    there is none."""
    settings: GatewaySettings = request.app.state.settings
    if settings.console_oidc_issuer:
        return settings.console_oidc_issuer
    if settings.auth.dev_issuer:
        return str(request.base_url).rstrip("/") + ISSUER_PATH
    return ""


def content_security_policy(issuer: str) -> str:
    """The page policy of a page that signs in: besides this origin's API,
    it calls the provider's discovery and token endpoints."""
    connect = "connect-src 'self'"
    if issuer:
        parts = urlsplit(issuer)
        connect += f" {parts.scheme}://{parts.netloc}"
    return "; ".join((*PAGE_POLICY, connect))


@router.get("/", include_in_schema=False)
async def portal_page(request: Request) -> FileResponse:
    return FileResponse(
        PORTAL_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": content_security_policy(issuer_for(request)),
            "X-Content-Type-Options": "nosniff",
            # A constituent's authorization code arrives in the query: never sent on.
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


def sign_in_config(request: Request, client_id: str, redirect_path: str) -> JSONResponse:
    """What a page signs in with: the provider, its client there, the scope
    and the page's own path, where the provider sends the browser back."""
    settings: GatewaySettings = request.app.state.settings
    return JSONResponse(
        {
            "issuer": issuer_for(request),
            "client_id": client_id,
            "scope": settings.console_oidc_scope,
            "redirect_path": redirect_path,
        },
        headers={"Cache-Control": "no-cache"},
    )


@router.get(f"{STATIC_PREFIX}/config.json")
async def portal_config(request: Request) -> JSONResponse:
    settings: GatewaySettings = request.app.state.settings
    return sign_in_config(request, settings.portal_oidc_client_id, "/")


def static_files() -> StaticFiles:
    """The portal's stylesheet and script, mounted at STATIC_PREFIX."""
    return StaticFiles(directory=PORTAL_DIR)


def shared_files() -> StaticFiles:
    """The scripts the portal and the console share, mounted at SHARED_PREFIX."""
    return StaticFiles(directory=SHARED_DIR)
