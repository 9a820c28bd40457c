"""The public portal's page and assets as the gateway serves them."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from gateway.routes.portal import PORTAL_DIR, SHARED_DIR


def test_the_page_is_served_at_the_root(client: TestClient) -> None:
    reply = client.get("/")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in reply.headers["content-security-policy"]
    assert reply.headers["x-content-type-options"] == "nosniff"
    # No inline script; calls go to this origin (the development issuer is on it).
    policy = reply.headers["content-security-policy"]
    assert "script-src" not in policy and "unsafe-inline" not in policy
    assert "connect-src 'self' http://testserver" in policy
    # A constituent's authorization code arrives in the query: never sent on.
    assert reply.headers["referrer-policy"] == "no-referrer"
    page = reply.text
    assert '<html lang="zh-CN">' in page
    assert re.search(r'<label for="address"[^>]*>输入您的住址、小区或社区名称</label>', page)
    assert '<button id="lang" ' in page, "the English switch"
    assert 'aria-live="polite"' in page
    assert 'name="viewport"' in page


def test_every_asset_the_page_names_is_served(client: TestClient) -> None:
    page = client.get("/").text
    assets = re.findall(r'(?:href|src)="(/(?:portal|shared)/[^"]+)"', page)
    assert sorted(assets) == [
        "/portal/conversations.js",
        "/portal/duties.js",
        "/portal/notifications.js",
        "/portal/portal.css",
        "/portal/portal.js",
        "/shared/signin.js",
    ]
    # The shared sign-in before the portal's script, which uses it; the
    # duties' and notifications' pages after portal.js, whose helpers they borrow.
    assert re.findall(r'<script src="([^"]+)"', page) == [
        "/shared/signin.js",
        "/portal/portal.js",
        "/portal/duties.js",
        "/portal/notifications.js",
        "/portal/conversations.js",
    ]
    kinds = {"/portal/portal.css": "text/css", "/portal/portal.js": "javascript"}
    kinds["/shared/signin.js"] = kinds["/portal/duties.js"] = "javascript"
    kinds["/portal/notifications.js"] = kinds["/portal/conversations.js"] = "javascript"
    for path in assets:
        reply = client.get(path)
        assert reply.status_code == 200, path
        assert kinds[path] in reply.headers["content-type"]
        assert reply.headers.get("etag")


def test_a_missing_asset_is_a_problem_404(client: TestClient) -> None:
    reply = client.get("/portal/nothing-here.js")
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("application/problem+json")


def test_the_portal_loads_nothing_from_other_hosts() -> None:
    for path in [*PORTAL_DIR.iterdir(), *SHARED_DIR.iterdir()]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), path.name
        assert "innerHTML" not in text, path.name


def test_the_portal_is_not_part_of_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/" not in paths
    assert not [p for p in paths if p.startswith(("/portal", "/shared"))]
    assert all(
        p.startswith(("/api/v1/", "/open311/v2/")) or p in {"/healthz", "/readyz"} for p in paths
    )
