"""A per-client token bucket on writes.

In-process by design: each gateway replica limits on its own, which bounds a
client to (replicas x rate); enough to stop a runaway script without a shared
store on the request path.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from gateway.auth import optional_principal
from gateway.problems import ProblemError

# Buckets idle this long are full again, so they can be forgotten.
_IDLE_SECONDS = 600.0
_SWEEP_EVERY = 1000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    def __init__(self, rate_per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(max(rate_per_minute, 1))
        self.refill_per_second = max(rate_per_minute, 1) / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._calls = 0

    def take(self, key: str) -> float:
        """Take one token for `key`; 0.0 when granted, else seconds to wait."""
        now = self.clock()
        with self._lock:
            self._calls += 1
            if self._calls % _SWEEP_EVERY == 0:
                self._sweep(now)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.capacity, now)
            bucket.tokens = min(
                self.capacity, bucket.tokens + (now - bucket.updated) * self.refill_per_second
            )
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.refill_per_second

    def _sweep(self, now: float) -> None:
        stale = [k for k, b in self._buckets.items() if now - b.updated > _IDLE_SECONDS]
        for key in stale:
            del self._buckets[key]


async def limit_writes(request: Request) -> None:
    """Dependency on every write route: 429 with Retry-After when over the rate."""
    try:
        principal = await optional_principal(request)
    except ProblemError:
        principal = None  # the route answers 401 after the limit is applied
    if principal is not None:
        key = f"sub:{principal.sub}"
    else:
        key = f"ip:{request.client.host if request.client else 'unknown'}"
    limiter: TokenBucketLimiter = request.app.state.write_limiter
    wait = limiter.take(key)
    if wait > 0:
        raise ProblemError(
            429,
            "too many writes from this client",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
