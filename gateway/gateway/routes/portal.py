"""The public portal: one HTML page at `/` and its stylesheet and script under
`/portal/`. Not part of the API, so not in the OpenAPI document."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

PORTAL_DIR = Path(__file__).resolve().parents[1] / "portal"
STATIC_PREFIX = "/portal"

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


@router.get("/", include_in_schema=False)
async def portal_page() -> FileResponse:
    return FileResponse(
        PORTAL_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-cache",
        },
    )


def static_files() -> StaticFiles:
    """The portal's stylesheet and script, mounted at STATIC_PREFIX."""
    return StaticFiles(directory=PORTAL_DIR)
