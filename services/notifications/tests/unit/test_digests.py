"""A daily digest's rendering: numbered, in the recipient's language, with
subjects escaped and the templates' bodies (their links in them) set in as
they are."""

from __future__ import annotations

from notifications.digests import render
from notifications.message_models import Message

SITE = "https://liaison.example.org"


def message(subject: str, locale: str = "zh-CN") -> Message:
    return Message(
        subject=subject,
        body_text=f"{subject} text\n{SITE}/",
        body_html=f'<p>{subject} html</p><p><a href="{SITE}/">{SITE}/</a></p>',
        link="/",
        locale=locale,
    )


def test_a_digest_numbers_its_messages_in_chinese() -> None:
    digest = render([message("预约成功"), message("意见已收到")], "zh-CN")
    assert digest.subject == "每日摘要：2 条消息"
    assert f"1. 预约成功\n预约成功 text\n{SITE}/\n\n2. 意见已收到" in digest.text
    assert digest.html.count("<li>") == 2
    assert digest.html.count(f'<a href="{SITE}/">') == 2


def test_english_and_escaped_subjects() -> None:
    digest = render([Message(subject='<b>"x"</b>', body_text="t", body_html="", link="")], "en")
    assert digest.subject == "Your daily digest: 1 messages"
    assert "<h3>&lt;b&gt;&quot;x&quot;&lt;/b&gt;</h3><p>t</p>" in digest.html


def test_an_unknown_language_reads_chinese() -> None:
    assert render([message("x")], "fr").subject == "每日摘要：1 条消息"
