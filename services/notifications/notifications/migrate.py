"""`python -m notifications.migrate`: bring the notifications database to the newest revision."""

from __future__ import annotations

from notifications.bootstrap import NotificationsBootstrap


def main() -> None:
    NotificationsBootstrap.for_process("migrate").run_migrations()


if __name__ == "__main__":
    main()
