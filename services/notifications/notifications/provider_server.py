"""`python -m notifications.provider_server --port N --record FILE [--key KEY]`:
the project's own SMS / WeChat template-message provider, for the local run
and the tests. A small real HTTP server (stdlib, one thread per request)
speaking the API `notifications.channels.ProviderChannel` calls:

    POST /v1/messages      Authorization: Bearer <key> (when --key is given)
                           Idempotency-Key: <the delivery id>  (required)
                           {"channel": "sms"|"wechat", "to": "...",
                            "template": "...", "params": {...}, "locale": "..."}
      200 {"id": "<message id>", "status": "accepted", "duplicate": false}
      400 {"error": "<what is wrong>"}    401 without the key

Every accepted message is one JSON line of the record file. A call repeating
an Idempotency-Key already accepted is answered with the first call's
message id (`"duplicate": true`) and not recorded again, also after a
restart (the record file is read at start).

Failure modes for tests, switched by `POST /admin/mode`
{"mode": ..., "times": n (default: until switched again), "delay": seconds}:

- `accept`   the default
- `error`    answer 500, record nothing
- `throttle` answer 429 with Retry-After, record nothing
- `timeout`  wait `delay` seconds (default 30), then answer 503, record nothing
- `hold`     record and accept the message, then hold the answer until
             `POST /admin/release` (or `delay` seconds): a sender killed
             while it waits is a sender killed in the residual window

`GET /admin/received` lists what was recorded and how many calls each
Idempotency-Key made; `GET /healthz` answers 200. It sends nothing to
anybody: it is a provider's stand-in, not a gateway to one.
"""

from __future__ import annotations

import argparse
import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MODES = ("accept", "error", "throttle", "timeout", "hold")
PROVIDED_CHANNELS = ("sms", "wechat")


class Provider:
    """The provider's state: what it accepted, by idempotency key, and its mode."""

    def __init__(self, record: Path, key: str = "") -> None:
        self.record = record
        self.key = key
        self.lock = threading.Lock()
        self.accepted: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, int] = {}
        self.mode = "accept"
        self.times = -1
        self.delay = 30.0
        self.released = threading.Event()
        if record.exists():
            for line in record.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    entry = json.loads(line)
                    self.accepted[entry["idempotency_key"]] = entry

    def set_mode(self, mode: str, times: int, delay: float) -> None:
        with self.lock:
            self.mode, self.times, self.delay = mode, times, delay
            self.released.clear()

    def next_mode(self) -> tuple[str, float]:
        """The mode this call meets (a counted mode runs out)."""
        with self.lock:
            mode, delay = self.mode, self.delay
            if self.times > 0:
                self.times -= 1
                if self.times == 0:
                    self.mode, self.times = "accept", -1
            return mode, delay

    def accept(self, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The entry of `key`'s message (recorded now unless it was before)."""
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            if key in self.accepted:
                return self.accepted[key], True
            entry = {
                "id": f"pm-{uuid.uuid4().hex[:20]}",
                "idempotency_key": key,
                "channel": body["channel"],
                "to": body["to"],
                "template": body["template"],
                "params": body.get("params") or {},
                "locale": body.get("locale", ""),
                "received_at": datetime.now(UTC).isoformat(),
            }
            with self.record.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.accepted[key] = entry
            return entry, False

    def count_call(self, key: str) -> None:
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1


def problem_of(body: Any) -> str | None:
    """What is wrong with a message's body, or None."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if body.get("channel") not in PROVIDED_CHANNELS:
        return f"channel must be one of {', '.join(PROVIDED_CHANNELS)}"
    for name in ("to", "template"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            return f"{name} is required"
    if not isinstance(body.get("params", {}), dict):
        return "params must be an object"
    return None


def handler_for(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # the record is the log: no contact in stderr

        def answer(self, status: int, body: dict[str, Any], **headers: str) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw or b"null")
            except ValueError:
                return None

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/healthz":
                self.answer(200, {"status": "ok"})
            elif self.path == "/admin/received":
                with provider.lock:
                    messages = list(provider.accepted.values())
                    calls = dict(provider.calls)
                self.answer(200, {"messages": messages, "calls": calls})
            else:
                self.answer(404, {"error": f"no such path: {self.path}"})

        def do_POST(self) -> None:  # noqa: N802
            if self.path == "/v1/messages":
                self.message()
            elif self.path == "/admin/mode":
                body = self.body() or {}
                mode = body.get("mode") if isinstance(body, dict) else None
                if mode not in MODES:
                    self.answer(400, {"error": f"mode must be one of {', '.join(MODES)}"})
                    return
                provider.set_mode(mode, int(body.get("times", -1)), float(body.get("delay", 30)))
                self.answer(200, {"mode": mode})
            elif self.path == "/admin/release":
                provider.released.set()
                self.answer(200, {"released": True})
            else:
                self.answer(404, {"error": f"no such path: {self.path}"})

        def message(self) -> None:
            body = self.body()
            if provider.key and self.headers.get("Authorization") != f"Bearer {provider.key}":
                self.answer(401, {"error": "a valid API key is required (Authorization: Bearer)"})
                return
            key = (self.headers.get("Idempotency-Key") or "").strip()
            if not key:
                self.answer(400, {"error": "the Idempotency-Key header is required"})
                return
            problem = problem_of(body)
            if problem:
                self.answer(400, {"error": problem})
                return
            mode, delay = provider.next_mode()
            if mode == "error":
                provider.count_call(key)
                self.answer(500, {"error": "the provider failed (error mode)"})
            elif mode == "throttle":
                provider.count_call(key)
                self.answer(429, {"error": "too many requests"}, Retry_After="1")
            elif mode == "timeout":
                provider.count_call(key)
                provider.released.wait(delay)
                self.answer(503, {"error": "the provider timed out (timeout mode)"})
            else:
                entry, duplicate = provider.accept(key, body)
                if mode == "hold" and not duplicate:
                    provider.released.wait(delay)
                self.answer(200, {"id": entry["id"], "status": "accepted", "duplicate": duplicate})

    return Handler


def serve(port: int, record: Path, key: str = "", host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """The server, bound (port 0: any free port), not yet serving."""
    record.parent.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer((host, port), handler_for(Provider(record, key)))
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m notifications.provider_server")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--record", type=Path, required=True, help="the JSON-lines record file")
    parser.add_argument("--key", default="", help="the API key callers must present")
    args = parser.parse_args(argv)
    server = serve(args.port, args.record, args.key, args.host)
    print(f"provider server listening on {args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
