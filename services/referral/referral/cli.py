"""`referral <command>`: the referral service's operator commands.

    referral load-demo [--if-empty]  the demo letters (none yet: the demo
                                     half year of letters is not built; letters
                                     open from opinions handed on)

`make up` runs `load-demo --if-empty` at every start.
"""

from __future__ import annotations

import argparse

from kit.logging import configure_logging
from referral.bootstrap import ReferralBootstrap


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="referral")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("load-demo", help="load the demo letters")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="load only when there is no letter yet; leave existing data alone",
    )
    parser.parse_args(argv)
    boot = ReferralBootstrap.for_process("cli")
    configure_logging(boot.settings)
    try:
        print("the referral service has no demo letters yet: letters open from opinions handed on")
    finally:
        boot.close()


if __name__ == "__main__":
    main()
