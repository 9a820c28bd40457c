"""Which reception session (and slot) a message is about, for its email's
iCalendar attachment (`notifications.calendars`).

`notifications_message_sessions`: one row per message the fan-out wrote of
an event that names a session and its slot (a booking confirmed, a booking
promoted off the waitlist, the reminder the day before). Ids only: the session's date, time and venue
are asked of reception when the email goes, so the attachment shows the
session as it is then.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from notifications.models import Base


class MessageSession(Base):
    __tablename__ = "notifications_message_sessions"

    message_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notifications_messages.id"), primary_key=True, autoincrement=False
    )
    session_id: Mapped[int] = mapped_column(BigInteger)
    slot_id: Mapped[int] = mapped_column(BigInteger)
