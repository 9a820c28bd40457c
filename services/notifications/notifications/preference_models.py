"""Preferences' tables (on `notifications.models.Base`).

- `notifications_preferences`: one row per address (`notifications.addresses`)
  that has chosen anything: its contacts (an email address, a mobile phone
  in E.164, a WeChat openid: personal data, never logged, never in events
  or the audit's text), its language, its quiet hours (Asia/Shanghai local
  times, off until set);
- `notifications_kind_preferences`: per address and kind of message
  (`notifications.preferences.KINDS`): the channels chosen (a comma list of
  `CHANNELS`; the inbox is always on), muted, and the hour of a daily
  digest (None: each message on its own).

An address without a row has the defaults (`notifications.preferences`):
no contacts, zh-CN, no quiet hours, every channel a rule uses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kit.tables import Id, utcnow
from notifications.models import Base


class AddressPreferences(Base):
    __tablename__ = "notifications_preferences"
    __table_args__ = (UniqueConstraint("address", name="uq_notifications_preferences_address"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(240))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    wechat_openid: Mapped[str] = mapped_column(String(64), default="")
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    quiet_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")  # HH:MM, Asia/Shanghai
    quiet_end: Mapped[str] = mapped_column(String(5), default="08:00")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class KindPreferences(Base):
    __tablename__ = "notifications_kind_preferences"
    __table_args__ = (
        UniqueConstraint("address", "kind", name="uq_notifications_kind_preferences"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(240))
    kind: Mapped[str] = mapped_column(String(40))
    channels: Mapped[str] = mapped_column(String(100))  # "inbox,email,sms"
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    # The hour (0-23, Asia/Shanghai) of the daily digest; None: one by one.
    digest_hour: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
