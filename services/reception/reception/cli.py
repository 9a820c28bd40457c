"""`reception <command>`: the reception service's operator commands.

    reception load-registry          load the registry's snapshot into the read model now
    reception schedule [--station N] [--from YYYY-MM] [--months N]
                                     schedule regular sessions (idempotent)
    reception load-demo [--if-empty] the demo calendar (needs the registry's api up)

`load-demo` first loads the registry's snapshot when the read model is
empty; `--if-empty` loads the demo calendar only while no session exists,
as `make up` does at every start, so that what people changed is left alone.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from kit.auth import Principal
from kit.logging import configure_logging
from reception.bootstrap import ReceptionBootstrap
from reception.demo_data import has_sessions, load_demo
from reception.domain import today
from reception.readmodel import is_empty

OPERATOR = Principal.system("reception-cli")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="reception")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("load-registry", help="load the registry's snapshot into the read model")
    schedule = sub.add_parser("schedule", help="schedule regular sessions (idempotent)")
    schedule.add_argument("--station", type=int, default=0, help="one station (default: all)")
    schedule.add_argument("--from", dest="from_month", default="", help="YYYY-MM (default: now)")
    schedule.add_argument("--months", type=int, default=0, help="how many months (default: 4)")
    demo = sub.add_parser("load-demo", help="load the demo calendar")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="load only when there is no session yet; leave existing data alone",
    )
    args = parser.parse_args(argv)
    boot = ReceptionBootstrap.for_process("cli")
    configure_logging(boot.settings)
    try:
        if args.command == "load-registry":
            print(json.dumps({"registry_version": boot.load_registry()}))
        elif args.command == "schedule":
            done = boot.reception.schedule(args.station, args.from_month, args.months, OPERATOR)
            print(json.dumps({"created": len(done.created), "existing": done.existing}))
        elif args.command == "load-demo":
            if is_empty(boot.db):
                boot.load_registry()
            if args.if_empty and has_sessions(boot.reception):
                print("the reception calendar holds sessions already: the demo was not loaded")
            else:
                print(json.dumps(asdict(load_demo(boot.reception, today()))))
    finally:
        boot.close()


if __name__ == "__main__":
    main()
