"""The staff console's page and configuration, and the development issuer as
its OpenID Connect provider: authorization code with PKCE (S256)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from fastapi.testclient import TestClient

from gateway.config import ConfigurationError, GatewaySettings
from gateway.devoidc import CODE_TTL_SECONDS, UsedCodes
from gateway.routes.console import CONSOLE_DIR
from kit.auth import AuthSettings

ISSUER = "http://testserver/dev-issuer"
REDIRECT = "http://testserver/console/"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(challenge: str, **changes: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "liaison-console",
        "redirect_uri": REDIRECT,
        "scope": "openid profile",
        "state": "st-123",
        "nonce": "n-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **changes,
    }


def sign_in(client: TestClient, challenge: str, account: str = "station-staff") -> str:
    """Pick `account` on the issuer's page; the code it redirects with."""
    reply = client.post(
        "/dev-issuer/authorize",
        data={**authorize_params(challenge), "account": account, "decision": "allow"},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    target = urlsplit(reply.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT
    query = parse_qs(target.query)
    assert query["state"] == ["st-123"]
    return query["code"][0]


def redeem(client: TestClient, code: str, verifier: str, /, **changes: str) -> Any:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "liaison-console",
        "code_verifier": verifier,
        **changes,
    }
    return client.post("/dev-issuer/token", data=form)


# ---------------------------------------------------------------- the page


def test_the_console_page_is_served_with_its_policy(client: TestClient) -> None:
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/"
    reply = client.get("/console/")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    policy = reply.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert reply.headers["referrer-policy"] == "no-referrer"
    page = reply.text
    assert '<html lang="zh-CN">' in page
    assert "<main" in page and "<nav" in page and "<header" in page
    assets = re.findall(r'(?:href|src)="(/console/[^"]+)"', page)
    # Every file under static/ is linked, the shell's script before the screens'.
    on_disk = sorted(f"/console/static/{f.name}" for f in (CONSOLE_DIR / "static").iterdir())
    assert sorted(assets) == on_disk
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts[0] == "/console/static/console.js" and "/console/static/calendar.js" in scripts
    # The sign-in the portal shares, before the shell that uses it.
    every_script = re.findall(r'<script src="([^"]+)"', page)
    assert every_script[0] == "/shared/signin.js"
    for path in [*assets, "/shared/signin.js"]:
        assert client.get(path).status_code == 200, path


def test_the_console_loads_nothing_from_other_hosts() -> None:
    for path in [*CONSOLE_DIR.iterdir(), *(CONSOLE_DIR / "static").iterdir()]:
        if path.is_dir():
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), path.name
        assert "innerHTML" not in text, path.name


