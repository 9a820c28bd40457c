"""The referral service's settings: the platform's (kit.settings); none of
its own yet (the stage clocks and reminder days will be)."""

from __future__ import annotations

from dataclasses import dataclass

from kit.settings import Settings


@dataclass(frozen=True)
class ReferralSettings(Settings):
    pass
