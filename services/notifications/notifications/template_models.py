"""Templates' table (on `notifications.models.Base`): `notifications_templates`,
one row per template key and locale (`notifications.templates`), its
subject, text and HTML bodies. `is_default` marks what the platform's
defaults loaded; the defaults never overwrite a row that exists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kit.tables import Id, utcnow
from notifications.models import Base


class TemplateRow(Base):
    __tablename__ = "notifications_templates"
    __table_args__ = (
        UniqueConstraint("key", "locale", name="uq_notifications_templates_key_locale"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(String(500), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
