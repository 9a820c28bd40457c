"""What the sending's tests share (as kit.testrun is the platform's): the
provider and mail server processes, a contacts book, a clock that can be
moved on, and queued deliveries."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from kit.db import Database
from kit.tables import utcnow
from kit.testrun import free_port
from notifications.message_models import Delivery, Message


@dataclass
class ProviderProcess:
    url: str
    record: Path
    process: subprocess.Popen[bytes]

    def mode(self, mode: str, *, times: int = -1, delay: float = 30) -> None:
        httpx.post(
            f"{self.url}/admin/mode", json={"mode": mode, "times": times, "delay": delay}
        ).raise_for_status()

    def release(self) -> None:
        httpx.post(f"{self.url}/admin/release").raise_for_status()

    def received(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.url}/admin/received").json()
        return answer

    def recorded(self) -> list[dict[str, Any]]:
        """The record file's lines."""
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]


@dataclass
class MailProcess:
    port: int
    record: Path
    process: subprocess.Popen[bytes]

    def recorded(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines() if line]


def _wait(ready: Any, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            if ready():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def provider_server(directory: Path, key: str = "") -> Iterator[ProviderProcess]:
    port = free_port()
    record = directory / f"provider-{port}.jsonl"
    args = [sys.executable, "-m", "notifications.provider_server", "--port", str(port)]
    process = subprocess.Popen([*args, "--record", str(record), "--key", key])
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{url}/healthz").status_code == 200, process, "provider server")
        yield ProviderProcess(url, record, process)
    finally:
        _stop(process)


@contextmanager
def mail_server(directory: Path) -> Iterator[MailProcess]:
    import socket

    port = free_port()
    record = directory / f"mail-{port}.jsonl"
    args = [sys.executable, "-m", "notifications.mail_server", "--port", str(port)]
    process = subprocess.Popen([*args, "--record", str(record)])

    def ready() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(100).startswith(b"220")

    try:
        _wait(ready, process, "mail server")
        yield MailProcess(port, record, process)
    finally:
        _stop(process)


class Book:
    """Contacts from a dict of (address, channel) -> contact."""

    def __init__(self, entries: dict[tuple[str, str], str] | None = None) -> None:
        self.entries = dict(entries or {})

    def contact_of(self, session: Session, address: str, channel: str) -> str | None:
        return self.entries.get((address, channel))


@dataclass
class Clock:
    """Now, moved on by `advance` (a sender's clock in the tests)."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def queue(
    db: Database,
    channel: str,
    *,
    recipient: str = "user:alice",
    subject: str = "预约已确认",
    state: str = "queued",
    kind: str = "bookings",
) -> int:
    """A message to `recipient` and its delivery on `channel` in `state`; the delivery's id."""
    with db.unit_of_work() as uow:
        message = Message(
            event_id=uuid.uuid4().hex,
            event_type="reception.booking_confirmed",
            rule_key="booking-confirmed",
            recipient=recipient,
            kind=kind,
            urgent=False,
            locale="zh-CN",
            subject=subject,
            body_text="您的接待预约已确认。",
            body_html="<p>您的接待预约已确认。</p>",
            link="/portal/#/bookings/1",
        )
        uow.session.add(message)
        uow.session.flush()
        delivery = Delivery(message_id=message.id, channel=channel, state=state)
        uow.session.add(delivery)
        uow.session.flush()
        return delivery.id


def set_aside_due(db: Database) -> None:
    """Nothing left to send: every queued, failed or sending delivery is
    suppressed (a test then sends only its own)."""
    with db.unit_of_work() as uow:
        uow.session.execute(
            update(Delivery)
            .where(Delivery.state.in_(("queued", "failed", "sending")))
            .values(state="suppressed", last_error="set aside by an earlier test")
        )


def delivery(db: Database, delivery_id: int) -> Delivery:
    with db.read() as session:
        found = session.get(Delivery, delivery_id)
        assert found is not None
        session.expunge(found)
        return found


def main(argv: list[str] | None = None) -> None:
    """`python -m notifications.sending_testrun --database URL --channel C --url U
    --contacts JSON --lease S --timeout S`: one sending pass of one channel, as a
    process a test can kill mid-send."""
    import argparse

    from notifications.channels import Channel, EmailChannel, ProviderChannel
    from notifications.delivery import Sender
    from notifications.settings import ChannelSettings

    parser = argparse.ArgumentParser(prog="python -m notifications.sending_testrun")
    parser.add_argument("--database", required=True)
    parser.add_argument("--channel", required=True, choices=("email", "sms", "wechat"))
    parser.add_argument("--url", default="", help="the provider's URL (sms, wechat)")
    parser.add_argument("--smtp-port", type=int, default=2525)
    parser.add_argument("--contacts", default="{}", help='{"<address> <channel>": "<contact>"}')
    parser.add_argument("--key", default="", help="the provider's API key")
    parser.add_argument("--lease", type=float, default=120)
    parser.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args(argv)
    settings = ChannelSettings(
        smtp_port=args.smtp_port,
        provider_timeout=args.timeout,
        lease_seconds=args.lease,
        sms_url=args.url,
        wechat_url=args.url,
    )
    channel: Channel = (
        EmailChannel(settings)
        if args.channel == "email"
        else ProviderChannel(args.channel, args.url, args.key, args.timeout)
    )
    book = Book(
        {tuple(key.split(" ", 1)): value for key, value in json.loads(args.contacts).items()}  # type: ignore[misc]
    )
    db = Database(args.database, "notifications")
    try:
        done = Sender(db, {args.channel: channel}, book, settings).send_due()
        print(json.dumps({"sent": done.sent, "failed": done.failed, "dead": done.dead}), flush=True)
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
