"""Throwaway PostgreSQL databases, free ports, a RabbitMQ helper and the
platform's processes, for tests and benchmarks. The pytest fixtures over
them are in `kit.pytest_plugin`; `bench/` uses this module directly.

| variable                   | default                                          |
|----------------------------|--------------------------------------------------|
| LIAISON_TEST_POSTGRES_URL  | postgresql://postgres@127.0.0.1:5432/postgres: a role that may create and drop databases |
| LIAISON_TEST_AMQP_URI      | amqp://guest:guest@127.0.0.1:5672/               |

Nothing here skips: a server that cannot be reached is a ServerUnavailable
error saying where it looked and which variable points elsewhere.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from kit.companions import Companion, companions_of, wait_port
from kit.services import SERVICES, Service, service
from kit.settings import read_str

ROOT = Path(__file__).resolve().parents[3]

_DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
_DEFAULT_AMQP = "amqp://guest:guest@127.0.0.1:5672/"
_DATABASE_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class ServerUnavailable(RuntimeError):
    """PostgreSQL or RabbitMQ cannot be reached; the message says where and how to fix it."""


def postgres_admin_url() -> str:
    return read_str("LIAISON_TEST_POSTGRES_URL", _DEFAULT_POSTGRES)


def amqp_uri() -> str:
    return read_str("LIAISON_TEST_AMQP_URI", _DEFAULT_AMQP)


def redacted(url: str) -> str:
    """The URL without its password, fit for a message."""
    return make_url(url).render_as_string(hide_password=True)


def unique_suffix() -> str:
    return uuid.uuid4().hex[:12]


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A local TCP port nothing listens on now, and not handed out before by
    this process: the kernel may give a port it gave a moment ago again, and
    the process that was to listen on it may not have bound it yet (a
    platform's ports are all chosen before its processes start)."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


# ------------------------------------------------------------------ tokens


class DevTokens:
    """The development issuer with a secret of this test run, for tests that
    serve a service in process: `auth` for its settings, `token(...)` for a
    demo account by name (kit.auth.DEMO_ACCOUNTS) or for any claims."""

    def __init__(self) -> None:
        from kit.auth import AuthSettings, DevIssuer

        self.auth = AuthSettings(env="test", dev_issuer=True).with_secret()
        self._issuer = DevIssuer(self.auth)

    def token(self, who: str | dict[str, Any]) -> str:
        from kit.auth import DEMO_ACCOUNTS

        if isinstance(who, dict):
            return self._issuer.sign(who)
        (account,) = [a for a in DEMO_ACCOUNTS if a.account == who]
        return self._issuer.issue(account)


# ------------------------------------------------------------------ gRPC in process


def refused(call: Callable[[], Any], code: Any) -> Any:
    """`call` fails with the gRPC status `code`; its error, to read further."""
    import grpc
    import pytest

    with pytest.raises(grpc.RpcError) as caught:
        call()
    assert caught.value.code() is code, caught.value.details()
    return caught.value


def field_errors(error: Any) -> dict[str, str]:
    """A refused call's field violations, by field."""
    from grpc_status import rpc_status

    from kit.errors import violations_from_status

    status = rpc_status.from_call(error)
    assert status is not None
    return {v.field: v.description for v in violations_from_status(status)}


