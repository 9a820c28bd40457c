"""The duties service as a whole: what is not one part's (the parts each have
a use-case class of their own, wired in `duties.bootstrap`)."""

from __future__ import annotations

from typing import Any

from kit.auth import Principal
from kit.db import Database
from kit.records import audit_page


class Duties:
    def __init__(self, db: Database) -> None:
        self.db = db

    def audit(self, request: Any, actor: Principal | None) -> tuple[list[Any], Any]:
        """The audit of every change the service made: admin only."""
        return audit_page(self.db, request, actor)
