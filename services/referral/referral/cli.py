"""`referral <command>`: the referral service's operator commands.

    referral load-demo [--if-empty]  the demo half year of letters
                                     (referral.demo_letters) and the 59
                                     suggestions of the district congress's
                                     8th congress, 3rd session, rated
                                     (referral.suggestion_demo)

`make up` runs `load-demo --if-empty` at every start: it loads the demo
letters only while there is no letter at all, so what people changed is left
alone; without `--if-empty` the demo letters are added unless they are in.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import UTC, datetime

from kit.logging import configure_logging
from kit.workdays import SHANGHAI
from referral import demo_letters
from referral.bootstrap import ReferralBootstrap
from referral.suggestion_demo import has_demo, load_demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="referral")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("load-demo", help="load the demo letters and suggestions")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="load each part only while the service holds none of it; leave data alone",
    )
    args = parser.parse_args(argv)
    boot = ReferralBootstrap.for_process("cli")
    configure_logging(boot.settings)
    try:
        if args.command == "load-demo":
            load_demo_letters(boot, if_empty=args.if_empty)
            if has_demo(boot.db, any_session=args.if_empty):
                print("the referral service holds suggestions already: the demo was not loaded")
            else:
                print(json.dumps(asdict(load_demo(boot.suggestions)), ensure_ascii=False))
    finally:
        boot.close()


def load_demo_letters(boot: ReferralBootstrap, *, if_empty: bool) -> None:
    """The demo half year of letters up to today (Asia/Shanghai)."""
    if if_empty and demo_letters.has_letters(boot.db):
        print("the referral service holds letters already: the demo was not loaded")
        return
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    print(json.dumps(asdict(demo_letters.load_demo(boot.db, today)), ensure_ascii=False))


if __name__ == "__main__":
    main()
