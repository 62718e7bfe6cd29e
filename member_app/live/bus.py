"""How replicas share the live updates: which one polls (the leader), where the poll got to,
whether anyone watches at all, and the changes fanned out to every replica.

- `LocalBus`: one process (`MEMBER_APP_CACHE_URL=memory`): it always leads, and a change goes
  straight to this process's hub.
- `RedisBus`: replicas sharing one Redis. The leader holds a lock that expires unless renewed
  (`SET NX PX`, renewed by a script that checks it is still ours), so a replica that dies
  hands over within a few intervals; changes go out with `PUBLISH` and every replica's
  subscriber hands them to its own hub. Redis failing never fails a page or a stream: each
  replica then polls for itself and delivers to its own watchers, which costs one poll per
  replica instead of one per deployment until Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import redis.asyncio as redis

from .changes import Change

log = logging.getLogger(__name__)

Deliver = Callable[[list[Change]], None]

# Acquire the lock, or renew it if it is ours: one round trip, no race between the two.
_LEAD = """
local holder = redis.call('get', KEYS[1])
if not holder then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RESIGN = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
# How long the poll's place is kept once nobody polls: a leader taking over within this
# continues where the last one stopped; after it, polling starts again from now.
CURSOR_KEEP_SECONDS = 300
MAX_RECONNECT_SECONDS = 30.0


class Bus(Protocol):
    async def start(self, deliver: Deliver) -> None: ...

    async def publish(self, changes: list[Change]) -> None: ...

    async def lead(self, seconds: float) -> bool: ...

    async def resign(self) -> None: ...

    async def mark_watched(self, seconds: float) -> None: ...

    async def anyone_watching(self) -> bool: ...

    async def load_cursor(self) -> datetime | None: ...

    async def save_cursor(self, cursor: datetime) -> None: ...

    async def aclose(self) -> None: ...


class LocalBus:
    """A deployment of one process."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None
        self._cursor: datetime | None = None

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def publish(self, changes: list[Change]) -> None:
        if self._deliver is not None:
            self._deliver(changes)

    async def lead(self, seconds: float) -> bool:
        return True

    async def resign(self) -> None:
        return None

    async def mark_watched(self, seconds: float) -> None:
        return None  # the only watchers are this process's own, which the poller sees

    async def anyone_watching(self) -> bool:
        return False

    async def load_cursor(self) -> datetime | None:
        return self._cursor

    async def save_cursor(self, cursor: datetime) -> None:
        self._cursor = cursor

    async def aclose(self) -> None:
        self._deliver = None


class RedisBus:
    """Replicas sharing one Redis (`MEMBER_APP_CACHE_URL`)."""

    def __init__(self, url: str, business_id: int) -> None:
        prefix = f"member-app:live:{business_id}:"
        self._channel = prefix + "changes"
        self._leader_key = prefix + "leader"
        self._watched_key = prefix + "watched"
        self._cursor_key = prefix + "cursor"
        self._me = secrets.token_hex(8)
        self._redis = redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        # The subscriber waits for messages as long as it likes: no read timeout.
        self._listener = redis.from_url(url, socket_connect_timeout=1.0, health_check_interval=30)
        self._lead = self._redis.register_script(_LEAD)
        self._resign = self._redis.register_script(_RESIGN)
        self._errors = (redis.RedisError, OSError)
        self._deliver: Deliver | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"RedisBus(channel={self._channel!r})"  # never the URL: it may hold a password

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._task = asyncio.create_task(self._listen(deliver), name="live bus")

    async def publish(self, changes: list[Change]) -> None:
        raw = json.dumps([c.message() for c in changes], separators=(",", ":"))
        try:
            await self._redis.publish(self._channel, raw)
        except self._errors as exc:
            log.warning("live: publishing failed (%s); delivering here only", type(exc).__name__)
            if self._deliver is not None:
                self._deliver(changes)

    async def lead(self, seconds: float) -> bool:
        try:
            won = await self._lead(keys=[self._leader_key], args=[self._me, _ms(seconds)])
        except self._errors as exc:
            log.warning("live: leader lock failed (%s); polling here", type(exc).__name__)
            return True
        return bool(won)

    async def resign(self) -> None:
        with contextlib.suppress(*self._errors):
            await self._resign(keys=[self._leader_key], args=[self._me])

    async def mark_watched(self, seconds: float) -> None:
        with contextlib.suppress(*self._errors):
            await self._redis.set(self._watched_key, b"1", px=_ms(seconds))

    async def anyone_watching(self) -> bool:
        try:
            return bool(await self._redis.exists(self._watched_key))
        except self._errors:
            return False  # then each replica goes by its own watchers

    async def load_cursor(self) -> datetime | None:
        try:
            raw = await self._redis.get(self._cursor_key)
        except self._errors:
            return None
        try:
            return datetime.fromtimestamp(float(raw), UTC) if raw is not None else None
        except (TypeError, ValueError):
            return None

    async def save_cursor(self, cursor: datetime) -> None:
        with contextlib.suppress(*self._errors):
            await self._redis.set(
                self._cursor_key, str(cursor.timestamp()), px=CURSOR_KEEP_SECONDS * 1000
            )

    async def _listen(self, deliver: Deliver) -> None:
        """Hand every published change to this replica's hub; reconnect after a failure."""
        failures = 0
        while True:
            try:
                async with self._listener.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    failures = 0
                    while True:
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=30.0
                        )
                        if message is not None and message.get("type") == "message":
                            deliver(_decode(message.get("data")))
            except self._errors as exc:
                failures += 1
                log.warning("live: subscription lost (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(min(MAX_RECONNECT_SECONDS, 0.5 * 2**failures))

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()
        await self._listener.aclose()


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 1)


def _decode(raw: object) -> list[Change]:
    try:
        data = json.loads(raw) if isinstance(raw, bytes | str) else None
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    return [c for c in map(Change.from_message, data) if c is not None]
