"""Rate limits on the actions worth abusing: starting a sign-in, redeeming, referring.

Each is limited per session, per member and per client address, with the `limits` library's
moving window (in-process, or in the Redis of MEMBER_APP_CACHE_URL so that replicas count
together). The per-address limits are generous: a kiosk or a gym's wifi puts many members
behind one address. If Redis fails, the request is let through (logged): a limit must never
lock members out.
"""

from __future__ import annotations

import logging
import math
import time

import redis.asyncio as redis
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

# action: (per session and per member, per client address)
LIMITS: dict[str, tuple[str, str]] = {
    # Every anonymous route that calls Perkville: starting a sign-in (identify asks Perkville
    # for a token) and the two callbacks (a code exchange, a user look-up).
    "signin": ("20/minute", "120/minute"),
    "callback": ("20/minute", "120/minute"),
    "redeem": ("10/minute", "120/minute"),
    "refer": ("10/hour", "100/hour"),
}


class RateLimited(Exception):
    """Too many of one action: the member is asked to wait `retry_after` seconds."""

    def __init__(self, action: str, retry_after: int) -> None:
        super().__init__(action)
        self.action = action
        self.retry_after = retry_after


class RateLimits:
    def __init__(self, cache_url: str, *, enabled: bool = True) -> None:
        self._enabled = enabled
        storage: Storage
        self._pool: redis.ConnectionPool | None = None
        if cache_url == "memory":
            storage = MemoryStorage()
        else:
            # Our own pool (redis-py, the client the cache uses), so shutdown can close it.
            self._pool = redis.ConnectionPool.from_url(
                cache_url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
            scheme, rest = cache_url.split("://", 1)  # limits wants `async+` URLs
            scheme = {"unix": "redis+unix"}.get(scheme, scheme)
            storage = RedisStorage(
                f"async+{scheme}://{rest}",
                implementation="redispy",
                connection_pool=self._pool,  # type: ignore[arg-type]  # documented, typed narrowly
            )
        self._limiter = MovingWindowRateLimiter(storage)
        self._items: dict[str, tuple[RateLimitItem, RateLimitItem]] = {
            action: (parse(per_session), parse(per_address))
            for action, (per_session, per_address) in LIMITS.items()
        }

    async def check(
        self, action: str, *, address: str, session_id: str | None, member_id: int | None
    ) -> None:
        """Count one `action` by this address, session and member; raise RateLimited when
        any of them is over its limit. The member's count outlives their sessions, so signing
        in again does not reset it."""
        if not self._enabled:
            return
        per_member, per_address = self._items[action]
        keys = [(per_address, f"{action}:ip:{address}")]
        if session_id is not None:
            keys.append((per_member, f"{action}:sid:{session_id}"))
        if member_id is not None:
            keys.append((per_member, f"{action}:member:{member_id}"))
        try:
            for item, key in keys:
                if not await self._limiter.hit(item, key):
                    reset, _ = await self._limiter.get_window_stats(item, key)
                    wait = max(1, math.ceil(reset - time.time()))
                    log.info("rate limit on %s (%s)", action, key.split(":")[1])
                    raise RateLimited(action, wait)
        except RateLimited:
            raise
        except Exception as exc:  # the limiter's store is down: let the member through
            log.warning("rate limiter unavailable: %s", type(exc).__name__)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
