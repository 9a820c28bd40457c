"""The staff console: a single-page app at `/console/`, its files under
`/console/static/`, and `/console/config.json`, where it reads which OpenID
Connect provider and client to sign in with. Not part of the API, so not in
the OpenAPI document.

The console signs in with the authorization code flow and PKCE (S256)
against LIAISON_CONSOLE_OIDC_ISSUER; without one, on a local run, against
the gateway's development issuer (`/dev-issuer`, gateway.routes.dev). What
its screens may do is decided by the API they call, as for any client.
"""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from gateway.config import GatewaySettings
from gateway.routes.portal import content_security_policy, issuer_for, sign_in_config

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "console"
PREFIX = "/console"
STATIC_PREFIX = "/console/static"

router = APIRouter(include_in_schema=False)


@router.get(PREFIX)
async def console_root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=308)


@router.get(f"{PREFIX}/")
async def console_page(request: Request) -> FileResponse:
    return FileResponse(
        CONSOLE_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": content_security_policy(issuer_for(request)),
            "X-Content-Type-Options": "nosniff",
            # The authorization code arrives in the query: never sent on.
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@router.get(f"{PREFIX}/config.json")
async def console_config(request: Request) -> JSONResponse:
    settings: GatewaySettings = request.app.state.settings
    return sign_in_config(request, settings.console_oidc_client_id, f"{PREFIX}/")


def static_files() -> StaticFiles:
    """The console's script and stylesheet, mounted at STATIC_PREFIX."""
    return StaticFiles(directory=CONSOLE_DIR / "static")
