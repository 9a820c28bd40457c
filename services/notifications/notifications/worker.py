"""`python -m notifications.worker`: the notifications service's nameko worker
(`notifications.consumers.NotificationsWorker`), run green."""

from kit.green import patch

patch()

from kit.worker import run  # noqa: E402
from notifications.bootstrap import NotificationsBootstrap  # noqa: E402
from notifications.consumers import NotificationsWorker  # noqa: E402


def main() -> None:
    run(NotificationsWorker, NotificationsBootstrap.for_process("worker"))


if __name__ == "__main__":
    main()
