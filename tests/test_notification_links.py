"""Every default notification rule's link, rendered with its event's sample,
opens a page that exists: a screen the console registers, or the portal's
home (with `?track=<code>`, which follows an opinion) or one of its routes.
A link to a page nobody built lands on the default screen, silently."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from notifications import catalog
from notifications.rules import DEFAULT_RULES
from notifications.rules_service import RuleBook
from notifications.templates import context_of

GATEWAY = Path(__file__).resolve().parents[1] / "gateway" / "gateway"


def console_screens() -> set[str]:
    found = set()
    for script in (GATEWAY / "console" / "static").glob("*.js"):
        found |= set(re.findall(r'C\.screen\("([\w-]+)"', script.read_text(encoding="utf-8")))
    return found


def portal_routes() -> list[re.Pattern[str]]:
    """The portal scripts' `var ROUTE = /.../;` over `location.hash`."""
    routes = []
    for script in (GATEWAY / "portal").glob("*.js"):
        for source in re.findall(r"var ROUTE = /(.+)/;", script.read_text(encoding="utf-8")):
            routes.append(re.compile(source.replace("\\/", "/")))
    return routes


def test_the_pages_are_found() -> None:
    assert {"letters", "reports", "activities", "calendar", "inbox"} <= console_screens()
    assert len(portal_routes()) >= 3


@pytest.mark.parametrize("rule", [r for r in DEFAULT_RULES if r.link], ids=lambda r: r.key)
def test_a_default_rule_links_to_a_page_that_exists(rule) -> None:  # type: ignore[no-untyped-def]
    sample = catalog.payload_of(catalog.event_type(rule.event_type).sample())
    link = RuleBook.render_link(rule, context_of(sample, locale="zh-CN"))
    parts = urlsplit(link)
    assert not parts.scheme and not parts.netloc, link
    if parts.path == "/console/":
        screen = re.match(r"/([\w-]+)", parts.fragment)
        assert screen and screen.group(1) in console_screens(), f"{rule.key}: {link}"
    else:
        assert parts.path == "/", f"{rule.key}: {link} is neither the console nor the portal"
        if parts.query:
            assert set(parse_qs(parts.query)) == {"track"}, f"{rule.key}: {link}"
        if parts.fragment:
            hash_ = f"#{parts.fragment}"
            assert any(r.match(hash_) for r in portal_routes()), f"{rule.key}: {link}"