@pytest.mark.parametrize(
    "stylesheet",
    [CONSOLE_DIR / "static" / "console.css", CONSOLE_DIR.parent / "portal" / "portal.css"],
    ids=lambda path: path.name,
)
def test_every_rule_of_a_stylesheet_is_closed(stylesheet: Path) -> None:
    """An unclosed rule swallows every rule after it, silently."""
    css = re.sub(r"/\*.*?\*/", "", stylesheet.read_text(), flags=re.S)
    name = stylesheet.name
    depth = 0
    for number, line in enumerate(css.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{name}:{number} closes a rule never opened"
        # A rule at the top level starts at column 0; only @media nests rules.
        if (line[:1].isalnum() or line[:1] in ".#:[*") and line.rstrip().endswith("{"):
            assert depth == 1, f"{name}:{number} starts a rule inside another"
    assert depth == 0, f"{name} leaves a rule open"


def _text_keys(script: str) -> set[str]:
    """The keys of the texts a console script defines: console.js's `TEXT`,
    a screen's `LiaisonConsole.addText({...})`."""
    keys: set[str] = set()
    inside = False
    for line in script.splitlines():
        if re.match(r"\s*(var TEXT = \{|C\.addText\(\{|LiaisonConsole\.addText\(\{)", line):
            inside = True
        elif inside and re.match(r"  \}\)?;", line):
            inside = False
        elif inside and (found := re.match(r" {6}(\w+):", line)):
            keys.add(found.group(1))
    return keys


def test_no_two_console_scripts_define_the_same_text() -> None:
    """The console's texts are one table: a screen defining a key another
    defines replaces that screen's text (its title became another's)."""
    owner: dict[str, str] = {}
    scripts = sorted((CONSOLE_DIR / "static").glob("*.js"))
    for path in scripts:
        keys = _text_keys(path.read_text(encoding="utf-8"))
        if path.name in ("console.js", "inbox.js", "notification-rules.js"):
            assert keys, f"no texts found in {path.name}: has its layout changed?"
        for key in keys:
            assert key not in owner, f"{path.name} and {owner[key]} both define the text {key!r}"
            owner[key] = path.name


def test_the_config_names_the_development_issuer_locally(client: TestClient) -> None:
    config = client.get("/console/config.json").json()
    assert config == {
        "issuer": ISSUER,
        "client_id": "liaison-console",
        "scope": "openid profile",
        "redirect_path": "/console/",
    }


def test_a_configured_issuer_is_named_and_allowed_by_the_policy(
    settings: GatewaySettings, make_client: Callable[[GatewaySettings], TestClient]
) -> None:
    configured = dataclasses.replace(
        settings,
        auth=AuthSettings(env="test", jwks_url="https://idp.example.org/jwks"),
        console_oidc_issuer="https://idp.example.org/realms/liaison",
        console_oidc_client_id="console",
        portal_oidc_client_id="portal",
    )
    client = make_client(configured)
    # The portal signs constituents in with the same provider, as its own client.
    for page, client_id, redirect_path in (
        ("/console/", "console", "/console/"),
        ("/", "portal", "/"),
    ):
        config_path = "/portal/config.json" if page == "/" else "/console/config.json"
        config = client.get(config_path).json()
        assert config["issuer"] == "https://idp.example.org/realms/liaison"
        assert (config["client_id"], config["redirect_path"]) == (client_id, redirect_path)
        policy = client.get(page).headers["content-security-policy"]
        assert "connect-src 'self' https://idp.example.org" in policy
    # Without the development issuer, its endpoints are not there.
    assert client.get("/dev-issuer/.well-known/openid-configuration").status_code == 404


def test_production_wants_an_https_issuer(settings: GatewaySettings) -> None:
    production = dataclasses.replace(
        settings,
        env="production",
        auth=AuthSettings(env="production", jwks_url="https://idp.example.org/jwks"),
        console_oidc_issuer="http://idp.example.org",
    )
    with pytest.raises(ConfigurationError, match="LIAISON_CONSOLE_OIDC_ISSUER"):
        production.validate()


def test_the_console_is_not_part_of_the_api_description(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/console", "/dev-issuer"))]


# -------------------------------------------------------- the issuer's flow


def test_discovery_names_the_endpoints_and_s256(client: TestClient) -> None:
    metadata = client.get("/dev-issuer/.well-known/openid-configuration").json()
    assert metadata["issuer"] == ISSUER
    assert metadata["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert metadata["token_endpoint"] == f"{ISSUER}/token"
    assert metadata["code_challenge_methods_supported"] == ["S256"]


def test_the_sign_in_page_is_a_form_of_demo_accounts(client: TestClient) -> None:
    _, challenge = pkce()
    reply = client.get("/dev-issuer/authorize", params=authorize_params(challenge))
    assert reply.status_code == 200
    assert "form-action 'self'" in reply.headers["content-security-policy"]
    page = reply.text
    assert '<form method="post" action="/dev-issuer/authorize"' in page
    assert 'value="station-staff"' in page and "<legend>" in page
    assert 'value="department-system"' not in page, "a system does not sign in by the page"
    assert f'name="code_challenge" value="{challenge}"' in page


def test_a_code_redeemed_with_its_verifier_gives_the_accounts_token(client: TestClient) -> None:
    verifier, challenge = pkce()
    code = sign_in(client, challenge)
    reply = redeem(client, code, verifier)
    assert reply.status_code == 200, reply.text
    assert reply.headers["cache-control"] == "no-store"
    body = reply.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    principal = client.app.state.verifier.verify(body["access_token"])  # type: ignore[attr-defined]
    assert principal.role.value == "station_staff" and principal.street_id == 1
    id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_token["aud"] == "liaison-console" and id_token["nonce"] == "n-456"
    assert id_token["iss"] == ISSUER


def test_a_wrong_verifier_is_refused_and_leaves_the_code_usable(client: TestClient) -> None:
    verifier, challenge = pkce()
    code = sign_in(client, challenge)
    other, _ = pkce()
    reply = redeem(client, code, other)
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_grant"
    assert "code_verifier" in reply.json()["error_description"]
    assert redeem(client, code, verifier).status_code == 200


def test_a_code_is_used_once(client: TestClient) -> None:
    verifier, challenge = pkce()
    code = sign_in(client, challenge)
    assert redeem(client, code, verifier).status_code == 200
    again = redeem(client, code, verifier)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "the code has already been used",
    }


def test_a_code_with_another_redirect_uri_is_refused(client: TestClient) -> None:
    verifier, challenge = pkce()
    code = sign_in(client, challenge)
    reply = redeem(client, code, verifier, redirect_uri="http://testserver/elsewhere/")
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_grant"
    assert "redirect_uri" in reply.json()["error_description"]


def test_a_code_for_another_client_a_forged_or_expired_code_is_refused(
    client: TestClient,
) -> None:
    verifier, challenge = pkce()
    code = sign_in(client, challenge)
    assert redeem(client, code, verifier, client_id="other").json()["error"] == "invalid_grant"
    forged = jwt.encode(
        {"aud": "liaison-dev-authorization-code", "jti": "x"},
        "not-the-secret-of-this-run-at-all-0123456789",
    )
    assert redeem(client, forged, verifier).json()["error"] == "invalid_grant"
    secret = client.app.state.dev_issuer.settings.dev_secret  # type: ignore[attr-defined]
    claims = jwt.decode(
        code, secret, algorithms=["HS256"], audience="liaison-dev-authorization-code"
    )
    claims["exp"] = int(time.time()) - CODE_TTL_SECONDS
    expired = jwt.encode(claims, secret, algorithm="HS256")
    reply = redeem(client, expired, verifier)
    assert reply.json() == {"error": "invalid_grant", "error_description": "the code has expired"}


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"code": ""}, "invalid_request"),
        ({"code_verifier": "short"}, "invalid_request"),
    ],
)
def test_a_malformed_token_request_is_refused(
    client: TestClient, form: dict[str, str], error: str
) -> None:
    verifier, challenge = pkce()
    code = sign_in(client, challenge)
    reply = redeem(client, code, verifier, **form)
    assert reply.status_code == 400
    assert reply.json()["error"] == error


