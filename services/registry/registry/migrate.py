"""`python -m registry.migrate`: bring the registry's database to the newest revision."""

from __future__ import annotations

from registry.bootstrap import RegistryBootstrap


def main() -> None:
    RegistryBootstrap.for_process("migrate").run_migrations()


if __name__ == "__main__":
    main()
