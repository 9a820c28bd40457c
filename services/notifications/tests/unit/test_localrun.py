"""The notifications service's companions (kit.companions): the mail relay
and the provider, found by the platform's runners, pointed at by the
settings they name, and really listening once started."""

from __future__ import annotations

import smtplib
import subprocess
import sys
from pathlib import Path

import httpx

from kit.companions import companions_of, wait_port
from kit.services import service
from kit.testrun import free_port


def test_the_runners_find_the_mail_relay_and_the_provider(tmp_path: Path) -> None:
    found = companions_of(service("notifications"), tmp_path, lambda default: default)
    assert [c.name for c in found] == ["notifications-mail", "notifications-provider"]
    mail, provider = found
    assert mail.env["LIAISON_NOTIFICATIONS_SMTP_PORT"] == "2525"
    assert provider.env["LIAISON_NOTIFICATIONS_SMS_URL"] == "http://127.0.0.1:8025"
    assert companions_of(service("registry"), tmp_path, lambda default: default) == []


def test_started_they_take_mail_and_messages_and_record_them(tmp_path: Path) -> None:
    found = companions_of(service("notifications"), tmp_path, lambda _: free_port())
    processes = [subprocess.Popen([sys.executable, "-m", c.module, *c.args]) for c in found]
    try:
        mail, provider = found
        assert wait_port(mail.port, 20) and wait_port(provider.port, 20)
        with smtplib.SMTP("127.0.0.1", mail.port) as smtp:
            smtp.sendmail("a@liaison.local", ["b@example.org"], "Subject: hi\r\n\r\nbody")
        answer = httpx.post(
            f"{provider.env['LIAISON_NOTIFICATIONS_SMS_URL']}/v1/messages",
            headers={"Idempotency-Key": "d-1"},
            json={"channel": "sms", "to": "+8613800138000", "template": "t", "params": {}},
        )
        assert answer.status_code == 200, answer.text
        assert mail.record is not None and provider.record is not None
        assert "b@example.org" in mail.record.read_text()
        assert "d-1" in provider.record.read_text()
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
