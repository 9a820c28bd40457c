"""`python -m registry.worker`: the registry's nameko worker.

It relays the registry's outbox to RabbitMQ and, once a day, ends the
mandates of deputies whose term is over (deactivating them with the reason,
which tells every other service through `deputy_deactivated`).
"""

from kit.green import patch

patch()

import logging  # noqa: E402

from nameko.timer import timer  # noqa: E402
from sqlalchemy import select  # noqa: E402

from kit.settings import Settings  # noqa: E402
from kit.worker import PlatformWorker, process_database, run  # noqa: E402
from registry import domain, models  # noqa: E402
from registry.migrate import MIGRATIONS  # noqa: E402
from registry.records import DEPUTY  # noqa: E402
from registry.service import Registry  # noqa: E402

log = logging.getLogger(__name__)

TERM_SWEEP_SECONDS = 6 * 3600


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
        registry.deactivate(DEPUTY, deputy_id, "term of office ended")
    return len(ids)


class RegistryWorker(PlatformWorker):
    name = "registry"

    @timer(interval=TERM_SWEEP_SECONDS)
    def sweep_ended_terms(self) -> None:
        settings = Settings.load("registry", "worker")
        ended = end_finished_terms(Registry(process_database(settings)))
        if ended:
            log.info("ended the mandates of %d deputies whose term is over", ended)


def main() -> None:
    run(RegistryWorker, Settings.load("registry", "worker"), MIGRATIONS)


if __name__ == "__main__":
    main()
