"""`registry load-demo`: load the demo district (idempotent)."""

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
    args = parser.parse_args(argv)
    settings = Settings.load("registry", "cli")
    configure_logging(settings)
    if args.command == "load-demo":
        registry = build_registry(settings)
        district = build_district(args.seed)
        Loader(registry).load_district(district)
        print(json.dumps(summary(district), ensure_ascii=False))
        registry.db.dispose()


if __name__ == "__main__":
    main()
