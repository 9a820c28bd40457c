"""Authentication and authorisation: who may read and write what."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from gateway.auth import DEMO_ACCOUNTS, Role
from gateway.config import GatewaySettings

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
    now = int(time.time())
    token = jwt.encode(
        {"sub": "a", "role": "admin", "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
         "iat": now - 100, "exp": now - 10},
        settings.jwt_dev_secret,
    )  # fmt: skip
    body = problem(
        client.post("/api/v1/areas", json=NEW_AREA, headers={"Authorization": f"Bearer {token}"}),
        401,
    )
    assert "expired" in body["detail"]


def test_unknown_role_is_401(client: TestClient, settings: GatewaySettings, problem: Any) -> None:
    token = jwt.encode(
        {"sub": "a", "role": "mayor", "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
         "exp": int(time.time()) + 60},
        settings.jwt_dev_secret,
    )  # fmt: skip
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
        ("patch", "/api/v1/areas/2", {"name": "x"}),
        ("patch", "/api/v1/areas/1", {"street_id": 2}),  # moving a record out of the street
        ("post", "/api/v1/areas/2:deactivate", {"reason": "merged"}),
        ("post", "/api/v1/stations", {"code": "t-9", "name": "x", "area_id": 2}),
        ("patch", "/api/v1/stations/2", {"name": "x"}),
        ("post", "/api/v1/positions", {"role": "street_paid_staff", "unit_id": 2}),
        ("post", "/api/v1/positions/2:vacate", {"reason": "retired"}),
        (
            "post",
            "/api/v1/budget-lines",
            {"unit_id": 2, "year": 2025, "kind": "personnel", "amount_yuan": 1},
        ),
        ("patch", "/api/v1/deputies/2", {"profession": "x"}),
        ("patch", "/api/v1/deputies/1", {"station_id": 2}),
        (
            "post",
            "/api/v1/deputies",
            {
                "code": "D9",
                "name": "x",
                "gender": "女",
                "level": "city",
                "street_id": 1,
                "station_id": 2,
            },
        ),  # fmt: skip
        ("post", "/api/v1/units", {"code": "u", "name": "district unit", "kind": "department"}),
        ("post", "/api/v1/streets", {"code": "new", "name": "新街道"}),
        ("post", "/api/v1/streets/1:deactivate", {"reason": "x"}),
    ],
)
def test_street_committee_outside_its_street_is_403_and_changes_nothing(
    client: TestClient,
    fake: Any,
    auth: Headers,
    problem: Any,
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    headers = auth("street-committee")
    before = {
        kind: {i: r.SerializeToString() for i, r in recs.items()}
        for kind, recs in fake.records.items()
    }
    problem(getattr(client, method)(path, json=body, headers=headers), 403)
    assert fake.writes() == []
    after = {
        kind: {i: r.SerializeToString() for i, r in recs.items()}
        for kind, recs in fake.records.items()
    }
    assert after == before


def test_deputy_contact_only_for_roles_that_need_it(client: TestClient, auth: Headers) -> None:
    def contacts(headers: dict[str, str]) -> dict[int, Any]:
        reply = client.get("/api/v1/deputies", headers=headers)
        assert reply.status_code == 200
        return {d["id"]: d["contact"] for d in reply.json()["items"]}

    assert contacts({}) == {1: None, 2: None}
    assert contacts(auth("constituent")) == {1: None, 2: None}
    assert contacts(auth("station-staff")) == {1: None, 2: None}
    street = contacts(auth("street-committee"))
    assert street[1]["phone"] == "13800000001" and street[2] is None
    office = contacts(auth("standing-committee-office"))
    assert office[1]["phone"] == "13800000001" and office[2]["phone"] == "13800000002"
    assert client.get("/api/v1/deputies/2", headers=auth("admin")).json()["contact"]["phone"]
    assert client.get("/api/v1/deputies/2").json()["contact"] is None
    assert "contact" not in client.get("/api/v1/deputies/2/profile").json()


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
        client.post(
            "/api/v1/rosters/deputies:import", files=files, headers=auth("street-committee")
        ),
        403,
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


def test_actor_metadata_reaches_the_registry(client: TestClient, fake: Any, auth: Headers) -> None:
    client.post("/api/v1/areas", json=NEW_AREA, headers=auth("street-committee"))
    metadata = fake.calls_to("CreateArea")[-1].metadata
    assert metadata["x-actor-role"] == "street_committee"
    assert metadata["x-actor-id"] == "demo:street-committee"
    assert metadata["x-actor-street-id"] == "1"


def test_demo_accounts_cover_every_role(client: TestClient) -> None:
    accounts = client.get("/api/v1/dev/accounts").json()
    assert {a["role"] for a in accounts} == {r.value for r in Role}
    scoped = {a["role"]: a["street_id"] for a in accounts if a["street_id"] is not None}
    assert scoped == {"street_committee": 1, "station_staff": 1}
    assert len(accounts) == len(DEMO_ACCOUNTS)


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
    prod = GatewaySettings(
        env="production",
        registry_target=settings.registry_target,
        jwt_jwks_url=jwks_url,
        jwt_issuer="https://id.example.org",
        jwt_audience="liaison",
        write_rate_per_minute=10_000,
    )
    return make_client(prod)


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
        settings.jwt_dev_secret,
    )  # fmt: skip
    problem(
        production.post(
            "/api/v1/areas", json=NEW_AREA, headers={"Authorization": f"Bearer {token}"}
        ),
        401,
    )


def test_production_needs_a_jwks_url() -> None:
    from gateway.app import create_app
    from gateway.config import ConfigurationError

    with pytest.raises(ConfigurationError):
        create_app(GatewaySettings(env="production"))
