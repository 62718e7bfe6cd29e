"""The upstream cache: Perkville's answers kept for a while, in-process or in Redis.

Two kinds of entry:
- the business's public data (business, locations, levels, challenges, promotions...): fresh for
  `fresh` seconds, then served stale while one background fetch refreshes it, so a warm page
  never waits for it;
- a member's own data (balance, vouchers, history...): fresh for a few seconds per session, never
  served stale (only, for minutes, while Perkville fails), and dropped when the member acts (the
  app bumps the session's cache generation, see `web/session.py`). In-process they have a
  budget of their own, so they never push out the public entries.

Values are the JSON Perkville sent (dicts of str, numbers, lists), so they go to Redis as JSON,
never pickle. Concurrent misses of one key share a single upstream call (no stampede).

Why not a library: cashews and aiocache fit the backends, but hide the key design behind
decorators and pickle values for Redis by default; stale-while-revalidate with single-flight
over a two-method backend is short, and redis-py does the talking to Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as redis

log = logging.getLogger(__name__)

JSON = dict[str, Any]
MEMBER_PREFIX = "m:"  # the keys of members' own data (perkville/upstream.py)
PUBLIC_BYTES = 4 * 1024 * 1024
MEMBER_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    fetched: float  # wall-clock seconds (shared by replicas, unlike a monotonic clock)
    value: JSON


class Backend(Protocol):
    async def get(self, key: str) -> Entry | None: ...

    async def set(self, key: str, entry: Entry, keep_for: float) -> None: ...

    async def aclose(self) -> None: ...


class MemoryBackend:
    """One process's cache (the default): an LRU dict held to a budget of JSON bytes.

    A count of entries says little about memory (one rewards list is a hundred times a
    business record), so each value's size is taken as its compact JSON length, once, when it
    is stored. Parsed objects take several times that in memory (an 8 MB budget grew the app
    by about 30 MB in the fault run), hence the modest default. Values are shared with every
    reader: the client treats Perkville's answers as read-only.
    """

    def __init__(
        self, max_bytes: int = 4 * 1024 * 1024, clock: Callable[[], float] = time.time
    ) -> None:
        self._items: OrderedDict[str, tuple[float, Entry, int]] = OrderedDict()
        self._max = max_bytes
        self._bytes = 0
        self._clock = clock

    @property
    def size(self) -> int:
        """The JSON bytes of what is held."""
        return self._bytes

    async def get(self, key: str) -> Entry | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            self._drop(key)
            return None
        self._items.move_to_end(key)
        return item[1]

    async def set(self, key: str, entry: Entry, keep_for: float) -> None:
        size = len(json.dumps(entry.value, separators=(",", ":")))
        if size > self._max // 2:
            return  # one huge answer must not push out everything else
        self._drop(key)
        self._items[key] = (self._clock() + keep_for, entry, size)
        self._bytes += size
        while self._bytes > self._max:
            self._drop(next(iter(self._items)))

    def _drop(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._bytes -= item[2]

    async def aclose(self) -> None:
        self._items.clear()
        self._bytes = 0


class RedisBackend:
    """Redis (redis-py's asyncio client), so that replicas share one cache. Redis failing never
    fails a page: a read error is a miss, a write error is skipped (both logged)."""

    def __init__(self, url: str, prefix: str = "member-app:") -> None:
        self._redis = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix
        self._errors = (redis.RedisError, OSError)

    async def get(self, key: str) -> Entry | None:
        try:
            raw = await self._redis.get(self._prefix + key)
        except self._errors as exc:
            log.warning("redis get failed: %s", type(exc).__name__)
            return None
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return Entry(float(data["t"]), data["v"])
        except (ValueError, KeyError, TypeError):
            return None

    async def set(self, key: str, entry: Entry, keep_for: float) -> None:
        raw = json.dumps({"t": entry.fetched, "v": entry.value}, separators=(",", ":"))
        try:
            await self._redis.set(self._prefix + key, raw, px=max(int(keep_for * 1000), 1))
        except self._errors as exc:
            log.warning("redis set failed: %s", type(exc).__name__)

    async def aclose(self) -> None:
        await self._redis.aclose()


class SplitMemoryBackend:
    """Two in-process budgets: members' own entries (keys starting `m:`) apart from the
    business's public data, so no member's traffic can push the shared entries out."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.public = MemoryBackend(PUBLIC_BYTES, clock)
        self.member = MemoryBackend(MEMBER_BYTES, clock)

    def _of(self, key: str) -> MemoryBackend:
        return self.member if key.startswith(MEMBER_PREFIX) else self.public

    async def get(self, key: str) -> Entry | None:
        return await self._of(key).get(key)

    async def set(self, key: str, entry: Entry, keep_for: float) -> None:
        await self._of(key).set(key, entry, keep_for)

    async def aclose(self) -> None:
        await self.public.aclose()
        await self.member.aclose()


def backend_for(url: str, clock: Callable[[], float] = time.time) -> Backend:
    """`memory` (default) or a `redis://` / `rediss://` / `unix://` URL."""
    if url == "memory":
        return SplitMemoryBackend(clock)
    return RedisBackend(url)


class Cache:
    """Stale-while-revalidate and single-flight over a backend."""

    def __init__(self, backend: Backend, clock: Callable[[], float] = time.time) -> None:
        self._backend = backend
        self._clock = clock
        # One upstream call per key at a time. It runs as its own task, so a member who gives
        # up (a cancelled request) does not cancel it for the others waiting on it.
        self._inflight: dict[str, asyncio.Task[JSON]] = {}

    async def fetch(
        self,
        key: str,
        load: Callable[[], Awaitable[JSON]],
        *,
        fresh: float,
        stale: float = 0.0,
        if_error: float = 0.0,
        fallback_on: tuple[type[Exception], ...] = (),
        on_stale: Callable[[float], None] | None = None,
    ) -> JSON:
        """The cached value of `key`: loaded when missing or older than `fresh` seconds; when
        older but within `stale` seconds more, returned at once while a refresh runs.

        When loading fails with one of `fallback_on` and the copy is within `if_error` seconds
        past fresh, the copy stands in (stale-if-error) and `on_stale` hears when it was
        fetched, so the page can say "last updated"."""
        keep = fresh + max(stale, if_error)
        entry = await self._backend.get(key)
        age = self._clock() - entry.fetched if entry is not None else 0.0
        if entry is not None:
            if age < fresh:
                return entry.value
            if age < fresh + stale:
                self._start(key, load, keep)
                return entry.value
        try:
            return await asyncio.shield(self._start(key, load, keep))
        except fallback_on:
            if entry is None or age >= fresh + if_error:
                raise
            if on_stale is not None:
                on_stale(entry.fetched)
            return entry.value

    def _start(
        self, key: str, load: Callable[[], Awaitable[JSON]], keep: float
    ) -> asyncio.Task[JSON]:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._load(key, load, keep))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._finished(key, done))
        return task

    def _finished(self, key: str, task: asyncio.Task[JSON]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled() and task.exception() is not None:
            # Retrieved here, so a refresh nobody waited for is logged once, not warned of.
            path = key[key.find("/") :].split("?")[0]  # no session id or query in the log
            log.info("fetching %s failed: %s", path, type(task.exception()).__name__)

    async def _load(self, key: str, load: Callable[[], Awaitable[JSON]], keep: float) -> JSON:
        value = await load()
        if keep > 0:
            await self._backend.set(key, Entry(self._clock(), value), keep)
        return value

    async def aclose(self) -> None:
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._backend.aclose()
