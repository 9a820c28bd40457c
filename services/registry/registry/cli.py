"""`registry load-demo`: load the demo district (idempotent: upserts by code).

`--if-empty` loads it only into a registry without any street, as `make up`
does at every start, so that what people changed since is left alone.
"""

from __future__ import annotations

import argparse
import json

from kit.logging import configure_logging
from registry.bootstrap import RegistryBootstrap
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
    boot = RegistryBootstrap.for_process("cli")
    configure_logging(boot.settings)
    try:
        if args.command == "load-demo":
            district = build_district(args.seed)
            loaded = Loader(boot.registry).load_district(district, if_empty=args.if_empty)
            if loaded is None:
                print("the registry holds streets already: the demo district was not loaded")
            else:
                print(json.dumps(summary(district), ensure_ascii=False))
    finally:
        boot.close()


if __name__ == "__main__":
    main()
