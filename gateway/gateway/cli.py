"""`python -m gateway`: serve the gateway with uvicorn."""

from __future__ import annotations

import uvicorn

from gateway.config import GatewaySettings
from gateway.observability import configure_logging
from kit.settings import Settings


def main() -> None:
    settings = GatewaySettings.load()
    configure_logging(Settings.load("gateway", "gateway"))
    from gateway.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,  # keep the JSON logging configured above
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
