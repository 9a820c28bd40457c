"""Per-client rate limits on the API, one for reads and one for writes.

Counted with the `limits` library's sliding-window counter: in Redis when
LIAISON_RATE_LIMIT_REDIS_URL is set, so every gateway replica and every
worker process (gateway.cli) shares one count per client; in this process's
memory otherwise (each worker of each replica then limits on its own, which
bounds a client to replicas x workers x rate).

A client is the subject of its bearer token when it sends a valid one, else
its address. The address is the direct peer, or, when that peer is one of
LIAISON_GATEWAY_TRUSTED_PROXIES, the first untrusted address in
X-Forwarded-For (uvicorn's ProxyHeadersMiddleware, installed by the app).

When Redis cannot be reached the limit does not fail closed: the request is
counted in this process's memory instead, so a runaway client is still held
to the per-replica rate while the public directory stays up. Each failure is
counted in `liaison_gateway_rate_limit_storage_errors_total` and logged as a
warning, and Redis is not asked again for a few seconds, so an outage costs
one socket timeout per replica, not one per request.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Literal

from fastapi import Request
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.auth import optional_principal
from gateway.config import GatewaySettings
from gateway.observability import GatewayMetrics
from gateway.problems import ProblemError

log = logging.getLogger("gateway.ratelimit")

Kind = Literal["read", "write"]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
KEY_PREFIX = "liaison:gateway:ratelimit"
# A rate-limit check is on every request's path: Redis answers in well under
# a millisecond on a sound network, so a slow answer is treated as an outage.
REDIS_TIMEOUT_SECONDS = 0.25
# After a failure the shared count is left alone this long.
REDIS_RETRY_AFTER_SECONDS = 5.0


class RateLimits:
    """The read and write limits of one gateway app."""

    def __init__(self, settings: GatewaySettings, metrics: GatewayMetrics) -> None:
        self.items: dict[Kind, RateLimitItem] = {
            "read": RateLimitItemPerMinute(settings.read_rate_per_minute, namespace="read"),
            "write": RateLimitItemPerMinute(settings.write_rate_per_minute, namespace="write"),
        }
        self.metrics = metrics
        self.local = SlidingWindowCounterRateLimiter(MemoryStorage())
        self._pool: ConnectionPool | None = None
        self.shared: SlidingWindowCounterRateLimiter | None = None
        if settings.rate_limit_redis_url:
            self._pool = ConnectionPool.from_url(
                settings.rate_limit_redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                # No retries on the request path; the fallback below covers it.
                retry=Retry(NoBackoff(), 0),
            )
            storage: Storage = RedisStorage(
                "async+" + settings.rate_limit_redis_url,
                implementation="redispy",
                key_prefix=KEY_PREFIX,
                wrap_exceptions=True,
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
            self.shared = SlidingWindowCounterRateLimiter(storage)
        self._shared_down_until = 0.0

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()

    async def hit(self, kind: Kind, client: str) -> float | None:
        """Count one request of `client`: None when allowed, else seconds to wait."""
        item = self.items[kind]
        limiter = self.local
        if self.shared is not None and time.monotonic() >= self._shared_down_until:
            limiter = self.shared
        try:
            return await _hit(limiter, item, client)
        except (StorageError, RedisError, OSError) as exc:
            if limiter is self.local:
                raise
            self._shared_down_until = time.monotonic() + REDIS_RETRY_AFTER_SECONDS
            self.metrics.rate_limit_storage_errors.inc()
            log.warning(
                "rate-limit storage unreachable (%s); counting in this process for %.0f s",
                type(exc).__name__,
                REDIS_RETRY_AFTER_SECONDS,
            )
            return await _hit(self.local, item, client)


async def _hit(
    limiter: SlidingWindowCounterRateLimiter, item: RateLimitItem, client: str
) -> float | None:
    if await limiter.hit(item, client):
        return None
    stats = await limiter.get_window_stats(item, client)
    return max(0.0, stats.reset_time - time.time())


async def client_key(request: Request) -> str:
    """Whom a request is counted against: its token's subject, else its address."""
    try:
        principal = await optional_principal(request)
    except ProblemError:
        principal = None  # the route answers 401 after the limit is applied
    if principal is not None:
        return f"sub:{principal.sub}"
    return f"ip:{request.client.host if request.client else 'unknown'}"


async def rate_limit(request: Request) -> None:
    """Dependency of every API route: 429 with Retry-After when over the rate."""
    kind: Kind = "read" if request.method in READ_METHODS else "write"
    limits: RateLimits = request.app.state.rate_limits
    wait = await limits.hit(kind, await client_key(request))
    if wait is not None:
        limits.metrics.rate_limited.labels(kind).inc()
        raise ProblemError(
            429,
            f"too many {kind}s from this client",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
