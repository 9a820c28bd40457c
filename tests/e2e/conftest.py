"""The platform as `make up` runs it (`python -m kit.devrun`), for the tests
of the local run and of the README: on `make up`'s fixed ports, its SQLite
files in a directory of the test's own (LIAISON_VAR_DIR)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kit.devrun import wait_http
from kit.services import SERVICES
from kit.settings import GATEWAY_HTTP_PORT

ROOT = Path(__file__).resolve().parents[2]
# Every port a local run listens on: the gateway's, then each service's
# gRPC, api metrics and worker metrics.
LOCAL_PORTS = (
    GATEWAY_HTTP_PORT,
    *(port for s in SERVICES for port in (s.grpc_port, s.api_metrics_port, s.worker_metrics_port)),
)
BASE_URL = f"http://127.0.0.1:{GATEWAY_HTTP_PORT}"


def port_taken(port: int) -> bool:
    """Whether something listens on the port (the servers bind every address)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


@dataclass
class LocalRun:
    """One `make up` platform; start, stop and start it again over the same files."""

    var_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A shell without the developer's own LIAISON_* settings (a database
        # URL there would be written to), except where the broker is.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")} | {
            "LIAISON_VAR_DIR": str(self.var_dir)
        }
        if "LIAISON_AMQP_URI" in os.environ:
            self.env["LIAISON_AMQP_URI"] = os.environ["LIAISON_AMQP_URI"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, seconds: float = 540) -> None:
        """Start the platform; fail naming the cause unless /readyz answers 200 in time."""
        assert self.process is None, "already running"
        taken = [p for p in LOCAL_PORTS if port_taken(p)]
        if taken:
            pytest.fail(
                f"port(s) {', '.join(map(str, taken))} are taken: this test runs the platform "
                f"as `make up` does, on its fixed ports {', '.join(map(str, LOCAL_PORTS))}. "
                "Stop what listens there (a `make up` of your own?) and run it again.",
                pytrace=False,
            )
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # A session of its own, so that what is left of it can be ended as one group.
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kit.devrun"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self.process
        if wait_http(f"{BASE_URL}/readyz", seconds, alive=lambda: process.poll() is None):
            return
        if process.poll() is not None:
            pytest.fail(
                f"`python -m kit.devrun` exited with {process.returncode} before it was ready:\n"
                f"{self.log()[-4000:]}",
                pytrace=False,
            )
        pytest.fail(
            f"the gateway was not ready within {seconds:.0f} s:\n{self.log()[-4000:]}",
            pytrace=False,
        )

    def stop(self, seconds: float = 90) -> int:
        """Ctrl-C, as a person at the terminal stops it; the exit code."""
        assert self.process is not None, "not running"
        process, self.process = self.process, None
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            # Its group is its own session (see start): it and its children only.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise

    def close(self) -> None:
        if self.process is not None:
            self.stop()

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        """One JSON request to the gateway: (status, parsed body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{BASE_URL}{path}", data=data, method=method)
        request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRun]:
    """A local run of this module's own, not started yet; stopped afterwards."""
    directory = tmp_path_factory.mktemp("local-run")
    run = LocalRun(directory / "var", directory / "devrun.log")
    try:
        yield run
    finally:
        run.close()


# Tests that are one client making thousands of calls: no rate limit.
UNLIMITED = {
    "LIAISON_GATEWAY_READ_RATE_PER_MINUTE": "1000000000",
    "LIAISON_GATEWAY_WRITE_RATE_PER_MINUTE": "1000000000",
}


@pytest.fixture(scope="module")
def unlimited_platform() -> Iterator[Any]:
    """The whole platform with the demo district, for one module, without
    the gateway's rate limits."""
    from kit.testrun import running_platform

    with running_platform(extra_env=UNLIMITED, demo_template=True) as running:
        yield running


# ------------------------------------------------------------ the browser
#
# Debian's chromium driven by Playwright, for the portal's and the console's
# tests; each screen's screenshot goes to var/screenshots.

CHROMIUM = os.environ.get("LIAISON_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"


@pytest.fixture(scope="module")
def chromium() -> str:
    """Ask for it first (`usefixtures`), so a missing browser costs no platform."""
    from kit.required_tools import require_tool

    return require_tool(
        "chromium",
        "apt-get install -y --no-install-recommends chromium fonts-wqy-microhei",
        path=CHROMIUM,
    )


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[[int, int], Any]]:
    """new_page(width, height): a zh-CN page of that size in a context of its
    own, closed after the test."""
    contexts: list[Any] = []

    def make(width: int, height: int) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, device_scale_factor=1, locale="zh-CN"
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


class Console:
    """Console errors and uncaught exceptions of one page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            url = (message.location or {}).get("url", "")
            self.errors.append(f"{message.text} ({url})")

    def unexpected(self, *allowed: str) -> list[str]:
        return [e for e in self.errors if not any(re.search(a, e) for a in allowed)]


@pytest.fixture
def watch() -> type[Console]:
    """`watch(page)`: what goes wrong in a page's console."""
    return Console


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def press_tab_until(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until the focused element matches `selector` (the
    navigation grows with each screen, so no fixed count of presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{limit} presses of Tab never reached {selector}")


@pytest.fixture
def tab_to() -> Callable[[Any, str], None]:
    """`tab_to(page, selector)`: Tab on until that element has the focus."""
    return press_tab_until
