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
        # The app reads X-Forwarded-For itself, from LIAISON_GATEWAY_TRUSTED_PROXIES
        # only; uvicorn's own default would trust any local peer.
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
