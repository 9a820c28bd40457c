"""Authentication and authorisation: who may read and write what."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from gateway.auth import DEMO_ACCOUNTS, Role
from gateway.config import GatewaySettings
from kit.auth import AuthConfigurationError, AuthSettings, DevIssuer

Headers = Callable[[str], dict[str, str]]
NEW_AREA = {"code": "new-area", "name": "新片区", "street_id": 1}


def test_public_reads_need_no_token(client: TestClient) -> None:
    for path in (
        "/api/v1/streets",
        "/api/v1/streets/1",
        "/api/v1/areas",
        "/api/v1/communities",
        "/api/v1/venues",
        "/api/v1/stations/1",
        "/api/v1/units",
        "/api/v1/deputies",
        "/api/v1/deputies/1",
        "/api/v1/deputies/1/profile",
        "/api/v1/find-station?community_id=1",
    ):
        assert client.get(path).status_code == 200, path


def test_write_without_token_is_401_and_changes_nothing(
    client: TestClient, fake: Any, problem: Any
) -> None:
    reply = client.post("/api/v1/areas", json=NEW_AREA)
    problem(reply, 401)
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert fake.writes() == []
    assert client.get("/api/v1/areas").json()["total_size"] == 2


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer " + jwt.encode({"sub": "x"}, "another-secret-of-at-least-32-bytes!"),
    ],
)
def test_invalid_token_is_401(client: TestClient, fake: Any, problem: Any, header: str) -> None:
    reply = client.patch("/api/v1/areas/1", json={"name": "x"}, headers={"Authorization": header})
    problem(reply, 401)
    assert "www-authenticate" in reply.headers
    assert fake.writes() == []


def test_invalid_token_on_public_read_is_401(client: TestClient, problem: Any) -> None:
    problem(client.get("/api/v1/streets", headers={"Authorization": "Bearer junk"}), 401)


def test_expired_token_is_401(client: TestClient, settings: GatewaySettings, problem: Any) -> None:
    token = DevIssuer(settings.auth).sign({"sub": "a", "role": "admin"}, ttl=-60)
    body = problem(
        client.post("/api/v1/areas", json=NEW_AREA, headers={"Authorization": f"Bearer {token}"}),
        401,
    )
    assert "expired" in body["detail"]


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "a", "role": "mayor"},
        {"sub": "a", "role": "system"},  # only the platform's own processes act as the system
        {"sub": "a", "role": "street_committee"},  # a street role without its street
        {"sub": "a", "role": "admin", "street_id": 2**63},
        {"sub": "a", "role": "constituent", "deputy_id": 1},  # only a deputy is one
        {"sub": "a", "role": "deputy", "deputy_id": 0},
        # Only a street committee member holds a sign-off position, one of two.
        {"sub": "a", "role": "deputy", "deputy_id": 1, "position": "street_director"},
        {"sub": "a", "role": "street_committee", "street_id": 1, "position": "mayor"},
    ],
)
def test_tokens_with_bad_claims_are_401(
    client: TestClient, settings: GatewaySettings, problem: Any, claims: dict[str, Any]
) -> None:
    token = DevIssuer(settings.auth).sign(claims)
    problem(
        client.post("/api/v1/areas", json=NEW_AREA, headers={"Authorization": f"Bearer {token}"}),
        401,
    )


@pytest.mark.parametrize(
    "account",
    ["constituent", "deputy", "station-staff", "working-body", "government-office", "department"],
)
def test_roles_without_write_rights_get_403(
    client: TestClient, fake: Any, auth: Headers, problem: Any, account: str
) -> None:
    problem(client.post("/api/v1/areas", json=NEW_AREA, headers=auth(account)), 403)
    problem(client.patch("/api/v1/areas/1", json={"name": "x"}, headers=auth(account)), 403)
    problem(
        client.post("/api/v1/areas/1:deactivate", json={"reason": "x"}, headers=auth(account)), 403
    )
    assert fake.writes() == []


@pytest.mark.parametrize("account", ["admin", "standing-committee-office"])
def test_district_writers_write_anywhere(
    client: TestClient, fake: Any, auth: Headers, account: str
) -> None:
    reply = client.post("/api/v1/areas", json={**NEW_AREA, "street_id": 2}, headers=auth(account))
    assert reply.status_code == 201, reply.text
    assert reply.json()["street_id"] == 2


def test_street_committee_writes_in_its_street(
    client: TestClient, fake: Any, auth: Headers
) -> None:
    headers = auth("street-committee")
    reply = client.post("/api/v1/areas", json=NEW_AREA, headers=headers)
    assert reply.status_code == 201, reply.text
    area_id = reply.json()["id"]
    assert (
        client.patch(f"/api/v1/areas/{area_id}", json={"name": "改名"}, headers=headers).status_code
        == 200
    )
    station = {"code": "linhe-9", "name": "第九站", "area_id": 1}
    assert client.post("/api/v1/stations", json=station, headers=headers).status_code == 201
    moved = client.patch("/api/v1/deputies/1", json={"station_id": 1}, headers=headers)
    assert moved.status_code == 200, moved.text
    position = {"role": "street_paid_staff", "unit_id": 1, "holder_name": "赵六"}
    assert client.post("/api/v1/positions", json=position, headers=headers).status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/areas", {**NEW_AREA, "street_id": 2}),
        ("patch", "/api/v1/areas/1", {"street_id": 2}),  # moving a record out of the street
        ("post", "/api/v1/streets", {"code": "new", "name": "新街道"}),
        ("post", "/api/v1/streets/1:deactivate", {"reason": "x"}),
    ],
)
def test_what_a_street_committee_can_never_do_is_refused_without_a_call(
    client: TestClient,
    fake: Any,
    auth: Headers,
    problem: Any,
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    """Early refusals; every other street rule is the registry's (its own tests
    and the authorisation matrix through the running platform)."""
    problem(getattr(client, method)(path, json=body, headers=auth("street-committee")), 403)
    assert fake.calls == []


def test_the_registry_decides_what_the_gateway_cannot_see(
    client: TestClient, fake: Any, auth: Headers, problem: Any
) -> None:
    """A write the gateway lets through reaches the registry, whose refusal
    is the answer."""
    fake.fail(
        "UpdateArea",
        grpc.StatusCode.PERMISSION_DENIED,
        "a street_committee of street 1 may not change this area (street 2 is outside it)",
    )
    body = problem(
        client.patch("/api/v1/areas/2", json={"name": "x"}, headers=auth("street-committee")),
        403,
    )
    assert "street 2 is outside it" in body["detail"]
    assert [c.method for c in fake.calls] == ["UpdateArea"]


def test_internal_records_need_a_staff_token(
    client: TestClient, auth: Headers, problem: Any
) -> None:
    for path in ("/api/v1/positions", "/api/v1/budget-lines/1", "/api/v1/budget-checks?year=2024"):
        problem(client.get(path), 401)
        problem(client.get(path, headers=auth("constituent")), 403)
        assert client.get(path, headers=auth("deputy")).status_code == 200, path


def test_roster_rights(client: TestClient, fake: Any, auth: Headers, problem: Any) -> None:
    files = {"file": ("deputies.csv", b"code,name\nD9,x\n", "text/csv")}
    problem(
        client.post("/api/v1/rosters/deputies:import", files=files, headers=auth("deputy")), 403
    )
    problem(client.post("/api/v1/rosters/deputies:import", files=files), 401)
    assert fake.writes() == []
    problem(
        client.get("/api/v1/rosters/deputies?street_id=2", headers=auth("street-committee")), 403
    )
    problem(client.get("/api/v1/rosters/deputies", headers=auth("deputy")), 403)
    assert (
        client.get("/api/v1/rosters/deputies", headers=auth("street-committee")).status_code == 200
    )
    # A street committee's download is always of its own street.
    assert fake.calls_to("ExportRoster")[-1].request.street_id == 1


def test_the_callers_token_reaches_the_registry(
    client: TestClient, fake: Any, auth: Headers
) -> None:
    headers = auth("street-committee")
    client.post("/api/v1/areas", json=NEW_AREA, headers=headers)
    assert fake.calls_to("CreateArea")[-1].metadata["authorization"] == headers["Authorization"]
    client.get("/api/v1/streets")
    assert "authorization" not in fake.calls_to("ListStreets")[-1].metadata


def test_demo_accounts_cover_every_role(client: TestClient) -> None:
    accounts = client.get("/api/v1/dev/accounts").json()
    assert {a["role"] for a in accounts} == {r.value for r in Role} - {"system"}
    scoped = {a["account"]: a["street_id"] for a in accounts if a["street_id"] is not None}
    assert scoped == {
        "street-committee": 1,
        "street-deputy-director": 1,
        "street-director": 1,
        "station-staff": 1,
        "street-office": 1,  # a street office: the department role and its street
    }
    positions = {a["account"]: a["position"] for a in accounts if a["position"]}
    assert positions == {
        "street-deputy-director": "street_full_time_deputy_director",
        "street-director": "street_director",
    }
    units = {a["account"]: a["unit_id"] for a in accounts if a["unit_id"]}
    assert units == {"department": 52, "department-system": 52}
    assert {a["role"]: a["deputy_id"] for a in accounts if a["deputy_id"]} == {"deputy": 1}
    assert len(accounts) == len(DEMO_ACCOUNTS)


def test_a_deputy_token_names_the_deputy(client: TestClient, problem: Any) -> None:
    token = client.post("/api/v1/dev/tokens", json={"account": "deputy", "deputy_id": 7}).json()
    assert token["deputy_id"] == 7
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["deputy_id"] == 7
    problem(client.post("/api/v1/dev/tokens", json={"account": "admin", "deputy_id": 7}), 422)


def test_unknown_demo_account_is_404(client: TestClient, problem: Any) -> None:
    problem(client.post("/api/v1/dev/tokens", json={"account": "mayor"}), 404)


# ---------------------------------------------------------------- production


@pytest.fixture
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_url(rsa_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


@pytest.fixture
def production(
    fake: Any,
    settings: GatewaySettings,
    jwks_url: str,
    make_client: Callable[[GatewaySettings], TestClient],
) -> TestClient:
    # As production verifies, but against a JWKS served over plain HTTP here
    # (production itself insists on https: see the tests below).
    deployed = dataclasses.replace(
        settings,
        env="test",
        auth=AuthSettings(
            env="test", jwks_url=jwks_url, issuer="https://id.example.org", audience="liaison"
        ),
    )
    return make_client(deployed)


def _rs256(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    base = {"sub": "u1", "role": "admin", "iss": "https://id.example.org", "aud": "liaison",
            "exp": int(time.time()) + 60}  # fmt: skip
    return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "k1"})


def test_production_has_no_dev_token_endpoints(production: TestClient, problem: Any) -> None:
    problem(production.post("/api/v1/dev/tokens", json={"account": "admin"}), 404)
    problem(production.get("/api/v1/dev/accounts"), 404)
    paths = production.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/api/v1/dev")]


def test_production_verifies_tokens_against_jwks(
    production: TestClient, rsa_key: rsa.RSAPrivateKey, problem: Any
) -> None:
    good = {"Authorization": f"Bearer {_rs256(rsa_key)}"}
    assert production.post("/api/v1/areas", json=NEW_AREA, headers=good).status_code == 201
    wrong_audience = {"Authorization": f"Bearer {_rs256(rsa_key, aud='other')}"}
    problem(production.post("/api/v1/areas", json=NEW_AREA, headers=wrong_audience), 401)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = {"Authorization": f"Bearer {_rs256(other_key)}"}
    problem(production.post("/api/v1/areas", json=NEW_AREA, headers=forged), 401)


def test_production_refuses_dev_tokens(
    production: TestClient, settings: GatewaySettings, problem: Any
) -> None:
    token = jwt.encode(
        {"sub": "a", "role": "admin", "iss": "https://id.example.org", "aud": "liaison",
         "exp": int(time.time()) + 60},
        settings.auth.dev_secret,
    )  # fmt: skip
    problem(
        production.post(
            "/api/v1/areas", json=NEW_AREA, headers={"Authorization": f"Bearer {token}"}
        ),
        401,
    )


@pytest.mark.parametrize(
    ("auth", "why"),
    [
        (AuthSettings(env="production", issuer="https://id.example.org"), "needs"),
        (
            AuthSettings(
                env="production", issuer="https://id.example.org", jwks_url="http://id/jwks"
            ),
            "https",
        ),
        (
            AuthSettings(
                env="production",
                issuer="https://id.example.org",
                jwks_url="https://id/jwks",
                dev_issuer=True,
            ),
            "LIAISON_DEV_ISSUER",
        ),
        (AuthSettings(env="test", jwks_url="https://id/jwks", dev_issuer=True), "not both"),
    ],
)
def test_unsafe_token_settings_refuse_to_start(auth: AuthSettings, why: str) -> None:
    from gateway.app import create_app

    with pytest.raises(AuthConfigurationError, match=why):
        create_app(GatewaySettings(env=auth.env, auth=auth))


def test_the_dev_issuer_is_off_unless_enabled(
    settings: GatewaySettings, make_client: Callable[[GatewaySettings], TestClient], problem: Any
) -> None:
    plain = make_client(dataclasses.replace(settings, auth=AuthSettings(env="development")))
    problem(plain.post("/api/v1/dev/tokens", json={"account": "admin"}), 404)


def test_the_dev_secret_is_random_unless_set() -> None:
    one = AuthSettings(dev_issuer=True).with_secret()
    two = AuthSettings(dev_issuer=True).with_secret()
    assert one.dev_secret and two.dev_secret and one.dev_secret != two.dev_secret
    assert AuthSettings(dev_issuer=True, dev_secret="set").with_secret().dev_secret == "set"
