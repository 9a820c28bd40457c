"""Rules' table (on `notifications.models.Base`): `notifications_rules`, one
row per rule key (`notifications.rules.Rule`); channels as a comma-separated
list, conditions as JSON. Never deleted: a rule is disabled, so the
messages it made keep naming it. `is_default` marks what the platform's
defaults loaded; the defaults never overwrite a row that exists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kit.tables import Id, utcnow
from notifications.models import Base


class RuleRow(Base):
    __tablename__ = "notifications_rules"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    event_type: Mapped[str] = mapped_column(String(100), index=True)
    audience: Mapped[str] = mapped_column(String(60))
    template_key: Mapped[str] = mapped_column(String(100))
    channels: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    conditions: Mapped[str] = mapped_column(Text, default="{}")
    link: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(String(500), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
