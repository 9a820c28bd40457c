"""The gRPC bootstrap against a real server on a free port.

The registry's service definition stands in for any service, so no test
protos are needed: a partial RegistryServiceServicer raises domain errors,
crashes or sleeps on cue. A generic byte-level handler covers server streams.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from prometheus_client import REGISTRY

from kit import errors, grpc_client, grpc_server
from kit.grpc_server import CORRELATION_ID_KEY, ServerInterceptor, build_server, remaining_deadline
from kit.logging import configure_logging, correlation_scope, get_correlation_id
from kit.settings import Settings
from kit.testrun import free_port
from liaison.registry.v1 import registry_pb2, registry_pb2_grpc

SERVICE = registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name
STREAM_SERVICE = "kit.test.Echo"
SECRET = "password=hunter2 at db.internal:5432"


class Servicer(registry_pb2_grpc.RegistryServiceServicer):
    """GetStreet by id: 1 found, 404 NotFound, 422 InvalidArgument, 7 slow, 9 abort."""

    def __init__(self) -> None:
        self.seen: list[tuple[str | None, float | None]] = []

    def GetStreet(self, request: registry_pb2.GetRequest, context: Any) -> registry_pb2.Street:
        self.seen.append((get_correlation_id(), remaining_deadline()))
        logging.getLogger("registry.test").info("handling", extra={"street_id": request.id})
        if request.id == 404:
            raise errors.NotFound("street 404 does not exist")
        if request.id == 422:
            raise errors.InvalidArgument(
                "street is invalid",
                [
                    errors.FieldViolation("street.code", "is required"),
                    errors.FieldViolation("street.name", "is too long"),
                ],
            )
        if request.id == 7:
            time.sleep(0.5)
        if request.id == 9:
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down")
        return registry_pb2.Street(id=request.id, code="linhe", name="林和街道", active=True)

    def ListStreets(self, request: registry_pb2.ListStreetsRequest, context: Any) -> Any:
        raise RuntimeError(SECRET)


def _repeat(request: bytes, context: Any) -> Iterator[bytes]:
    """Server stream: b"3" yields the correlation id 3 times; b"fail" fails after one."""
    if request == b"fail":
        yield b"first"
        raise errors.NotFound("gone mid-stream")
    for _ in range(int(request)):
        yield (get_correlation_id() or "").encode()


def _register(servicer: Servicer) -> Callable[[grpc.Server], None]:
    def register(server: grpc.Server) -> None:
        registry_pb2_grpc.add_RegistryServiceServicer_to_server(servicer, server)
        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    STREAM_SERVICE, {"Repeat": grpc.unary_stream_rpc_method_handler(_repeat)}
                ),
            )
        )

    return register


def _settings(**overrides: Any) -> Settings:
    return dataclasses.replace(
        Settings.load("registry", "api"), log_format="json", log_level="INFO", **overrides
    )


def _wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _labels(method: str, grpc_type: str = "unary", service: str = SERVICE) -> dict[str, str]:
    return {"grpc_type": grpc_type, "grpc_service": service, "grpc_method": method}


@pytest.fixture
def app() -> Iterator[SimpleNamespace]:
    """A started server; `ready` drives readiness, `logs()` parses its log lines."""
    settings = _settings()
    root = logging.getLogger()
    level = root.level
    configure_logging(settings)
    buffer = io.StringIO()
    (handler,) = [h for h in root.handlers if getattr(h, "_kit_handler", False)]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)

    ready = threading.Event()
    servicer = Servicer()
    server, health = build_server(
        settings,
        register=_register(servicer),
        service_names=[SERVICE, STREAM_SERVICE],
        readiness=ready.is_set,
        max_workers=8,
        readiness_interval=0.05,
        anonymous=[f"/{STREAM_SERVICE}/Repeat"],
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    target = f"127.0.0.1:{port}"
    raw = grpc.insecure_channel(target)

    def logs() -> list[dict[str, Any]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield SimpleNamespace(
        target=target,
        settings=settings,
        ready=ready,
        health=health,
        servicer=servicer,
        raw=raw,
        stub=registry_pb2_grpc.RegistryServiceStub(raw),
        logs=logs,
    )
    raw.close()
    health.stop()
    server.stop(0).wait()
    root.removeHandler(handler)
    root.setLevel(level)


def _call_lines(app: SimpleNamespace, method: str) -> list[dict[str, Any]]:
    return [line for line in app.logs() if line.get("method") == method]


# ---------------------------------------------------------------- health and reflection


def _health_status(app: SimpleNamespace, service: str) -> int:
    stub = health_pb2_grpc.HealthStub(app.raw)
    response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
    return int(response.status)


def test_health_follows_readiness(app: SimpleNamespace) -> None:
    serving, not_serving = (
        health_pb2.HealthCheckResponse.SERVING,
        health_pb2.HealthCheckResponse.NOT_SERVING,
    )
    liveness = grpc_server.LIVENESS_SERVICE
    # Not ready yet: every name reports NOT_SERVING, the server as a whole too;
    # the process itself serves, so liveness holds from the start.
    time.sleep(0.2)
    assert _health_status(app, "") == not_serving
    assert _health_status(app, SERVICE) == not_serving
    assert _health_status(app, liveness) == serving

    app.ready.set()
    assert _wait_for(lambda: _health_status(app, SERVICE) == serving)
    assert _health_status(app, "") == serving
    assert app.health.serving

    # The database goes away: out of the Services, but alive (no restart).
    app.ready.clear()
    assert _wait_for(lambda: _health_status(app, SERVICE) == not_serving)
    assert _health_status(app, "") == not_serving
    assert _health_status(app, liveness) == serving

    app.ready.set()
    assert _wait_for(lambda: _health_status(app, "") == serving)
    # Stopping reports NOT_SERVING for good, whatever readiness says.
    app.health.stop()
    assert _health_status(app, "") == not_serving
    assert _health_status(app, SERVICE) == not_serving
    assert _health_status(app, liveness) == not_serving
    assert not app.health.serving


def test_readiness_that_raises_is_not_ready() -> None:
    def broken() -> bool:
        raise ConnectionError("database unreachable")

    health = grpc_server.ReadinessHealthServicer([SERVICE], broken, interval=60)
    assert health.check_now() is False
    assert not health.serving


def test_unknown_health_service_is_not_found(app: SimpleNamespace) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        _health_status(app, "liaison.nothing.v1.Nothing")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_the_services(app: SimpleNamespace) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(app.raw)
    responses = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=2
    )
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names


def test_reflection_is_off_in_production() -> None:
    server, health = build_server(
        _settings(env="production"),
        register=_register(Servicer()),
        service_names=[SERVICE],
        readiness=lambda: True,
        readiness_interval=60,
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            with pytest.raises(grpc.RpcError) as caught:
                list(
                    stub.ServerReflectionInfo(
                        iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                        timeout=2,
                    )
                )
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
            # Health is still there.
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=grpc_server.LIVENESS_SERVICE), timeout=2
            )
            assert response.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        health.stop()
        server.stop(0).wait()


# ---------------------------------------------------------------- errors


def test_not_found_carries_code_and_details(app: SimpleNamespace) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        app.stub.GetStreet(registry_pb2.GetRequest(id=404), timeout=2)
    call = caught.value
    assert call.code() == grpc.StatusCode.NOT_FOUND
    assert call.details() == "street 404 does not exist"
    status = rpc_status.from_call(call)
    assert status is not None
    assert status.message == "street 404 does not exist"
    infos = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            infos.append(info)
    assert [(i.reason, i.domain) for i in infos] == [("NOT_FOUND", "registry.liaison")]
    assert errors.violations_from_status(status) == []


def test_invalid_argument_carries_the_violations(app: SimpleNamespace) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        app.stub.GetStreet(registry_pb2.GetRequest(id=422), timeout=2)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(caught.value)
    assert status is not None
    assert errors.violations_from_status(status) == [
        errors.FieldViolation("street.code", "is required"),
        errors.FieldViolation("street.name", "is too long"),
    ]
    (line,) = _call_lines(app, f"/{SERVICE}/GetStreet")
    assert line["code"] == "INVALID_ARGUMENT"
    assert line["level"] == "INFO"


def test_unexpected_exception_is_internal_without_internals(app: SimpleNamespace) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        app.stub.ListStreets(registry_pb2.ListStreetsRequest(), timeout=2)
    call = caught.value
    assert call.code() == grpc.StatusCode.INTERNAL
    details = call.details()
    for leak in ("hunter2", "db.internal", "RuntimeError", "Traceback", "Exception calling"):
        assert leak not in details
    cid = dict(call.trailing_metadata())[CORRELATION_ID_KEY]
    assert cid in details
    assert all(SECRET not in str(value) for _, value in call.trailing_metadata())
    # The traceback is in the log instead, under the same correlation id.
    (line,) = _call_lines(app, f"/{SERVICE}/ListStreets")
    assert line["level"] == "ERROR"
    assert line["code"] == "INTERNAL"
    assert line["correlation_id"] == cid
    assert "RuntimeError" in line["exc_info"]
    assert SECRET in line["exc_info"]


def test_handler_abort_keeps_its_status(app: SimpleNamespace) -> None:
    labels = _labels("GetStreet")
    before = _sample("grpc_server_handled_total", **labels, grpc_code="ResourceExhausted")
    with pytest.raises(grpc.RpcError) as caught:
        app.stub.GetStreet(registry_pb2.GetRequest(id=9), timeout=2)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert caught.value.details() == "slow down"
    assert CORRELATION_ID_KEY in dict(caught.value.trailing_metadata())
    after = _sample("grpc_server_handled_total", **labels, grpc_code="ResourceExhausted")
    assert after == before + 1


def test_unknown_method_is_unimplemented(app: SimpleNamespace) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        app.stub.GetArea(registry_pb2.GetRequest(id=1), timeout=2)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED


# ---------------------------------------------------------------- correlation id


def test_correlation_id_travels_from_client_to_server(app: SimpleNamespace) -> None:
    with grpc_client.channel(app.target, app.settings) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        with correlation_scope("req-abc-123"):
            street, call = stub.GetStreet.with_call(registry_pb2.GetRequest(id=1))
        assert get_correlation_id() is None
    assert street.name == "林和街道"
    assert app.servicer.seen[-1][0] == "req-abc-123"
    assert dict(call.trailing_metadata())[CORRELATION_ID_KEY] == "req-abc-123"

    # The handler's own log line and the call's line both carry it.
    handler_line = next(line for line in app.logs() if line["logger"] == "registry.test")
    assert handler_line["correlation_id"] == "req-abc-123"
    (line,) = _call_lines(app, f"/{SERVICE}/GetStreet")
    assert line["correlation_id"] == "req-abc-123"
    assert line["code"] == "OK"
    assert line["grpc_type"] == "unary"
    assert line["service"] == "registry"
    assert line["process"] == "api"
    assert isinstance(line["duration_ms"], float | int)
    assert line["duration_ms"] >= 0
    assert line["peer"].startswith("ipv4:127.0.0.1:")


def test_a_new_correlation_id_when_absent(app: SimpleNamespace) -> None:
    _, call = app.stub.GetStreet.with_call(registry_pb2.GetRequest(id=1), timeout=2)
    cid = app.servicer.seen[-1][0]
    assert cid is not None
    assert re.fullmatch(r"[0-9a-f]{32}", cid)
    assert dict(call.trailing_metadata())[CORRELATION_ID_KEY] == cid
    _, second = app.stub.GetStreet.with_call(registry_pb2.GetRequest(id=1), timeout=2)
    assert dict(second.trailing_metadata())[CORRELATION_ID_KEY] != cid


def test_a_malformed_correlation_id_is_replaced(app: SimpleNamespace) -> None:
    for bad in ('x" {"level": "forged"}', "a" * 129):
        app.stub.GetStreet(
            registry_pb2.GetRequest(id=1), timeout=2, metadata=((CORRELATION_ID_KEY, bad),)
        )
        cid = app.servicer.seen[-1][0]
        assert cid is not None
        assert re.fullmatch(r"[0-9a-f]{32}", cid)


def test_server_stream_keeps_the_correlation_id_per_message(app: SimpleNamespace) -> None:
    labels = _labels("Repeat", "server_stream", STREAM_SERVICE)
    before = _sample("grpc_server_handled_total", **labels, grpc_code="OK")
    repeat = app.raw.unary_stream(f"/{STREAM_SERVICE}/Repeat")
    call = repeat(b"3", timeout=2, metadata=((CORRELATION_ID_KEY, "stream-1"),))
    assert list(call) == [b"stream-1"] * 3
    assert dict(call.trailing_metadata())[CORRELATION_ID_KEY] == "stream-1"
    assert _sample("grpc_server_handled_total", **labels, grpc_code="OK") == before + 1
    # Nothing leaks into the thread that drove the generator.
    assert get_correlation_id() is None


def test_server_stream_domain_error_mid_stream(app: SimpleNamespace) -> None:
    labels = _labels("Repeat", "server_stream", STREAM_SERVICE)
    before = _sample("grpc_server_handled_total", **labels, grpc_code="NotFound")
    repeat = app.raw.unary_stream(f"/{STREAM_SERVICE}/Repeat")
    call = repeat(b"fail", timeout=2)
    received = []
    with pytest.raises(grpc.RpcError) as caught:
        for item in call:
            received.append(item)
    assert received == [b"first"]
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "gone mid-stream"
    assert _sample("grpc_server_handled_total", **labels, grpc_code="NotFound") == before + 1


def test_aio_channel_propagates_the_correlation_id(app: SimpleNamespace) -> None:
    labels = _labels("GetStreet")
    before = _sample("grpc_client_handled_total", **labels, grpc_code="NotFound")

    async def run() -> tuple[str, grpc.StatusCode]:
        async with grpc_client.aio_channel(app.target, app.settings) as channel:
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            with correlation_scope("aio-7"):
                call = stub.GetStreet(registry_pb2.GetRequest(id=1))
                await call
                trailing = await call.trailing_metadata()
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    await stub.GetStreet(registry_pb2.GetRequest(id=404))
            # Let the metric recorder see the call end.
            await asyncio.sleep(0.05)
            return dict(trailing)[CORRELATION_ID_KEY], caught.value.code()

    echoed, code = asyncio.run(run())
    assert echoed == "aio-7"
    assert app.servicer.seen[-2][0] == "aio-7"
    assert code == grpc.StatusCode.NOT_FOUND
    after = _sample("grpc_client_handled_total", **labels, grpc_code="NotFound")
    assert after == before + 1


# ---------------------------------------------------------------- metrics


def test_server_and_client_metrics_count_calls(app: SimpleNamespace) -> None:
    labels = _labels("GetStreet")
    handled = {
        code: _sample("grpc_server_handled_total", **labels, grpc_code=code)
        for code in ("OK", "NotFound")
    }
    client_ok = _sample("grpc_client_handled_total", **labels, grpc_code="OK")
    client_started = _sample("grpc_client_started_total", **labels)
    started = _sample("grpc_server_started_total", **labels)
    observed = _sample("grpc_server_handling_seconds_count", **labels)

    with grpc_client.channel(app.target, app.settings) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        stub.GetStreet(registry_pb2.GetRequest(id=1))
        stub.GetStreet(registry_pb2.GetRequest(id=2))
        with pytest.raises(grpc.RpcError):
            stub.GetStreet(registry_pb2.GetRequest(id=404))

    assert _sample("grpc_server_started_total", **labels) == started + 3
    assert _sample("grpc_server_handled_total", **labels, grpc_code="OK") == handled["OK"] + 2
    assert (
        _sample("grpc_server_handled_total", **labels, grpc_code="NotFound")
        == handled["NotFound"] + 1
    )
    assert _sample("grpc_server_handling_seconds_count", **labels) == observed + 3
    assert _wait_for(
        lambda: _sample("grpc_client_handled_total", **labels, grpc_code="OK") == client_ok + 2
    )
    assert _sample("grpc_client_started_total", **labels) == client_started + 3


# ---------------------------------------------------------------- deadlines


def test_deadline_reaches_the_handler(app: SimpleNamespace) -> None:
    app.stub.GetStreet(registry_pb2.GetRequest(id=1), timeout=3)
    _, remaining = app.servicer.seen[-1]
    assert remaining is not None
    # The wire format rounds the timeout up a little, so allow a margin above 3 s.
    assert 0 < remaining <= 3.1
    # No deadline from the client: none for the handler either.
    app.stub.GetStreet(registry_pb2.GetRequest(id=1))
    assert app.servicer.seen[-1][1] is None
    assert remaining_deadline() is None


def test_a_deadline_that_passes_gives_deadline_exceeded(app: SimpleNamespace) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        app.stub.GetStreet(registry_pb2.GetRequest(id=7), timeout=0.1)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    labels = _labels("GetStreet")
    # The server notices after the handler returns and counts what the client saw.
    assert _wait_for(
        lambda: (
            _call_lines(app, f"/{SERVICE}/GetStreet")[-1:] != []
            and _call_lines(app, f"/{SERVICE}/GetStreet")[-1]["code"] == "DEADLINE_EXCEEDED"
        )
    )
    assert _sample("grpc_server_handled_total", **labels, grpc_code="DeadlineExceeded") >= 1


def test_client_default_deadline_applies(app: SimpleNamespace) -> None:
    with grpc_client.channel(app.target, _settings(grpc_deadline_seconds=0.1)) as channel:
        stub = registry_pb2_grpc.RegistryServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetStreet(registry_pb2.GetRequest(id=7))
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # An explicit timeout wins over the default.
        assert stub.GetStreet(registry_pb2.GetRequest(id=7), timeout=3).id == 7


def test_client_deadline_never_outlives_the_inbound_call(app: SimpleNamespace) -> None:
    # As if handling a call with 0.1 s left: an onward call may not take 5 s.
    token = grpc_server._deadline.set(time.monotonic() + 0.1)
    try:
        with grpc_client.channel(app.target, app.settings) as channel:
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            with pytest.raises(grpc.RpcError) as caught:
                stub.GetStreet(registry_pb2.GetRequest(id=7))
    finally:
        grpc_server._deadline.reset(token)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


class _ExpiredContext:
    """A servicer context whose deadline has already passed."""

    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, str] | None = None
        self.trailing: tuple[tuple[str, str], ...] = ()

    def time_remaining(self) -> float:
        return 0.0

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1"

    def trailing_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.trailing

    def set_trailing_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.trailing = metadata

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.aborted = (code, details)
        raise Exception()  # as grpcio's abort does


def test_an_expired_deadline_fails_before_the_handler() -> None:
    ran: list[bool] = []

    def handler(request: Any, context: Any) -> bytes:
        ran.append(True)
        return b"done"

    details = SimpleNamespace(
        method="/kit.test.Expired/Call",
        invocation_metadata=((CORRELATION_ID_KEY, "late-1"),),
    )
    intercepted = ServerInterceptor("registry").intercept_service(
        lambda _: grpc.unary_unary_rpc_method_handler(handler), details
    )
    assert intercepted is not None
    labels = _labels("Call", "unary", "kit.test.Expired")
    before = _sample("grpc_server_handled_total", **labels, grpc_code="DeadlineExceeded")
    context = _ExpiredContext()
    with pytest.raises(Exception):  # noqa: B017 - grpcio's abort raises a bare Exception
        intercepted.unary_unary(b"request", context)
    assert ran == []
    assert context.aborted is not None
    assert context.aborted[0] == grpc.StatusCode.DEADLINE_EXCEEDED
    assert dict(context.trailing)[CORRELATION_ID_KEY] == "late-1"
    after = _sample("grpc_server_handled_total", **labels, grpc_code="DeadlineExceeded")
    assert after == before + 1


# ---------------------------------------------------------------- serve()

SERVE_SCRIPT = textwrap.dedent(
    """
    import sys
    import time

    from liaison.registry.v1 import registry_pb2, registry_pb2_grpc

    from kit.grpc_server import serve
    from kit.settings import Settings


    class Slow(registry_pb2_grpc.RegistryServiceServicer):
        def GetStreet(self, request, context):
            time.sleep(1.0)
            return registry_pb2.Street(id=request.id)


    serve(
        Settings.load("registry", "api"),
        register=lambda server: registry_pb2_grpc.add_RegistryServiceServicer_to_server(
            Slow(), server
        ),
        service_names=[sys.argv[1]],
        readiness=lambda: True,
        on_stop=lambda: print("on_stop called", flush=True),
        grace=5.0,
    )
    """
)


def test_serve_runs_until_sigterm_and_drains(tmp_path: Path) -> None:
    script = tmp_path / "serve.py"
    script.write_text(SERVE_SCRIPT)
    grpc_port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "LIAISON_GRPC_PORT": str(grpc_port),
        "LIAISON_METRICS_PORT": str(metrics_port),
        "LIAISON_LOG_FORMAT": "json",
        "PYTHONWARNINGS": "ignore",
    }
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(script), SERVICE],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=env,
        )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)

            def serving() -> bool:
                try:
                    response = health.Check(health_pb2.HealthCheckRequest(service=SERVICE))
                except grpc.RpcError:
                    return False
                return bool(response.status == health_pb2.HealthCheckResponse.SERVING)

            assert _wait_for(serving, timeout=15), stderr_path.read_text()
            with urllib.request.urlopen(
                f"http://127.0.0.1:{metrics_port}/readyz", timeout=2
            ) as response:
                assert response.status == 200

            # A call in flight when SIGTERM arrives still completes.
            stub = registry_pb2_grpc.RegistryServiceStub(channel)
            in_flight = stub.GetStreet.future(registry_pb2.GetRequest(id=5), timeout=10)
            time.sleep(0.3)
            process.send_signal(signal.SIGTERM)
            assert in_flight.result().id == 5
            assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stdout is not None
    assert "on_stop called" in process.stdout.read()
    lines = [json.loads(line) for line in stderr_path.read_text().splitlines() if line.strip()]
    messages = [line["message"] for line in lines]
    assert "grpc server listening" in messages
    assert "grpc server stopped" in messages
    call_line = next(line for line in lines if line.get("method", "").endswith("/GetStreet"))
    assert call_line["code"] == "OK"
    assert call_line["service"] == "registry"
