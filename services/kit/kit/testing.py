"""Start the registry (migrate, api, worker) and the gateway as processes on a
throwaway PostgreSQL database and the local RabbitMQ: shared by the
benchmarks and the end-to-end tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[3]
PG_ADMIN = os.environ.get("LIAISON_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URI = os.environ.get("LIAISON_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Platform:
    database_url: str
    env: dict[str, str]
    grpc_port: int
    gateway_port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    log_dir: Path = field(default_factory=lambda: ROOT / "var" / "logs")
    # Where each process serves /metrics: "registry-api", "registry-worker"
    # on their own ports, "gateway" on its HTTP port.
    metrics_urls: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def run(self, *module_args: str) -> None:
        subprocess.run([sys.executable, "-m", *module_args], env=self.env, check=True)

    def start(self, name: str, module: str) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}-{self.gateway_port}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", module], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes[name] = process
        return process

    def stop(self, name: str, timeout: float = 15) -> int:
        process = self.processes.pop(name)
        process.terminate()
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}; see {self.log_dir}"
                    )
            try:
                with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"the gateway was not ready within {seconds} s")

    def close(self) -> None:
        for name in list(self.processes):
            with suppress(Exception):
                self.stop(name)


@contextmanager
def running_platform(
    *, load_demo: bool = True, extra_env: dict[str, str] | None = None
) -> Iterator[Platform]:
    with throwaway_database("liaison_run") as database_url:
        grpc_port, gateway_port = free_port(), free_port()
        env = dict(os.environ)
        env.update(
            {
                "LIAISON_REGISTRY_DATABASE_URL": database_url,
                "LIAISON_AMQP_URI": AMQP_URI,
                "LIAISON_GRPC_PORT": str(grpc_port),
                "LIAISON_REGISTRY_GRPC_TARGET": f"127.0.0.1:{grpc_port}",
                "LIAISON_GATEWAY_PORT": str(gateway_port),
                "LIAISON_LOG_LEVEL": "WARNING",
                # One development issuer for every process of this run.
                "LIAISON_DEV_ISSUER": "1",
                "LIAISON_JWT_DEV_SECRET": secrets.token_urlsafe(32),
            }
        )
        env.update(extra_env or {})
        platform = Platform(database_url, env, grpc_port, gateway_port)
        try:
            platform.run("registry.migrate")
            if load_demo:
                platform.run("registry.cli", "load-demo")
            # Metrics ports: free ones, so runs never collide with `make up`.
            for name, module in (
                ("registry-api", "registry.api"),
                ("registry-worker", "registry.worker"),
            ):
                metrics_port = free_port()
                platform.env["LIAISON_METRICS_PORT"] = str(metrics_port)
                platform.start(name, module)
                platform.metrics_urls[name] = f"http://127.0.0.1:{metrics_port}/metrics"
            platform.env["LIAISON_METRICS_PORT"] = "0"
            platform.start("gateway", "gateway")
            platform.metrics_urls["gateway"] = f"{platform.base_url}/metrics"
            platform.wait_ready()
            yield platform
        finally:
            platform.close()
