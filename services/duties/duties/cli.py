"""`duties <command>`: the duties service's operator commands.

    duties load-demo [--if-empty]  the demo year of deputies' duties

`make up` runs `load-demo --if-empty` at every start. The demo year is
loaded by each part of the service that has one, each through its use
cases, and with --if-empty only while the service holds none of that part:
activities and visits (`duties.activity_demo`), the report plan and
learning materials (`duties.scorecard_demo`), report meetings and their
ballots of the deputies the plan has report this year (`duties.ballot_demo`),
research (`duties.research_demo`) and constituents' ratings
(`duties.rating_demo`).

Research is loaded only where the development issuer is enabled (the local
run, the tests' platforms): a grant reads the street's budget line from the
registry with the street committee's own token, and the loader's are that
issuer's (`research_demo.CommitteeTokens`). Elsewhere it says so and loads
the rest.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import datetime

from duties import activity_demo, ballot_demo, rating_demo, research_demo, scorecard_demo
from duties.activity_registry import GrpcRegistryLookups
from duties.bootstrap import DutiesBootstrap
from kit.auth import AuthConfigurationError
from kit.logging import configure_logging
from kit.workdays import SHANGHAI


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="duties")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("load-demo", help="load the demo year of deputies' duties")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="load each part only while the service holds none of it; leave data alone",
    )
    args = parser.parse_args(argv)
    boot = DutiesBootstrap.for_process("cli")
    configure_logging(boot.settings)
    try:
        _load_demo(boot, if_empty=args.if_empty)
    finally:
        boot.close()


def _load_demo(boot: DutiesBootstrap, *, if_empty: bool) -> None:
    today = datetime.now(SHANGHAI).date()
    deputies = boot.deputies.all_active()
    loaded: dict[str, object] = {}
    if if_empty and activity_demo.has_demo(boot.activities):
        print("activities and visits: the demo year is in already; nothing was loaded")
    else:
        activities = activity_demo.load_demo(boot.activities, deputies, today)
        loaded["activities_and_visits"] = asdict(activities)
    # The plan first: the report meetings are of the deputies it has report.
    print(scorecard_demo.load_demo(boot.db, boot.report_plans, boot.learning, if_empty=if_empty))
    if if_empty and ballot_demo.has_demo(boot.ballots):
        print("report meetings and ballots: the demo year is in already; nothing was loaded")
    else:
        due = boot.report_plans.reporting_in(activity_demo.demo_year(today)[0].year)
        meetings = ballot_demo.load_demo(boot.ballots, deputies, today, planned=due)
        loaded["report_meetings"] = asdict(meetings)
    if if_empty and research_demo.has_demo(boot.activities):
        print("research: the demo year is in already; nothing was loaded")
    else:
        try:
            tokens = research_demo.CommitteeTokens(boot.settings.auth)
        except AuthConfigurationError:
            print(
                "research: not loaded: a grant reads the budget line with the street "
                "committee's token, and only the development issuer gives the loader one"
            )
        else:
            lookups = GrpcRegistryLookups(boot.registry_stub)
            research = research_demo.load_demo(
                boot.activities,
                deputies,
                today,
                bearer=tokens,
                find_line=lookups.street_operations_line,
            )
            loaded["research"] = asdict(research)
    if if_empty and rating_demo.has_demo(boot.duty_records):
        print("ratings: the demo year is in already; nothing was loaded")
    else:
        loaded["ratings"] = asdict(rating_demo.load_demo(boot.duty_records, deputies, today))
    if loaded:
        print(json.dumps(loaded, ensure_ascii=False))


if __name__ == "__main__":
    main()
