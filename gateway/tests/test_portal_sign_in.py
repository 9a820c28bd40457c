"""A constituent's sign-in to the public portal: its configuration, its
policy, and the development issuer's client for it, which signs in
constituents only and sends them back to the portal's page."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from fastapi.testclient import TestClient

from gateway.config import GatewaySettings
from gateway.devoidc import CLIENTS, PORTAL_CLIENT_ID, s256
from kit.auth import AuthSettings

ISSUER = "http://testserver/dev-issuer"
PORTAL = "http://testserver/"


def challenge_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def portal_request(challenge: str, **changes: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": PORTAL_CLIENT_ID,
        "redirect_uri": PORTAL,
        "scope": "openid profile",
        "state": "portal-state",
        "nonce": "portal-nonce",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **changes,
    }


def decide(client: TestClient, challenge: str, account: str) -> dict[str, list[str]]:
    """Pick `account` on the issuer's page for the portal: where it sends
    the browser back, and the query it sends it back with."""
    reply = client.post(
        "/dev-issuer/authorize",
        data={**portal_request(challenge), "account": account, "decision": "allow"},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    target = urlsplit(reply.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == PORTAL
    return parse_qs(target.query)


def token_form(code: str, verifier: str, **changes: str) -> dict[str, Any]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": PORTAL,
        "client_id": PORTAL_CLIENT_ID,
        "code_verifier": verifier,
        **changes,
    }


def test_the_config_names_the_issuer_and_the_portals_own_client(client: TestClient) -> None:
    reply = client.get("/portal/config.json")
    assert reply.status_code == 200
    assert reply.json() == {
        "issuer": ISSUER,
        "client_id": "liaison-portal",
        "scope": "openid profile",
        "redirect_path": "/",
    }


def test_without_an_issuer_the_portal_has_none_and_calls_only_itself(
    settings: GatewaySettings, make_client: Callable[[GatewaySettings], TestClient]
) -> None:
    client = make_client(
        dataclasses.replace(settings, auth=AuthSettings(env="test", jwks_url="https://x.org/j"))
    )
    assert client.get("/portal/config.json").json()["issuer"] == ""
    policy = client.get("/").headers["content-security-policy"]
    assert policy.endswith("connect-src 'self'")


def test_the_portals_sign_in_page_offers_constituents_only(client: TestClient) -> None:
    _, challenge = challenge_pair()
    reply = client.get("/dev-issuer/authorize", params=portal_request(challenge))
    assert reply.status_code == 200
    page = reply.text
    assert 'value="constituent"' in page
    for staff in ("station-staff", "street-committee", "admin", "department", "deputy"):
        assert f'value="{staff}"' not in page, staff
    offered = [a.account for a in CLIENTS[PORTAL_CLIENT_ID].accounts]
    assert offered and all(
        a.role.value == "constituent" for a in CLIENTS[PORTAL_CLIENT_ID].accounts
    )
    assert f'name="client_id" value="{PORTAL_CLIENT_ID}"' in page


def test_a_constituent_signs_in_to_the_portal_and_gets_their_token(client: TestClient) -> None:
    verifier, challenge = challenge_pair()
    query = decide(client, challenge, "constituent")
    assert query["state"] == ["portal-state"]
    reply = client.post("/dev-issuer/token", data=token_form(query["code"][0], verifier))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    principal = client.app.state.verifier.verify(body["access_token"])  # type: ignore[attr-defined]
    assert principal.role.value == "constituent" and principal.sub == "demo:constituent"
    id_token = jwt.decode(body["id_token"], options={"verify_signature": False})
    assert id_token["aud"] == PORTAL_CLIENT_ID and id_token["nonce"] == "portal-nonce"


def test_a_staff_account_does_not_sign_in_to_the_portal(client: TestClient) -> None:
    _, challenge = challenge_pair()
    query = decide(client, challenge, "street-committee")
    assert query["error"] == ["access_denied"] and "code" not in query
    assert "does not sign in to this client" in query["error_description"][0]


def test_the_portals_code_is_not_the_consoles(client: TestClient) -> None:
    verifier, challenge = challenge_pair()
    code = decide(client, challenge, "constituent")["code"][0]
    as_console = token_form(
        code, verifier, client_id="liaison-console", redirect_uri="http://testserver/console/"
    )
    reply = client.post("/dev-issuer/token", data=as_console)
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"
    # Refused, it is still the portal's to redeem.
    assert client.post("/dev-issuer/token", data=token_form(code, verifier)).status_code == 200


def test_each_client_has_its_own_redirect_uri_only(client: TestClient) -> None:
    _, challenge = challenge_pair()
    for changes in (
        {"redirect_uri": "http://testserver/console/"},
        {"redirect_uri": "http://testserver/elsewhere"},
        {"client_id": "liaison-console"},  # with the portal's redirect URI
    ):
        reply = client.get(
            "/dev-issuer/authorize",
            params=portal_request(challenge, **changes),
            follow_redirects=False,
        )
        assert reply.status_code == 400, changes
        assert "location" not in reply.headers
