"""The platform's HTTP gateway: JSON API under /api/v1 over the services' gRPC
APIs, with bearer-token auth, problem+json errors, OpenAPI and metrics.

Entry points: `python -m gateway` (uvicorn, with LIAISON_GATEWAY_WORKERS
worker processes: gateway.cli), `gateway.app:create_app`, and the
module-level `gateway.app:app`.
"""