def test_an_unknown_client_or_redirect_uri_is_not_redirected_to(client: TestClient) -> None:
    _, challenge = pkce()
    for changes in (
        {"client_id": "evil"},
        {"redirect_uri": "https://evil.example.org/console/"},
    ):
        reply = client.get(
            "/dev-issuer/authorize",
            params=authorize_params(challenge, **changes),
            follow_redirects=False,
        )
        assert reply.status_code == 400
        assert "location" not in reply.headers
        assert 'role="alert"' in reply.text


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "profile"}, "invalid_scope"),
    ],
)
def test_a_bad_authorization_request_is_sent_back_to_the_client(
    client: TestClient, changes: dict[str, str], error: str
) -> None:
    _, challenge = pkce()
    reply = client.get(
        "/dev-issuer/authorize",
        params=authorize_params(challenge, **changes),
        follow_redirects=False,
    )
    assert reply.status_code == 303
    query = parse_qs(urlsplit(reply.headers["location"]).query)
    assert query["error"] == [error] and query["state"] == ["st-123"]


def test_cancelling_or_an_unknown_account_gives_no_code(client: TestClient) -> None:
    _, challenge = pkce()
    for extra, error in (
        ({"account": "station-staff", "decision": "deny"}, "access_denied"),
        ({"account": "nobody", "decision": "allow"}, "invalid_request"),
        ({"account": "department-system", "decision": "allow"}, "invalid_request"),
    ):
        reply = client.post(
            "/dev-issuer/authorize",
            data={**authorize_params(challenge), **extra},
            follow_redirects=False,
        )
        query = parse_qs(urlsplit(reply.headers["location"]).query)
        assert query["error"] == [error] and "code" not in query


def test_used_codes_are_shared_through_their_directory(tmp_path: Path) -> None:
    first, second = UsedCodes("s", tmp_path), UsedCodes("s", tmp_path)
    assert first.redeem("abc") is True
    assert second.redeem("abc") is False
    assert second.redeem("def") is True


def test_without_an_issuer_the_console_has_none_to_sign_in_with(
    settings: GatewaySettings, make_client: Callable[[GatewaySettings], TestClient]
) -> None:
    client = make_client(
        dataclasses.replace(
            settings, auth=AuthSettings(env="test", jwks_url="https://idp.example.org/jwks")
        )
    )
    assert client.get("/console/config.json").json()["issuer"] == ""
    policy = client.get("/console/").headers["content-security-policy"]
    assert policy.endswith("connect-src 'self'")
