"""`python -m registry.worker`: the registry's nameko worker.

It relays the registry's outbox to RabbitMQ and, every few hours, ends the
mandates of deputies whose term is over (deactivating them with the reason,
which tells every other service through `deputy_deactivated`).
"""

from kit.green import patch

patch()

import logging  # noqa: E402

from nameko.timer import timer  # noqa: E402

from kit.worker import PlatformWorker, Provide, run  # noqa: E402
from registry.bootstrap import RegistryBootstrap  # noqa: E402
from registry.service import Registry  # noqa: E402
from registry.terms import end_finished_terms  # noqa: E402

log = logging.getLogger(__name__)

TERM_SWEEP_SECONDS = 6 * 3600


class RegistryWorker(PlatformWorker):
    name = "registry"
    # Built once by the process's bootstrap, not on every tick.
    registry: Registry = Provide("registry")

    @timer(interval=TERM_SWEEP_SECONDS)
    def sweep_ended_terms(self) -> None:
        ended = end_finished_terms(self.registry)
        if ended:
            log.info("ended the mandates of %d deputies whose term is over", ended)


def main() -> None:
    run(RegistryWorker, RegistryBootstrap.for_process("worker"))


if __name__ == "__main__":
    main()
