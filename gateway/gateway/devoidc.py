"""The development issuer as an OpenID Connect provider, for the staff
console's sign-in on a local run: authorization code flow with PKCE (S256),
public clients only.

Mounted with the development issuer (LIAISON_DEV_ISSUER, never in
production; `gateway.routes.dev`). Two registered clients (`CLIENTS`): the
staff console (`CONSOLE_CLIENT_ID`), whose one redirect URI is the console's
page on the issuer's origin, and the public portal (`PORTAL_CLIENT_ID`),
whose one redirect URI is the portal's page, `/`, and which signs in
constituents only. Authorization codes are short-lived (60 s), single-use,
bound to the client, the redirect URI and the PKCE challenge.

A code is a token signed with the development secret, so any worker of the
gateway can redeem a code another issued; that it is redeemed once is kept
in a directory shared by the workers of one host (`UsedCodes`, one file per
code, created with O_EXCL), named by the secret so separate runs do not meet.
The development issuer runs on one host only; a real deployment uses the
identity provider's own flow (LIAISON_CONSOLE_OIDC_ISSUER).

Written here rather than with an OAuth server library: Authlib's server
side is integrated with Flask and Django, not Starlette, and an adapter
(client, code and token stores, grant and PKCE hooks) would be longer than
the checks below, which follow RFC 6749 §4.1 and RFC 7636 §4.6.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt

from kit.auth import (
    DEMO_ACCOUNTS,
    DEV_ALGORITHM,
    DEV_TOKEN_TTL_SECONDS,
    DemoAccount,
    DevIssuer,
    Role,
)

# Where the gateway mounts the issuer (gateway.routes.dev).
ISSUER_PATH = "/dev-issuer"
CONSOLE_CLIENT_ID = "liaison-console"
# The console's page, on the issuer's origin: its only redirect URI.
CONSOLE_REDIRECT_PATH = "/console/"
PORTAL_CLIENT_ID = "liaison-portal"
PORTAL_REDIRECT_PATH = "/"
CODE_TTL_SECONDS = 60
ID_TOKEN_TTL_SECONDS = 300
# RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
CODE_AUDIENCE = "liaison-dev-authorization-code"
# Accounts a person signs in with: not a department's system.
SIGN_IN_ACCOUNTS: tuple[DemoAccount, ...] = tuple(a for a in DEMO_ACCOUNTS if not a.client)


@dataclass(frozen=True)
class Client:
    """A registered public client: its one redirect path, on the issuer's
    origin, and the accounts one may sign in to it with."""

    redirect_path: str
    accounts: tuple[DemoAccount, ...]


CLIENTS: dict[str, Client] = {
    CONSOLE_CLIENT_ID: Client(CONSOLE_REDIRECT_PATH, SIGN_IN_ACCOUNTS),
    # The public portal is the constituents': no staff account signs in there.
    PORTAL_CLIENT_ID: Client(
        PORTAL_REDIRECT_PATH, tuple(a for a in SIGN_IN_ACCOUNTS if a.role is Role.CONSTITUENT)
    ),
}


class OAuthError(Exception):
    """An OAuth 2.0 error (RFC 6749 §4.1.2.1, §5.2): `error` and its description."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def s256(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def redirect_uri_for(issuer_url: str, client_id: str = CONSOLE_CLIENT_ID) -> str:
    parts = urlsplit(issuer_url)
    return f"{parts.scheme}://{parts.netloc}{CLIENTS[client_id].redirect_path}"


@dataclass(frozen=True)
class AuthorizationRequest:
    """An /authorize request that passed the checks (RFC 6749 §4.1.1, RFC 7636 §4.3)."""

    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str
    nonce: str
    scope: str


def check_client(params: dict[str, str], issuer_url: str) -> tuple[str, str]:
    """The client and redirect URI, which must be known before any error may
    be sent back to the client by redirect (RFC 6749 §4.1.2.1)."""
    client_id = params.get("client_id", "")
    if client_id not in CLIENTS:
        raise OAuthError("invalid_client", f"unknown client_id {client_id!r}")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri != redirect_uri_for(issuer_url, client_id):
        raise OAuthError("invalid_request", "redirect_uri is not registered for this client")
    return client_id, redirect_uri


def check_authorization(params: dict[str, str], issuer_url: str) -> AuthorizationRequest:
    """The request once the client is known; OAuthError for what is wrong,
    to be sent to the redirect URI."""
    client_id, redirect_uri = check_client(params, issuer_url)
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "only response_type=code is supported")
    if params.get("code_challenge_method") != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256")
    challenge = params.get("code_challenge", "")
    if not CHALLENGE.match(challenge):
        raise OAuthError("invalid_request", "code_challenge must be a base64url SHA-256 digest")
    scope = params.get("scope", "")
    if "openid" not in scope.split():
        raise OAuthError("invalid_scope", "the scope must include openid")
    return AuthorizationRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=params.get("state", "")[:500],
        code_challenge=challenge,
        nonce=params.get("nonce", "")[:500],
        scope=scope,
    )


