"""`python -m duties.migrate`: bring the duties database to the newest revision."""

from __future__ import annotations

from duties.bootstrap import DutiesBootstrap


def main() -> None:
    DutiesBootstrap.for_process("migrate").run_migrations()


if __name__ == "__main__":
    main()
