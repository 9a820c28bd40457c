"""`notifications <command>`: the notifications service's operator commands.

    notifications load-defaults           the default rules and templates it lacks
    notifications load-demo [--if-empty]  the demo data of notifications

`make up` runs `load-demo --if-empty` at every start. Each part of the
service that has demo data loads its own: the default rules and templates
(`load-defaults`, also run by every migrate: only the keys the service
lacks, never over an admin's change), and the demo conversations
(`notifications.conversation_demo`, through the conversation use cases,
with the registry's stations and deputies: the registry runs before
notifications in the local run). With --if-empty the conversations are
loaded only while the service holds none; without it, unless the demo's
are in. A registry that cannot be reached leaves them out, said so; the
rest is loaded.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import datetime

from kit.errors import Unavailable
from kit.logging import configure_logging
from notifications import conversation_demo
from notifications.bootstrap import NotificationsBootstrap
from notifications.preferences import SHANGHAI


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="notifications")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("load-demo", help="load the demo data of notifications")
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="load each part only while the service holds none of it; leave data alone",
    )
    sub.add_parser("load-defaults", help="add the default rules and templates it lacks")
    args = parser.parse_args(argv)
    boot = NotificationsBootstrap.for_process("cli")
    configure_logging(boot.settings)
    try:
        # load-demo loads the defaults too: the demo conversations' rules.
        loaded = boot.rulebook.load_defaults()
        print(
            f"default rules and templates: {loaded.rules} rules and {loaded.templates} "
            "templates added (those there already left as they are)"
        )
        if args.command == "load-demo":
            load_conversations(boot, if_empty=args.if_empty)
    finally:
        boot.close()


def load_conversations(boot: NotificationsBootstrap, *, if_empty: bool) -> None:
    """The demo conversations, unless there are some (--if-empty) or the
    demo's are in; one line said either way."""
    if if_empty and conversation_demo.has_any(boot.db):
        print("conversations: the service holds some already; nothing was loaded")
        return
    if conversation_demo.has_demo(boot.db):
        print("conversations: the demo's are in already; nothing was loaded")
        return
    today = datetime.now(SHANGHAI).date()
    try:
        loaded = conversation_demo.load_demo(boot.conversations, today)
    except (Unavailable, conversation_demo.NoStations) as error:
        print(f"conversations: not loaded: {error}")
        return
    print(json.dumps({"conversations": asdict(loaded)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
