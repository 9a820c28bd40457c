"""`python -m referral.migrate`: bring the referral database to the newest revision."""

from __future__ import annotations

from referral.bootstrap import ReferralBootstrap


def main() -> None:
    ReferralBootstrap.for_process("migrate").run_migrations()


if __name__ == "__main__":
    main()
