"""`registry load-demo`: load the demo district (idempotent: upserts by code).

`--if-empty` loads it only into a registry without any street, as `make up`
does at every start, so that what people changed since is left alone.
"""

from __future__ import annotations

import argparse
import json

from kit.logging import configure_logging
from kit.settings import Settings
from registry.api import build_registry
from registry.demo_data import build_district, summary
from registry.loading import Loader


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="registry")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("load-demo", help="load the demo district at its real scale")
    demo.add_argument("--seed", type=int, default=2014)
    demo.add_argument(
        "--if-empty",
        action="store_true",
        help="load only when the registry has no street yet; leave existing data alone",
    )
    args = parser.parse_args(argv)
    settings = Settings.load("registry", "cli")
    configure_logging(settings)
    if args.command == "load-demo":
        registry = build_registry(settings)
        district = build_district(args.seed)
        try:
            loaded = Loader(registry).load_district(district, if_empty=args.if_empty)
        finally:
            registry.db.dispose()
        if loaded is None:
            print("the registry holds streets already: the demo district was not loaded")
        else:
            print(json.dumps(summary(district), ensure_ascii=False))


if __name__ == "__main__":
    main()
