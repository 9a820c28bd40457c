"""`make up`: the whole platform on one machine, with demo data.

Migrates the database of every service in kit/services.toml (SQLite files
under ./var by default), then starts the services in the list's order: each
one's demo data is loaded when its database is still empty
(`<svc>.cli load-demo --if-empty`, so a later start leaves what people
changed alone) once the services before it are ready, since a service's
demo may need theirs (reception's calendar needs the registry's stations);
then its api and worker run. Last the gateway. Before them all, the local
stand-ins of outside systems the services speak to (kit.companions: the
notifications service's mail relay and SMS/WeChat provider, recording what
they receive under ./var). Every process is a child, its log prefixed with
its name. Ctrl-C (or SIGTERM) stops them all.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from kit.companions import companions_of, wait_port
from kit.services import SERVICES
from kit.settings import gateway_port, var_dir


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None


def _pump(child: Child) -> None:
    assert child.process is not None and child.process.stdout is not None
    for line in iter(child.process.stdout.readline, b""):
        sys.stdout.write(f"{child.name:>16} | {line.decode('utf-8', 'replace')}")
        sys.stdout.flush()


def _run_step(argv: list[str], env: dict[str, str]) -> None:
    print(f"==> {' '.join(argv[2:])}", flush=True)
    subprocess.run(argv, env=env, check=True)


def wait_http(url: str, seconds: float, *, alive: Callable[[], bool] = lambda: True) -> bool:
    """Whether the URL answers 200 within `seconds`; False as soon as `alive()`
    says what should answer has died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive():
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def main() -> int:
    python = sys.executable
    env = dict(os.environ)
    env.setdefault("LIAISON_LOG_FORMAT", "text")
    # The local run signs in with the development issuer; every process gets
    # the same secret, new for each run unless one is set.
    env.setdefault("LIAISON_DEV_ISSUER", "1")
    env.setdefault("LIAISON_JWT_DEV_SECRET", secrets.token_urlsafe(32))
    var_dir().mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        _run_step([python, "-m", service.module("migrate")], env)
    companions = [
        c for s in SERVICES for c in companions_of(s, var_dir() / "companions", lambda p: p)
    ]
    for companion in companions:
        env.update(companion.env)

    children: list[Child] = []
    stopping = threading.Event()

    def stop(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    def start(child: Child) -> None:
        child.process = subprocess.Popen(
            child.argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        threading.Thread(target=_pump, args=(child,), daemon=True).start()
        children.append(child)

    def alive() -> bool:
        return not stopping.is_set() and all(
            c.process is not None and c.process.poll() is None for c in children
        )

    for companion in companions:
        start(Child(companion.name, [python, "-m", companion.module, *companion.args]))
        if not wait_port(companion.port, 30, alive=alive):
            print(f"{companion.name} did not listen on :{companion.port}", flush=True)
            stopping.set()
    for service in SERVICES:
        if stopping.is_set():
            break
        try:
            _run_step([python, "-m", service.module("cli"), "load-demo", "--if-empty"], env)
        except subprocess.CalledProcessError as error:
            # The services already started are stopped below, not left holding their ports.
            print(
                f"{service.name}'s demo data could not be loaded (exit {error.returncode}); "
                "see the logs above",
                flush=True,
            )
            stopping.set()
            break
        for process in ("api", "worker"):
            start(Child(f"{service.name}-{process}", [python, "-m", service.module(process)]))
        for port in (service.api_metrics_port, service.worker_metrics_port):
            if not wait_http(f"http://127.0.0.1:{port}/readyz", 60, alive=alive):
                print(f"{service.name} did not become ready; see the logs above", flush=True)
                stopping.set()
                break
        if stopping.is_set():
            break
    if not stopping.is_set():
        start(Child("gateway", [python, "-m", "gateway"]))

    base = f"http://127.0.0.1:{gateway_port()}"
    metrics = ", ".join(
        f"{s.name} api :{s.api_metrics_port}/metrics, worker :{s.worker_metrics_port}/metrics"
        for s in SERVICES
    )
    failed = stopping.is_set()  # a service did not become ready
    if not failed and wait_http(f"{base}/readyz", 60, alive=alive):
        print(
            "\nThe platform is up with the demo district.\n"
            f"  Portal:        {base}/  (find your liaison station and deputies)\n"
            f"  API:           {base}/api/v1  (OpenAPI: {base}/openapi.json, docs: {base}/docs)\n"
            f"  Find a station: {base}/api/v1/find-station?address=%E6%9E%97%E5%92%8C%E8%B7%AF (林和路)\n"
            f"  Demo tokens:   GET {base}/api/v1/dev/accounts, POST {base}/api/v1/dev/tokens\n"
            f"  Metrics:       {base}/metrics, {metrics}\n"
            + "".join(
                f"  {c.name}: 127.0.0.1:{c.port}, recording to {c.record}\n"
                for c in companions
                if c.record
            )
            + "Ctrl-C stops everything.\n",
            flush=True,
        )
    elif not failed:
        print("the gateway did not become ready in 60 s; see the logs above", flush=True)

    exit_code = 1 if failed else 0
    while not stopping.is_set():
        for child in children:
            assert child.process is not None
            if child.process.poll() is not None:
                print(f"{child.name} exited with {child.process.returncode}", flush=True)
                exit_code = 1
                stopping.set()
        stopping.wait(0.5)
    for child in children:
        if child.process and child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    # One deadline for them all (they stop side by side), then the rest killed.
    deadline = time.monotonic() + 15
    for child in children:
        if child.process:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
