"""`python -m reception.migrate`: bring the reception database to the newest revision."""

from __future__ import annotations

from reception.bootstrap import ReceptionBootstrap


def main() -> None:
    ReceptionBootstrap.for_process("migrate").run_migrations()


if __name__ == "__main__":
    main()
