"""The server's own record of each session: when the member was last seen, and whether the
session has ended.

The session itself lives in the member's cookie, so without a record on the server a copy of
the cookie would outlive sign-out. Each session id gets one small entry in the cache backend
(Redis across replicas, this process's memory otherwise, apart from the cache of Perkville's
answers so that no flood of answers can push a record out), kept for the session's longest
life: `{"seen": t}` while it lives, `{"ended": true}` once the member signed out or it timed
out.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..cache import Backend, Entry, MemoryBackend, RedisBackend

# Room for about half a million records of ~30 bytes in a process of its own.
MEMORY_BYTES = 16 * 1024 * 1024


class SessionRecords:
    def __init__(
        self, url: str, *, keep_for: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._backend: Backend = (
            MemoryBackend(MEMORY_BYTES, clock=clock)
            if url == "memory"
            else RedisBackend(url, prefix="member-app:session:")
        )
        self._keep_for = keep_for
        self._clock = clock

    def __repr__(self) -> str:
        return "SessionRecords()"

    async def check(self, sid: str) -> tuple[bool, float | None]:
        """In one read: whether the session ended, and when it was last seen."""
        entry = await self._backend.get(sid)
        if entry is None:
            return False, None
        if entry.value.get("ended") is True:
            return True, None
        seen = entry.value.get("seen")
        return False, float(seen) if isinstance(seen, int | float) else None

    async def touch(self, sid: str, now: float) -> None:
        await self._backend.set(sid, Entry(now, {"seen": now}), self._keep_for)

    async def end(self, sid: str) -> None:
        """No cookie of this session is accepted again, on any replica."""
        await self._backend.set(sid, Entry(self._clock(), {"ended": True}), self._keep_for)

    async def aclose(self) -> None:
        await self._backend.aclose()
