"""`python -m notifications.mail_server --port N --record FILE_OR_DIR`: an SMTP
server (aiosmtpd) that records every message it receives, for the local run
and the tests. It relays nothing to anybody.

The record: given a directory, each message is one `.eml` file in it (named
by arrival order) and one JSON line in its `messages.jsonl`; given a file,
the JSON lines alone. A line holds the envelope (from, to), the
Message-ID, the Subject, the arrival time and the raw message.
Like a real mail relay it keeps a message sent twice twice: the Message-ID
is what tells a mail client the two are one.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Recorder:
    """aiosmtpd's handler: accepts and records every message."""

    def __init__(self, record: Path) -> None:
        self.lock = threading.Lock()
        if record.suffix in {".jsonl", ".json", ".log"} or record.is_file():
            self.directory: Path | None = None
            self.lines = record
        else:
            record.mkdir(parents=True, exist_ok=True)
            self.directory = record
            self.lines = record / "messages.jsonl"
        self.lines.parent.mkdir(parents=True, exist_ok=True)
        self.count = (
            len(self.lines.read_text(encoding="utf-8").splitlines()) if self.lines.exists() else 0
        )

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        parsed = message_from_bytes(raw, policy=default)
        with self.lock:
            self.count += 1
            entry: dict[str, Any] = {
                "n": self.count,
                "mail_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "message_id": str(parsed.get("Message-ID", "")),
                "subject": str(parsed.get("Subject", "")),
                "received_at": datetime.now(UTC).isoformat(),
                "raw": raw.decode("utf-8", errors="replace"),
            }
            if self.directory is not None:
                (self.directory / f"{self.count:06d}.eml").write_bytes(raw)
            with self.lines.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m notifications.mail_server")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--record", type=Path, required=True, help="a .jsonl file, or a directory of .eml files"
    )
    args = parser.parse_args(argv)
    controller = Controller(Recorder(args.record), hostname=args.host, port=args.port)
    controller.start()
    print(f"mail server listening on {args.host}:{args.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
