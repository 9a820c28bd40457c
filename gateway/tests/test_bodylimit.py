"""Request body limits: refused before the body is parsed, as problem+json."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.datastructures import UploadFile

from gateway.app import create_app
from gateway.config import GatewaySettings
from kit.testrun import free_port

Headers = Callable[[str], dict[str, str]]
BOUNDARY = "roster-boundary"


@pytest.fixture
def small(settings: GatewaySettings) -> GatewaySettings:
    """A gateway that takes 1 KB bodies, and 8 KB on the roster import."""
    return dataclasses.replace(settings, max_body_bytes=1024, max_upload_bytes=8 * 1024)


@pytest.fixture
def small_client(
    fake: Any, small: GatewaySettings, make_client: Callable[[GatewaySettings], TestClient]
) -> TestClient:
    return make_client(small)


def _bearer(client: TestClient, account: str = "admin") -> dict[str, str]:
    token = client.post("/api/v1/dev/tokens", json={"account": account}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _multipart(content: bytes, filename: str = "deputies.csv") -> bytes:
    return (
        (
            f"--{BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


@dataclass
class Exchange:
    """One request driven straight through the ASGI app, chunk by chunk."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks_pulled: int = 0
    bytes_pulled: int = 0

    def json(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


def _drive(
    app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: list[bytes]
) -> Exchange:
    """Send `chunks` as a streamed body (no Content-Length unless given), and
    record how much of it the app pulled before answering."""
    exchange = Exchange()
    pending = list(chunks)

    async def receive() -> dict[str, Any]:
        if not pending:
            return {"type": "http.disconnect"}
        chunk = pending.pop(0)
        exchange.chunks_pulled += 1
        exchange.bytes_pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            exchange.status = message["status"]
            exchange.headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            exchange.body += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return exchange


def _assert_413_problem(exchange: Exchange, path: str, limit: int) -> None:
    assert exchange.status == 413
    assert exchange.headers["content-type"].startswith("application/problem+json")
    assert exchange.headers["connection"] == "close"
    body = exchange.json()
    assert body["type"] == "/problems/payload-too-large"
    assert body["status"] == 413
    assert body["instance"] == path
    assert body["request_id"] == exchange.headers["x-request-id"]
    assert str(limit) in body["detail"]


def test_a_declared_length_over_the_limit_is_refused_unread(
    fake: Any, small: GatewaySettings, small_client: TestClient
) -> None:
    headers = {**_bearer(small_client), "content-type": "application/json"}
    exchange = _drive(
        small_client.app,  # type: ignore[arg-type]
        "POST",
        "/api/v1/streets",
        {**headers, "content-length": "5000"},
        [b"x" * 5000],
    )
    _assert_413_problem(exchange, "/api/v1/streets", 1024)
    assert exchange.chunks_pulled == 0
    assert fake.writes() == []


def test_a_chunked_body_is_cut_off_at_the_limit(
    fake: Any, small: GatewaySettings, small_client: TestClient
) -> None:
    headers = {**_bearer(small_client), "content-type": "application/json"}
    chunks = [b'{"code": "a", "name": "'] + [b"x" * 100] * 50 + [b'"}']
    exchange = _drive(
        small_client.app,  # type: ignore[arg-type]
        "POST",
        "/api/v1/streets",
        headers,
        chunks,
    )
    _assert_413_problem(exchange, "/api/v1/streets", 1024)
    # Reading stopped with the chunk that crossed 1 KB; the rest never came in.
    assert 1024 < exchange.bytes_pulled <= 1024 + 100
    assert exchange.chunks_pulled < len(chunks)
    assert fake.writes() == []


def test_a_streamed_upload_over_its_limit_never_reaches_the_disk(
    fake: Any,
    small: GatewaySettings,
    small_client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spooled: list[int] = []
    original_write = UploadFile.write

    async def counting_write(self: UploadFile, data: bytes) -> None:
        spooled.append(len(data))
        await original_write(self, data)

    monkeypatch.setattr(UploadFile, "write", counting_write)
    body = _multipart(b"code,name\n" + b"D1,x\n" * 10_000)
    chunks = [body[i : i + 512] for i in range(0, len(body), 512)]
    headers = {
        **_bearer(small_client),
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
    }
    exchange = _drive(
        small_client.app,  # type: ignore[arg-type]
        "POST",
        "/api/v1/rosters/deputies:import",
        headers,
        chunks,
    )
    _assert_413_problem(exchange, "/api/v1/rosters/deputies:import", 8 * 1024)
    assert sum(spooled) <= 8 * 1024
    assert exchange.bytes_pulled <= 8 * 1024 + 512
    assert fake.writes() == []


def test_the_roster_import_has_its_own_larger_limit(
    fake: Any, small_client: TestClient, problem: Any
) -> None:
    headers = _bearer(small_client)
    roster = b"code,name\n" + b"D1,x\n" * 1000  # 5 KB: over 1 KB, under 8 KB
    files = {"file": ("deputies.csv", roster, "text/csv")}
    reply = small_client.post("/api/v1/rosters/deputies:import", files=files, headers=headers)
    assert reply.status_code == 200, reply.text
    assert fake.calls_to("ImportRoster")[-1].request.content == roster
    # The same size anywhere else is over the default limit.
    big = {"code": "big", "name": "x" * 5000}
    body = problem(small_client.post("/api/v1/streets", json=big, headers=headers), 413)
    assert "1024 bytes" in body["detail"]


def test_an_upload_over_its_limit_is_413(fake: Any, small_client: TestClient, problem: Any) -> None:
    files = {"file": ("deputies.csv", b"D1,x\n" * 4000, "text/csv")}
    reply = small_client.post(
        "/api/v1/rosters/deputies:import", files=files, headers=_bearer(small_client)
    )
    problem(reply, 413)
    assert fake.writes() == []


@pytest.mark.parametrize("declared", ["lots", "-1", "\u00b2", "1e3"])
def test_a_malformed_content_length_is_400(small_client: TestClient, declared: str) -> None:
    headers = {**_bearer(small_client), "content-type": "application/json"}
    exchange = _drive(
        small_client.app,  # type: ignore[arg-type]
        "POST",
        "/api/v1/streets",
        {**headers, "content-length": declared},
        [b"{}"],
    )
    assert exchange.status == 400
    assert exchange.json()["type"] == "/problems/bad-request"
    assert exchange.chunks_pulled == 0


def test_openapi_documents_413_and_400_on_operations_with_a_body(
    small_client: TestClient,
) -> None:
    paths = small_client.get("/openapi.json").json()["paths"]
    create = paths["/api/v1/streets"]["post"]["responses"]
    assert "1024 bytes" in create["413"]["description"]
    assert list(create["413"]["content"]) == ["application/problem+json"]
    assert "400" in create
    upload = paths["/api/v1/rosters/{kind}:import"]["post"]["responses"]
    assert "8192 bytes" in upload["413"]["description"]
    assert "413" not in paths["/api/v1/streets"]["get"]["responses"]


# ---------------------------------------------------------------- over a socket


@pytest.fixture
def served(small: GatewaySettings, fake: Any) -> Iterator[str]:
    """The small gateway on a real uvicorn server, for what only a socket shows."""
    port = free_port()
    config = uvicorn.Config(
        create_app(small), host="127.0.0.1", port=port, log_config=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "uvicorn did not start"
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_server_answers_a_too_large_declaration_without_waiting_for_the_body(
    served: str,
) -> None:
    host, port = served.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        # Declares 100 MB and sends none of it: only a refusal on the header
        # can answer (a server waiting for the body would hit the timeout).
        conn.sendall(
            b"POST /api/v1/streets HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
        )
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            data = conn.recv(65536)
            if not data:
                break
            reply += data
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"application/problem+json" in head.lower()
    assert json.loads(body)["status"] == 413


def test_the_server_cuts_off_a_chunked_body(served: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"code": "a", "name": "'
        for _ in range(40):
            yield b"x" * 100
        yield b'"}'

    with httpx.Client(base_url=f"http://{served}", timeout=10) as http:
        token = http.post("/api/v1/dev/tokens", json={"account": "admin"}).json()
        reply = http.post(
            "/api/v1/streets",
            content=chunks(),
            headers={
                "Authorization": f"Bearer {token['access_token']}",
                "Content-Type": "application/json",
            },
        )
    assert reply.request.headers["transfer-encoding"] == "chunked"
    assert reply.status_code == 413
    assert reply.json()["type"] == "/problems/payload-too-large"
