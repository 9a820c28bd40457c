"""`referral <command>`: the referral service's operator commands.

    referral load-demo [--if-empty]  the demo data: no letters yet (the demo
                                     half year of letters is not built; letters
                                     open from opinions handed on); the 59
                                     suggestions of the district congress's
                                     8th congress, 3rd session, rated
                                     (referral.suggestion_demo), unless loaded

`make up` runs `load-demo --if-empty` at every start.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from kit.logging import configure_logging
from referral.bootstrap import ReferralBootstrap
from referral.suggestion_demo import has_demo, load_demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="referral")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("load-demo", help="load the demo suggestions")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="load only when there is no suggestion yet; leave existing data alone",
    )
    args = parser.parse_args(argv)
    boot = ReferralBootstrap.for_process("cli")
    configure_logging(boot.settings)
    try:
        print("the referral service has no demo letters yet: letters open from opinions handed on")
        if has_demo(boot.db, any_session=args.if_empty):
            print("the referral service holds suggestions already: the demo was not loaded")
        else:
            print(json.dumps(asdict(load_demo(boot.suggestions))))
    finally:
        boot.close()


if __name__ == "__main__":
    main()
