"""notifications: the booking_reminder template's words on the event reception now publishes

The default `booking_reminder` template named fields of no event
(`session.station_name`, `session.date`); reception's `booking_reminder_due`
carries the session's date and the slot's hours. A database that loaded the
old default words has them replaced by the new ones, locale by locale, only
where they are still the old defaults word for word: a template an admin
changed is left as it is (and downgrade does the same the other way).
A database without the rows gets the new words from the defaults' loading.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "booking_reminder"
# How the defaults end a text body: with the link (`notifications.rules._words`).
LINK_LINE = "{% if link %}{{ link }}\n{% endif %}"
# locale -> (subject, text body), as `notifications.rules` had them before and has them now.
BEFORE = {
    "zh-CN": (
        "明天接待提醒：{{ session.station_name }}",
        "提醒您：明天（{{ local_date(session.date) }}）您预约了{{ session.station_name }}"
        "的人大代表接待。\n",
    ),
    "en": (
        "Reminder: your reception tomorrow at {{ session.station_name }}",
        "A reminder: tomorrow ({{ local_date(session.date) }}) you have a place at the "
        "deputies' reception at {{ session.station_name }}.\n",
    ),
}
AFTER = {
    "zh-CN": (
        "明天接待提醒：{{ local_date(session_date) }} {{ local_start }}",
        "提醒您：明天（{{ local_date(session_date) }}）{{ local_start }}—{{ local_end }}，"
        "您预约了联络站的人大代表接待（预约号 {{ booking_id }}，场次 {{ session_id }}）。\n"
        "请按时到联络站，如不能前来请及时取消。\n" + LINK_LINE,
    ),
    "en": (
        "Reminder: your reception tomorrow, {{ local_date(session_date) }} at {{ local_start }}",
        "A reminder: tomorrow ({{ local_date(session_date) }}, {{ local_start }} to "
        "{{ local_end }}) you have a place at the deputies' reception (booking "
        "{{ booking_id }}, session {{ session_id }}).\nPlease come on time, or cancel if "
        "you cannot.\n" + LINK_LINE,
    ),
}
TEMPLATES = sa.table(
    "notifications_templates",
    sa.column("key", sa.String),
    sa.column("locale", sa.String),
    sa.column("subject", sa.String),
    sa.column("text_body", sa.Text),
    sa.column("html_body", sa.Text),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _html(text: str) -> str:
    """The HTML body the defaults make of a text body (`notifications.rules._html`)."""
    text = text.removesuffix(LINK_LINE)
    body = "\n".join(f"<p>{line}</p>" for line in text.strip().splitlines() if line.strip())
    return body + '\n{% if link %}<p><a href="{{ link }}">{{ link }}</a></p>{% endif %}'


def _replace(old: dict[str, tuple[str, str]], new: dict[str, tuple[str, str]]) -> None:
    for locale, (subject, text) in old.items():
        new_subject, new_text = new[locale]
        op.execute(
            TEMPLATES.update()
            .where(
                TEMPLATES.c.key == KEY,
                TEMPLATES.c.locale == locale,
                TEMPLATES.c.subject == subject,
                TEMPLATES.c.text_body == text,
                TEMPLATES.c.html_body == _html(text),
            )
            .values(
                subject=new_subject,
                text_body=new_text,
                html_body=_html(new_text),
                updated_at=sa.func.now(),
            )
        )


def upgrade() -> None:
    _replace(BEFORE, AFTER)


def downgrade() -> None:
    _replace(AFTER, BEFORE)