class UsedCodes:
    """Codes already redeemed, as files in a directory the gateway's workers share."""

    def __init__(self, secret: str, directory: Path | None = None) -> None:
        name = "liaison-dev-codes-" + hashlib.sha256(secret.encode()).hexdigest()[:16]
        self.directory = directory or Path(tempfile.gettempdir()) / name
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def redeem(self, code_id: str) -> bool:
        """True the first time a code is redeemed, False after."""
        self._forget_expired()
        try:
            fd = os.open(self.directory / code_id, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def _forget_expired(self) -> None:
        # A code's marker is needed only while the code could still be redeemed.
        horizon = time.time() - 2 * CODE_TTL_SECONDS
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.directory):
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < horizon:
                        os.unlink(entry.path)


class DevOidcProvider:
    """Issues and redeems authorization codes for the demo accounts."""

    def __init__(self, issuer: DevIssuer, used: UsedCodes | None = None) -> None:
        self.issuer = issuer
        self.secret = issuer.settings.dev_secret
        self.used = used or UsedCodes(self.secret)

    def discovery(self, issuer_url: str) -> dict[str, Any]:
        """The OpenID Provider metadata (OpenID Connect Discovery 1.0 §3)."""
        return {
            "issuer": issuer_url,
            "authorization_endpoint": f"{issuer_url}/authorize",
            "token_endpoint": f"{issuer_url}/token",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "profile"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [DEV_ALGORITHM],
        }

    def issue_code(self, request: AuthorizationRequest, account_name: str) -> str:
        account = next((a for a in SIGN_IN_ACCOUNTS if a.account == account_name), None)
        if account is None:
            raise OAuthError("invalid_request", f"no demo account {account_name!r}")
        if account not in CLIENTS[request.client_id].accounts:
            raise OAuthError(
                "access_denied", f"the {account_name} account does not sign in to this client"
            )
        now = int(time.time())
        claims = {
            "aud": CODE_AUDIENCE,
            "jti": secrets.token_hex(16),
            "iat": now,
            "exp": now + CODE_TTL_SECONDS,
            "account": account.account,
            "client_id": request.client_id,
            "redirect_uri": request.redirect_uri,
            "code_challenge": request.code_challenge,
            "nonce": request.nonce,
        }
        return jwt.encode(claims, self.secret, algorithm=DEV_ALGORITHM)

    def redeem(self, form: dict[str, str], issuer_url: str) -> dict[str, Any]:
        """The token response for a code (RFC 6749 §4.1.3, §5.1), or OAuthError."""
        if form.get("grant_type") != "authorization_code":
            raise OAuthError("unsupported_grant_type", "only authorization_code is supported")
        code = form.get("code", "")
        verifier = form.get("code_verifier", "")
        if not code:
            raise OAuthError("invalid_request", "code is required")
        if not VERIFIER.match(verifier):
            raise OAuthError(
                "invalid_request", "code_verifier must be 43 to 128 unreserved characters"
            )
        try:
            claims = jwt.decode(
                code,
                self.secret,
                algorithms=[DEV_ALGORITHM],
                audience=CODE_AUDIENCE,
                options={"require": ["exp", "jti", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise OAuthError("invalid_grant", "the code has expired") from exc
        except jwt.PyJWTError as exc:
            raise OAuthError("invalid_grant", "the code is not valid") from exc
        if form.get("client_id") != claims["client_id"]:
            raise OAuthError("invalid_grant", "the code was issued to another client")
        if form.get("redirect_uri") != claims["redirect_uri"]:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request")
        if not hmac.compare_digest(s256(verifier), claims["code_challenge"]):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        # Checked last, so that a wrong attempt does not use up the code.
        if not self.used.redeem(str(claims["jti"])):
            raise OAuthError("invalid_grant", "the code has already been used")
        (account,) = [a for a in SIGN_IN_ACCOUNTS if a.account == claims["account"]]
        access_token = self.issuer.issue(account)
        now = int(time.time())
        id_claims = {
            "iss": issuer_url,
            "sub": account.sub,
            "aud": claims["client_id"],
            "iat": now,
            "exp": now + ID_TOKEN_TTL_SECONDS,
            "name": account.name,
        }
        if claims.get("nonce"):
            id_claims["nonce"] = claims["nonce"]
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": DEV_TOKEN_TTL_SECONDS,
            "id_token": jwt.encode(id_claims, self.secret, algorithm=DEV_ALGORITHM),
            "scope": "openid profile",
        }
