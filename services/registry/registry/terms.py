"""Deputies' terms of office: ending the mandates whose term is over.

Kept apart from `registry.worker` (which patches the standard library for
eventlet when imported) so the sweep can be called from anywhere.
"""

from __future__ import annotations

from sqlalchemy import select

from kit.auth import Principal
from registry import domain, models
from registry.records import DEPUTY
from registry.service import Registry

TERM_ENDED_REASON = "term of office ended"
TERM_SWEEP = Principal.system("registry-worker")


def end_finished_terms(registry: Registry) -> int:
    """Deactivate active deputies whose term ended before today; how many."""
    today = domain.today()
    with registry.db.read() as session:
        ids = list(
            session.scalars(
                select(models.Deputy.id).where(
                    models.Deputy.active.is_(True),
                    models.Deputy.term_end.is_not(None),
                    models.Deputy.term_end < today,
                )
            )
        )
    for deputy_id in ids:
        registry.deactivate(DEPUTY, deputy_id, TERM_ENDED_REASON, TERM_SWEEP)
    return len(ids)