@contextlib.contextmanager
def serving(
    settings: Any,
    register: Callable[[Any], None],
    service_names: list[str],
    readiness: Callable[[], bool],
    on_stop: Callable[[], None] | None = None,
) -> Iterator[tuple[Any, str]]:
    """A service's gRPC api served in this process (kit's server: auth,
    errors, health, metrics) on a free port; a channel to it and its
    address while the block runs. `settings` are the service's own, with
    the test's auth; `on_stop` runs before the server stops (to end its
    long calls)."""
    import dataclasses

    import grpc

    from kit.grpc_server import build_server

    server, health = build_server(
        dataclasses.replace(settings, grpc_port=0),
        register=register,
        service_names=service_names,
        readiness=readiness,
        max_workers=8,
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    target = f"127.0.0.1:{port}"
    channel = grpc.insecure_channel(target)
    try:
        grpc.channel_ready_future(channel).result(timeout=10)
        yield channel, target
    finally:
        channel.close()
        health.stop()
        if on_stop is not None:
            on_stop()
        server.stop(0).wait()


# ------------------------------------------------------------------ PostgreSQL


def _admin_connection(admin_url: str) -> Any:
    import psycopg

    conninfo = make_url(admin_url).set(drivername="postgresql")
    try:
        return psycopg.connect(
            conninfo.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
        )
    except psycopg.OperationalError as exc:
        raise ServerUnavailable(
            f"PostgreSQL is not reachable at {redacted(admin_url)} ({str(exc).strip()}). These tests need a "
            "running server with a role that may create databases: start it (make test does, "
            "with scripts/services.sh), or set LIAISON_TEST_POSTGRES_URL."
        ) from None


def check_postgres(admin_url: str | None = None) -> str:
    """The admin URL, once a connection to it worked; ServerUnavailable if not."""
    admin_url = admin_url or postgres_admin_url()
    with _admin_connection(admin_url) as conn:
        conn.execute("SELECT 1")
    return admin_url


@contextlib.contextmanager
def throwaway_database(
    prefix: str = "liaison_test", *, template: str | None = None, admin_url: str | None = None
) -> Iterator[str]:
    """A new database, empty or a copy of `template` (a database URL); its
    URL. Dropped afterwards, connections and all.

    A template must have no open connections while it is copied: dispose of
    its engines first.
    """
    if not _DATABASE_PREFIX.fullmatch(prefix):
        raise ValueError(f"a database prefix is lower-case letters, digits and _: {prefix!r}")
    admin_url = admin_url or postgres_admin_url()
    name = f"{prefix}_{unique_suffix()}"
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with _admin_connection(admin_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin_connection(admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------ RabbitMQ


def check_rabbitmq(uri: str | None = None, timeout: float = 3.0) -> str:
    """The broker's URI, once a connection to it worked; ServerUnavailable if not."""
    import kombu

    uri = uri or amqp_uri()
    try:
        with kombu.Connection(uri, connect_timeout=timeout) as conn:
            conn.connect()
    except Exception as exc:
        raise ServerUnavailable(
            f"RabbitMQ is not reachable at {redacted(uri)} ({exc!r}). These tests need a running broker: start it (make test does, with "
            "scripts/services.sh), or set LIAISON_TEST_AMQP_URI."
        ) from None
    return uri


def wait_for_rabbitmq(uri: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            check_rabbitmq(uri)
            return
        except ServerUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@contextlib.contextmanager
def rabbitmq_stopped(uri: str) -> Iterator[None]:
    """RabbitMQ's application stopped for the block; always started again after."""
    if shutil.which("rabbitmqctl") is None:
        raise ServerUnavailable("stopping and starting RabbitMQ needs rabbitmqctl on the PATH")

    def rabbitmqctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)

    rabbitmqctl("stop_app")
    try:
        yield
    finally:
        rabbitmqctl("start_app")
        wait_for_rabbitmq(uri)


@contextlib.contextmanager
def own_vhost(uri: str) -> Iterator[str]:
    """A RabbitMQ virtual host of the block's own, on the broker of `uri`:
    the URI that reaches it. Deleted after, with its queues.

    On a broker shared by several test runs, a service's durable queues
    (nameko's, named by service and handler) would also collect the events
    of other runs' services; a platform on its own vhost hears only its own.
    Needs rabbitmqctl on the PATH (as `rabbitmq_stopped` does).
    """
    from urllib.parse import quote, urlsplit, urlunsplit

    if shutil.which("rabbitmqctl") is None:
        raise ServerUnavailable("a virtual host of a test's own needs rabbitmqctl on the PATH")
    name = f"liaison-test-{unique_suffix()}"
    user = urlsplit(uri).username or "guest"

    def rabbitmqctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)

    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        parts = urlsplit(uri)
        yield urlunsplit(parts._replace(path="/" + quote(name, safe="")))
    finally:
        rabbitmqctl("delete_vhost", name)


@dataclass
class Received:
    body: bytes
    routing_key: str
    properties: dict[str, Any]
    headers: dict[str, Any]


class Broker:
    """Declares, reads and finally deletes a test's queues and exchanges."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.queues: set[str] = set()
        self.exchanges: set[str] = set()
        self._conn: Any = None
        self._channel: Any = None

    @property
    def channel(self) -> Any:
        import kombu

        if self._conn is None or not self._conn.connected or self._channel is None:
            self.close()
            self._conn = kombu.Connection(self.uri, connect_timeout=5)
            self._conn.connect()
            self._channel = self._conn.channel()
        return self._channel

    def forget_later(self, *, queues: Iterable[str] = (), exchanges: Iterable[str] = ()) -> None:
        """Delete these (declared by the code under test) when the test ends."""
        self.queues.update(queues)
        self.exchanges.update(exchanges)

    def bind_events(self, source: str, routing_key: str = "#", name: str | None = None) -> str:
        """A durable queue bound to `<source>.events`, declared as the relay declares it."""
        from kit.outbox import event_exchange_name

        exchange = event_exchange_name(source)
        queue = name or f"{source}.test-{unique_suffix()}"
        self.forget_later(queues=(queue,), exchanges=(exchange,))
        self.channel.exchange_declare(
            exchange=exchange, type="topic", durable=True, auto_delete=False
        )
        self.channel.queue_declare(queue=queue, durable=True, auto_delete=False)
        self.channel.queue_bind(queue=queue, exchange=exchange, routing_key=routing_key)
        return queue

    def depth(self, queue: str) -> int | None:
        """Messages ready in the queue, or None when it does not exist."""
        try:
            _, count, _ = self.channel.queue_declare(queue=queue, passive=True)
        except Exception:
            self.close()  # a failed passive declare closes the channel
            return None
        return int(count)

    def get(self, queue: str) -> Received | None:
        message = self.channel.basic_get(queue=queue, no_ack=True)
        if message is None:
            return None
        properties = dict(message.properties)
        body = message.body  # py-amqp decodes it when a content_encoding is set
        return Received(
            body=body.encode() if isinstance(body, str) else bytes(body),
            routing_key=message.delivery_info["routing_key"],
            properties=properties,
            headers=dict(properties.get("application_headers") or {}),
        )

    def take(self, queue: str, count: int, timeout: float = 10.0) -> list[Received]:
        """Exactly `count` messages from the queue (fewer when time runs out)."""
        received: list[Received] = []
        deadline = time.monotonic() + timeout
        while len(received) < count and time.monotonic() < deadline:
            message = self.get(queue)
            if message is None:
                time.sleep(0.02)
            else:
                received.append(message)
        return received

    def drain(self, queue: str, settle: float = 0.3) -> list[Received]:
        """Everything in the queue, waiting `settle` seconds for stragglers."""
        received: list[Received] = []
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < settle:
            message = self.get(queue)
            if message is None:
                time.sleep(0.02)
            else:
                received.append(message)
                quiet_since = time.monotonic()
        return received

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.release()
        self._conn, self._channel = None, None

    def cleanup(self) -> None:
        import kombu

        self.close()
        with kombu.Connection(self.uri, connect_timeout=5) as conn:
            channel = conn.channel()
            for queue in sorted(self.queues):
                try:
                    channel.queue_delete(queue=queue)
                except Exception:
                    channel = conn.channel()
            for exchange in sorted(self.exchanges):
                try:
                    channel.exchange_delete(exchange=exchange)
                except Exception:
                    channel = conn.channel()


# ------------------------------------------------------------------ processes


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, http.client.HTTPException):
        # Not answering yet, or something else on the port (not HTTP/1.1).
        return False


@dataclass
class ServiceRun:
    """A service's part of a running platform: its database and gRPC port."""

    service: Service
    database_url: str
    grpc_port: int

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


def gateway_workers_ready(base_url: str, workers: int) -> bool:
    """Whether `workers` worker processes serve the gateway at `base_url`,
    each with its public directory loaded when it keeps one.

    Its `/readyz` speaks for the one worker that answers; its `/metrics` for
    all of them: `liaison_gateway_workers` counts the live ones, and
    `liaison_gateway_directory_version` is the lowest any of them serves (0
    while one is loading).
    """
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(f"{base_url}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return False
    found = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    version = found.get("liaison_gateway_directory_version")
    return found.get("liaison_gateway_workers") == workers and (version is None or version > 0)


@dataclass
class Process:
    popen: subprocess.Popen[bytes]
    log: Path
    ready_url: str  # answers 200 once the process is ready ("": no HTTP)
    # Also true once the process is ready, when a 200 there is not enough.
    ready: Callable[[], bool] | None = None

    def is_ready(self) -> bool:
        answers = _http_ok(self.ready_url) if self.ready_url else True
        return answers and (self.ready is None or self.ready())


class Platform:
    """The platform's processes on this machine: each service's api and
    worker and the gateway, on free ports, sharing one environment.

    `running_platform()` builds a whole one; tests that need a part call
    `add_service`, `run`, `start_service` or `start_gateway` themselves.
    """

    def __init__(self, env: dict[str, str], log_dir: Path | None = None) -> None:
        self.env = env
        self.log_dir = log_dir or ROOT / "var" / "logs" / f"run-{unique_suffix()}"
        self.services: dict[str, ServiceRun] = {}
        self.processes: dict[str, Process] = {}
        # The local stand-ins of outside systems started (kit.companions), by name.
        self.companions: dict[str, Companion] = {}
        self.gateway_port = free_port()
        self.env["LIAISON_GATEWAY_PORT"] = str(self.gateway_port)

    @property
    def amqp_uri(self) -> str:
        """The broker (and virtual host) the run's processes speak to."""
        return self.env["LIAISON_AMQP_URI"]

    @property
    def base_url(self) -> str:
        """The gateway's HTTP address."""
        return f"http://127.0.0.1:{self.gateway_port}"

    def grpc_target(self, name: str) -> str:
        return self.services[name].grpc_target

    def token(self, account: str) -> str:
        """A token of the run's development issuer for a demo account (kit.auth)."""
        from kit.auth import DEMO_ACCOUNTS, AuthSettings, DevIssuer

        issuer = DevIssuer(
            AuthSettings(
                env="test",
                issuer=self.env.get("LIAISON_JWT_ISSUER", "liaison-dev"),
                audience=self.env.get("LIAISON_JWT_AUDIENCE", "liaison"),
                dev_issuer=True,
                dev_secret=self.env["LIAISON_JWT_DEV_SECRET"],
            )
        )
        (found,) = [a for a in DEMO_ACCOUNTS if a.account == account]
        return issuer.issue(found)

    @property
    def metrics_urls(self) -> dict[str, str]:
        """Where each running process serves /metrics ("registry-api",
        "registry-worker" on their own ports, "gateway" on its HTTP port)."""
        return {
            name: process.ready_url.removesuffix("/readyz") + "/metrics"
            for name, process in self.processes.items()
        }

    def add_service(self, name: str, database_url: str) -> ServiceRun:
        """Give a listed service its database and gRPC port; every process
        started afterwards (the gateway, other services) finds it."""
        run = ServiceRun(service(name), database_url, free_port())
        self.services[name] = run
        self.env[f"{run.service.env_prefix}_DATABASE_URL"] = database_url
        self.env[f"{run.service.env_prefix}_GRPC_TARGET"] = run.grpc_target
        return run

    def run(self, module: str, *args: str) -> None:
        """Run a one-off process (`registry.migrate`, `registry.cli load-demo`) to its end."""
        subprocess.run([sys.executable, "-m", module, *args], env=self.env, check=True)

    def run_all(self, modules: Iterable[str]) -> None:
        """Run one-off processes side by side, each to its end; fails naming
        any that did not succeed."""
        started = [
            (module, subprocess.Popen([sys.executable, "-m", module], env=self.env))
            for module in modules
        ]
        failed = [module for module, popen in started if popen.wait() != 0]
        if failed:
            raise RuntimeError(f"{', '.join(failed)} did not succeed")

    def wait_quiet(self, database_urls: Iterable[str], seconds: float = 120) -> bool:
        """Until every event is published and consumed: no unsent row in the
        databases' outboxes and no message in the run's virtual host, twice
        a second apart. False when that does not happen within `seconds`."""
        from urllib.parse import unquote, urlsplit

        import psycopg

        vhost = unquote(urlsplit(self.amqp_uri).path.removeprefix("/")) or "/"
        urls = [make_url(u).set(drivername="postgresql") for u in database_urls]

        def busy() -> int:
            pending = 0
            for url in urls:
                with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
                    row = conn.execute(
                        "SELECT count(*) FROM outbox_events WHERE sent_at IS NULL"
                    ).fetchone()
                    pending += row[0] if row else 0
            listed = subprocess.run(
                ["rabbitmqctl", "list_queues", "-p", vhost, "-q", "--no-table-headers", "messages"],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            return pending + sum(int(n) for n in listed.stdout.split() if n.isdigit())

        deadline = time.monotonic() + seconds
        quiet_once = False
        while time.monotonic() < deadline:
            if busy() == 0:
                if quiet_once:
                    return True
                quiet_once = True
            else:
                quiet_once = False
            time.sleep(1)
        return False

    def start_process(self, name: str, process: str) -> subprocess.Popen[bytes]:
        """Start the api or the worker of an added service."""
        run = self.services[name]
        metrics_port = free_port()
        env = {"LIAISON_METRICS_PORT": str(metrics_port)}
        if process == "api":
            env["LIAISON_GRPC_PORT"] = str(run.grpc_port)
        return self._start(
            f"{name}-{process}",
            run.service.module(process),
            env,
            f"http://127.0.0.1:{metrics_port}/readyz",
        )

    def start_service(self, name: str) -> None:
        for process in ("api", "worker"):
            self.start_process(name, process)

    def start_companions(self, name: str) -> list[Companion]:
        """Start the companions an added service declares (kit.companions), on
        free ports, recording under the run's log folder; every process
        started afterwards is pointed at them."""
        started = companions_of(
            self.services[name].service, self.log_dir / "companions", lambda _: free_port()
        )
        for companion in started:
            self.env.update(companion.env)
            self._start(
                companion.name,
                companion.module,
                {},
                "",
                ready=functools.partial(wait_port, companion.port, 0.5),
                args=companion.args,
            )
            self.companions[companion.name] = companion
        return started

    def start_gateway(self, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start the gateway, with `env` besides the platform's; ready once
        every worker is (gateway_workers_ready)."""
        # LIAISON_GATEWAY_WORKERS, else as many as the CPUs it may use (gateway.config).
        configured = {**self.env, **(env or {})}.get("LIAISON_GATEWAY_WORKERS", "").strip()
        workers = int(configured) if configured else max(1, len(os.sched_getaffinity(0)))
        return self._start(
            "gateway",
            "gateway",
            env or {},
            f"{self.base_url}/readyz",
            ready=lambda: gateway_workers_ready(self.base_url, workers),
        )

    def _start(
        self,
        name: str,
        module: str,
        env: dict[str, str],
        ready_url: str,
        ready: Callable[[], bool] | None = None,
        args: tuple[str, ...] = (),
    ) -> subprocess.Popen[bytes]:
        if name in self.processes:
            raise RuntimeError(f"{name} is already running")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                env={**self.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes[name] = Process(popen, log, ready_url, ready)
        return popen

    def stop(self, name: str, timeout: float = 15) -> int:
        """SIGTERM a process and wait for it; its exit code."""
        popen = self.processes.pop(name).popen
        popen.terminate()
        try:
            return popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
            raise

    def wait_ready(self, seconds: float = 60) -> None:
        """Until every running process reports ready; fails with the log of one
        that exited or never did."""
        deadline = time.monotonic() + seconds
        waiting = dict(self.processes)
        while waiting:
            for name, process in list(waiting.items()):
                if process.popen.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.popen.returncode}:\n{self.log_tail(name)}"
                    )
                if process.is_ready():
                    del waiting[name]
            if waiting and time.monotonic() > deadline:
                name = sorted(waiting)[0]
                raise TimeoutError(
                    f"{name} was not ready within {seconds} s:\n{self.log_tail(name)}"
                )
            if waiting:
                time.sleep(0.2)

    def log_tail(self, name: str, chars: int = 4000) -> str:
        log = self.log_dir / f"{name}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return f"--- {log}\n{text[-chars:]}"

    def close(self, timeout: float = 15) -> None:
        """Stop every process: all told at once (SIGTERM), then each waited
        for, killed when it outlives `timeout`."""
        stopping = list(self.processes.values())
        self.processes.clear()
        for process in stopping:
            with contextlib.suppress(Exception):
                process.popen.terminate()
        deadline = time.monotonic() + timeout
        for process in stopping:
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()


def platform_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment platform processes run in: this one, as a test run,
    with a gateway of two workers unless LIAISON_GATEWAY_WORKERS says otherwise."""
    return {
        **os.environ,
        "LIAISON_ENV": "test",
        "LIAISON_AMQP_URI": amqp_uri(),
        "LIAISON_LOG_LEVEL": "WARNING",
        # One development issuer for every process of this run.
        "LIAISON_DEV_ISSUER": "1",
        "LIAISON_JWT_DEV_SECRET": secrets.token_urlsafe(32),
        # The gateway as the chart runs it: several workers sharing its port.
        "LIAISON_GATEWAY_WORKERS": os.environ.get("LIAISON_GATEWAY_WORKERS") or "2",
        **(extra or {}),
    }


@contextlib.contextmanager
def running_platform(
    services: Iterable[str] | None = None,
    *,
    load_demo: bool = True,
    gateway: bool = True,
    extra_env: dict[str, str] | None = None,
    demo_template: bool = False,
) -> Iterator[Platform]:
    """Services (every listed one by default) migrated on throwaway PostgreSQL
    databases, their demo data loaded, their api and worker running, and the
    gateway in front; all ready when this yields, all stopped after. With the
    demo, each service starts once those before it in the list are ready.

    The run speaks to a RabbitMQ virtual host of its own (`own_vhost`), unless
    `extra_env` names LIAISON_AMQP_URI or rabbitmqctl is not on the PATH:
    the services' durable queues then hear no other run's events.

    `demo_template`: the first such run of a process keeps a copy of its
    databases once the demo is loaded and every event of it consumed
    (`DemoTemplates`); a later run of the same services and settings starts
    on copies of those instead of loading the demo again (PostgreSQL's
    `CREATE DATABASE ... TEMPLATE`: a second, where the demo takes minutes).
    Each run still has databases, a virtual host and processes of its own;
    its processes start side by side."""
    names = list(services) if services is not None else [s.name for s in SERVICES]
    with contextlib.ExitStack() as stack:
        extra_env = dict(extra_env or {})
        key = DemoTemplates.key(names, extra_env) if load_demo and demo_template else None
        templates = DEMO_TEMPLATES.get(key) if key else None
        if "LIAISON_AMQP_URI" not in extra_env and shutil.which("rabbitmqctl"):
            extra_env["LIAISON_AMQP_URI"] = stack.enter_context(own_vhost(amqp_uri()))
        databases = {
            name: stack.enter_context(
                throwaway_database(
                    f"liaison_{name}", template=templates[name] if templates else None
                )
            )
            for name in names
        }
        platform = Platform(platform_environment(extra_env))
        stack.callback(platform.close)  # runs first: the processes stop before the drops
        for name, database_url in databases.items():
            platform.add_service(name, database_url)
        for name in names:
            platform.start_companions(name)
        if templates:
            # The demo is in the copies; migrate still runs, for the queues
            # it declares (kit.queues) before any process publishes: a
            # worker reports ready before its consumers have declared theirs.
            platform.run_all([service(name).module("migrate") for name in names])
            for name in names:
                platform.start_service(name)
        else:
            for name in names:
                platform.run(service(name).module("migrate"))
            # In the list's order: a service's demo may need the services before
            # it running (reception's calendar needs the registry's stations).
            for name in names:
                if load_demo:
                    platform.run(service(name).module("cli"), "load-demo", "--if-empty")
                platform.start_service(name)
                if load_demo:
                    platform.wait_ready()
            if key:
                DEMO_TEMPLATES.keep(key, platform, databases)
        if gateway:
            platform.start_gateway()
        platform.wait_ready()
        yield platform


class DemoTemplates:
    """Copies of a run's databases with the demo loaded, for later runs of
    the same process (`running_platform(demo_template=True)`), dropped when
    the process exits. Named `liaison_demo_<pid>_...`: a copy whose process
    is gone (killed before it could drop its own) is dropped by the next
    process that keeps one.

    A copy is taken once the run is quiet: every service's outbox sent and
    every queue of its virtual host empty, so that what the demo's events
    do elsewhere (a duty record, a message) is in the copies too. It is
    taken with the processes stopped (PostgreSQL copies only a database
    nobody is connected to); they are started again after, unless the run
    was only to take the copies (`prepare`)."""

    # Settings that change only how the gateway answers, not what is stored.
    IGNORED_PREFIXES = ("LIAISON_GATEWAY_", "LIAISON_AMQP_URI")

    def __init__(self) -> None:
        self._kept: dict[tuple[Any, ...], dict[str, str]] = {}
        self._only_copying = False

    @classmethod
    def key(cls, names: Iterable[str], extra_env: dict[str, str]) -> tuple[Any, ...]:
        settings = sorted(
            (k, v) for k, v in extra_env.items() if not k.startswith(cls.IGNORED_PREFIXES)
        )
        return (tuple(names), tuple(settings))

    def prepare(self) -> None:
        """Keep copies of every service's demo now, unless kept already."""
        if self.get(self.key([s.name for s in SERVICES], {})) is None:
            self._only_copying = True
            try:
                with running_platform(gateway=False, demo_template=True):
                    pass
            finally:
                self._only_copying = False

    def get(self, key: tuple[Any, ...]) -> dict[str, str] | None:
        return self._kept.get(key)

    def keep(self, key: tuple[Any, ...], platform: Platform, databases: dict[str, str]) -> None:
        """Copy a run's databases once it is quiet; when it does not become
        quiet, nothing is kept (the next run loads the demo itself)."""
        if shutil.which("rabbitmqctl") is None or not platform.wait_quiet(databases.values()):
            return
        for name in databases:
            for process in ("api", "worker"):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    platform.stop(f"{name}-{process}")
        admin_url = postgres_admin_url()
        self._drop_orphans(admin_url)
        copies: dict[str, str] = {}
        with _admin_connection(admin_url) as conn:
            for name, url in databases.items():
                copy = f"liaison_demo_{os.getpid()}_{name}_{unique_suffix()[:6]}"
                # PostgreSQL waits a few seconds for the stopped processes'
                # connections to go; it seldom needs more.
                for attempt in range(5):
                    try:
                        conn.execute(
                            f'CREATE DATABASE "{copy}" TEMPLATE "{make_url(url).database}"'
                        )
                        break
                    except Exception:
                        if attempt == 4:
                            raise
                        time.sleep(1)
                copies[name] = (
                    make_url(admin_url).set(database=copy).render_as_string(hide_password=False)
                )
        if not self._kept:
            import atexit

            atexit.register(self.drop_all)
        self._kept[key] = copies
        if self._only_copying:
            return
        for name in databases:
            platform.start_service(name)
        platform.wait_ready()

    def drop_all(self) -> None:
        with contextlib.suppress(Exception), _admin_connection(postgres_admin_url()) as conn:
            for copies in self._kept.values():
                for url in copies.values():
                    conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
        self._kept.clear()

    @staticmethod
    def _drop_orphans(admin_url: str) -> None:
        with _admin_connection(admin_url) as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'liaison_demo_%'"
            ).fetchall()
            for (name,) in rows:
                pid = int(name.split("_")[2])
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except PermissionError:
                    pass  # alive, another user's


DEMO_TEMPLATES = DemoTemplates()


# ------------------------------------------------------------------ migrations


def check_migrations(service_name: str, migrations: Path, metadata: Any, admin_url: str) -> None:
    """A service's migrations on a throwaway PostgreSQL database: one head;
    upgraded, they build exactly the schema of `metadata` plus kit's platform
    tables; they go back to base, leaving no table, and up again. Raises
    AssertionError naming what differs."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import MetaData, inspect

    from kit.db import Database
    from kit.migrations import alembic_config, is_current, upgrade
    from kit.tables import platform_metadata

    heads = ScriptDirectory.from_config(alembic_config(migrations, "")).get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads}"
    with throwaway_database(f"{service_name}_migrations", admin_url=admin_url) as url:
        db = Database(url, service_name)
        try:
            upgrade(db, migrations)
            target = MetaData()
            for source in (metadata, platform_metadata):
                for table in source.tables.values():
                    table.to_metadata(target)
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, target)
            assert diff == [], "the migrations and the models differ:\n" + "\n".join(map(str, diff))
            config = alembic_config(migrations, db.url)
            with db.engine.begin() as conn:
                config.attributes["connection"] = conn
                command.downgrade(config, "base")
            with db.engine.connect() as conn:
                assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
            upgrade(db, migrations)
            assert is_current(db, migrations)
        finally:
            db.dispose()
