"""`make bench`, rosters: the registry api's memory around one ImportRoster.

For each file a fresh registry api process serves the demo district from a
throwaway PostgreSQL database; its resident memory (VmRSS) and peak (VmHWM),
read from /proc/<pid>/status, are printed before and after the one call,
with what the call answered and how long it took:

- the 4.8 KB workbook whose only cell is XFD1048576;
- a zip bomb: a workbook whose sheet unzips to a million rows;
- the district's 350 deputies as XLSX, as the api exports them, re-imported.

A watchdog kills the api once its resident memory passes
BENCH_ROSTER_RSS_LIMIT_MIB (default 384, the memory limit of an api pod in
the chart), as the kernel would kill the pod, and says so.
"""

from __future__ import annotations

import io
import os
import platform as host
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from kit.grpc_client import bearer_metadata
from kit.testrun import Platform, platform_environment, throwaway_database
from liaison.registry.v1 import registry_pb2 as pb
from liaison.registry.v1 import registry_pb2_grpc as pb_grpc
from registry.testing import HostileRosters

RSS_LIMIT_MIB = float(os.environ.get("BENCH_ROSTER_RSS_LIMIT_MIB", "384"))
IMPORT_TIMEOUT_SECONDS = 120.0


def call(
    platform: Platform, channel: grpc.Channel, method: str, request: Message, timeout: float = 30
) -> Any:
    """Every registry call of this benchmark: as the admin, who may import."""
    stub = pb_grpc.RegistryServiceStub(channel)
    metadata = [bearer_metadata(platform.token("admin"))]
    return getattr(stub, method)(request, timeout=timeout, metadata=metadata)


# ---------------------------------------------------------------- the files


def million_row_zip_bomb() -> bytes:
    """A valid workbook whose sheet is a million rows of one short cell."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        source = zipfile.ZipFile(io.BytesIO(HostileRosters.xfd_bomb()))
        for name in source.namelist():
            if name != HostileRosters.sheet_part:
                archive.writestr(name, source.read(name))
        with archive.open(HostileRosters.sheet_part, "w") as sheet:
            sheet.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData>"
            )
            for start in range(1, 1_000_001, 10_000):
                sheet.write(
                    "".join(
                        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>x</t></is></c></row>'
                        for n in range(start, start + 10_000)
                    ).encode()
                )
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


# ---------------------------------------------------------------- the api process


def memory_mib(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MiB."""
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found


class Watchdog:
    """Kills a process once its resident memory passes `limit_mib`."""

    def __init__(self, pid: int, kill: Callable[[], None], limit_mib: float) -> None:
        self.pid = pid
        self.kill = kill
        self.limit_mib = limit_mib
        self.killed_at_mib: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.01):
            try:
                rss = memory_mib(self.pid)["VmRSS"]
            except (OSError, KeyError):
                return
            if rss > self.limit_mib:
                self.killed_at_mib = rss
                self.kill()
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


def wait_serving(channel: grpc.Channel, process: Any, seconds: float = 60) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the registry api exited with {process.returncode}")
        try:
            reply = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the registry api was not serving within {seconds} s")


@contextmanager
def registry_api(platform: Platform) -> Iterator[tuple[Any, grpc.Channel]]:
    """A fresh api process, serving, and a channel to it."""
    process = platform.start_process("registry", "api")
    channel = grpc.insecure_channel(platform.grpc_target("registry"))
    try:
        wait_serving(channel, process)
        yield process, channel
    finally:
        channel.close()
        if "registry-api" in platform.processes:
            platform.stop("registry-api")


def measure(platform: Platform, name: str, content: bytes) -> None:
    with registry_api(platform) as (process, channel):
        call(platform, channel, "ListStreets", pb.ListStreetsRequest())  # the call path, warm
        before = memory_mib(process.pid)
        watchdog = Watchdog(process.pid, process.kill, RSS_LIMIT_MIB)
        request = pb.ImportRosterRequest(
            kind=pb.ROSTER_KIND_DEPUTIES, format=pb.ROSTER_FORMAT_XLSX, content=content
        )
        started = time.perf_counter()
        try:
            reply = call(platform, channel, "ImportRoster", request, timeout=IMPORT_TIMEOUT_SECONDS)
            answer = f"OK {reply.created} created, {reply.updated} updated"
        except grpc.RpcError as error:
            answer = f"{error.code().name}: {(error.details() or '')[:70]}"  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
        watchdog.stop()
        if watchdog.killed_at_mib is not None:
            process.wait(10)
            after = {"VmRSS": watchdog.killed_at_mib, "VmHWM": watchdog.killed_at_mib}
            answer = f"killed: resident memory passed {RSS_LIMIT_MIB:.0f} MiB"
        else:
            after = memory_mib(process.pid)
        print(
            f"{name:<26} {len(content):>9} {elapsed:>7.2f} "
            f"{before['VmRSS']:>7.1f} {before['VmHWM']:>7.1f} "
            f"{after['VmRSS']:>7.1f} {after['VmHWM']:>7.1f}  {answer}"
        )


def main() -> None:
    print(
        f"\nregistry api memory around one ImportRoster (a fresh api process per file; "
        f"{os.cpu_count()} cores, {host.machine()}, Python {host.python_version()}; "
        f"watchdog at {RSS_LIMIT_MIB:.0f} MiB resident)"
    )
    with throwaway_database("liaison_bench") as database_url:
        platform = Platform(platform_environment())
        platform.add_service("registry", database_url)
        try:
            platform.run("registry.migrate")
            platform.run("registry.cli", "load-demo")
            with registry_api(platform) as (_, channel):
                deputies = call(
                    platform,
                    channel,
                    "ExportRoster",
                    pb.ExportRosterRequest(
                        kind=pb.ROSTER_KIND_DEPUTIES, format=pb.ROSTER_FORMAT_XLSX
                    ),
                ).content
            files = {
                "XFD1048576 bomb": HostileRosters.xfd_bomb(),
                "zip bomb, 1M-row sheet": million_row_zip_bomb(),
                "350 deputies (export)": deputies,
            }
            print(
                f"{'file':<26} {'bytes':>9} {'seconds':>7} "
                f"{'RSS':>7} {'HWM':>7} {'RSS':>7} {'HWM':>7}  answer"
            )
            print(f"{'':<26} {'':>9} {'':>7} {'before (MiB)':>15} {'after (MiB)':>15}")
            for name, content in files.items():
                measure(platform, name, content)
        finally:
            platform.close()


if __name__ == "__main__":
    main()
