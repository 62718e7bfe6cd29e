"""The per-member poller, for a deployment without a staff token: each member watching on
this replica is asked for with their own token (reference, Connection: `point_balance`,
`lifetime_earned_points`, `level`), once per interval at most, however many pages they have
open.

This costs one call per watching member per interval, so it has a budget: at most
`budget` calls a second per process. With more members watching than the budget covers in one
interval, each is asked less often (the interval stretches; the pages stay correct, only
slower to move). A failing member backs off alone; a 429 pauses every member of the process,
since Perkville throttles the client, not the member. A refused token (signed out at
Perkville) is left alone: the member's next page signs them out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from ..perkville import (
    Caller,
    PerkvilleAuthError,
    PerkvilleClient,
    PerkvilleError,
    PerkvilleUnavailable,
)
from ..perkville.endpoints.balances import Balance
from .changes import Change, higher
from .hub import Hub
from .poller import MAX_BACKOFF_SECONDS, ProgramLevels, backoff_delay

log = logging.getLogger(__name__)

# Calls in flight at once: enough to keep a budget of tens a second going over a slow link.
CONCURRENCY = 8
# Shortest sleep between rounds, so an empty round is not a busy loop.
TICK_SECONDS = 0.05


@dataclass(slots=True)
class Polled:
    """Where one watching member stands."""

    due: float  # monotonic time of their next call
    failures: int = 0
    last: Balance | None = None


class MemberPoller:
    def __init__(
        self,
        perkville: PerkvilleClient,
        hub: Hub,
        *,
        business_id: int,
        interval: float,
        budget: float,
    ) -> None:
        self._perkville = perkville
        self._hub = hub
        self._business_id = business_id
        self._interval = interval
        self._budget = budget
        self._levels = ProgramLevels(perkville, business_id)
        self._members: dict[int, Polled] = {}
        self._paused_until = 0.0
        self._tokens = budget  # a token bucket: `budget` a second, a second's worth at most
        self._refilled = time.monotonic()
        self._gate = asyncio.Semaphore(CONCURRENCY)

    @property
    def period(self) -> float:
        """How often each member is asked: the interval, or longer when the budget is short."""
        return max(self._interval, len(self._members) / self._budget)

    async def run(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                for user_id, caller in self._due():
                    task = asyncio.create_task(self._poll(user_id, caller))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                await self._sleep()
        finally:
            for task in tasks:
                task.cancel()

    def _due(self) -> list[tuple[int, Caller]]:
        """The members to ask now, within the budget, the longest waiting first."""
        now = time.monotonic()
        watching = self._hub.members()
        for user_id in set(self._members) - set(watching):
            del self._members[user_id]  # no longer watching
        for user_id in watching:
            # A new watcher is asked at once: that first answer is what later ones compare to.
            self._members.setdefault(user_id, Polled(due=now))
        self._tokens = min(self._budget, self._tokens + (now - self._refilled) * self._budget)
        self._refilled = now
        if now < self._paused_until:
            return []
        ready = sorted((p.due, user_id) for user_id, p in self._members.items() if p.due <= now)
        chosen = []
        for _, user_id in ready:
            if self._tokens < 1:
                break
            self._tokens -= 1
            self._members[user_id].due = float("inf")  # in flight
            chosen.append((user_id, watching[user_id]))
        return chosen

    async def _sleep(self) -> None:
        if not self._members:
            self._hub.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hub.arrived.wait(), self._interval)
            return
        now = time.monotonic()
        soonest = min(p.due for p in self._members.values())
        wait = max(soonest - now, self._paused_until - now, 1 / self._budget, TICK_SECONDS)
        await asyncio.sleep(min(wait, self._interval))

    async def _poll(self, user_id: int, caller: Caller) -> None:
        async with self._gate:
            try:
                balance = await self._perkville.member_balance(
                    caller, business_id=self._business_id, user_id=user_id
                )
            except PerkvilleUnavailable as exc:
                self._failed(user_id, exc)
                return
            except PerkvilleAuthError:
                self._later(user_id, MAX_BACKOFF_SECONDS * 5)
                return
            except PerkvilleError as exc:
                log.info("live: member poll refused (%s)", type(exc).__name__)
                self._later(user_id, MAX_BACKOFF_SECONDS)
                return
            except Exception:  # a bug: this member waits, the others carry on
                log.exception("live: a member poll failed")
                self._later(user_id, MAX_BACKOFF_SECONDS)
                return
        polled = self._members.get(user_id)
        if polled is None:  # stopped watching meanwhile
            return
        polled.failures = 0
        polled.due = time.monotonic() + self.period
        before, polled.last = polled.last, balance
        if balance is None or before is None or _same(before, balance):
            return
        self._hub.deliver([await self._change(caller, before, balance)])

    async def _change(self, caller: Caller, before: Balance, now: Balance) -> Change:
        levels = {level.level_id: level for level in await self._levels.get(caller)}
        level = levels.get(now.level_id) if now.level_id is not None else None
        was = levels.get(before.level_id) if before.level_id is not None else None
        return Change(
            user_id=now.user_id,
            balance=now.point_balance,
            earned=now.lifetime_earned_points,
            delta=now.point_balance - before.point_balance,
            title="",  # a Connection does not say what the points were for
            level=level,
            level_up=now.level_id != before.level_id and higher(level, was),
        )

    def _failed(self, user_id: int, exc: PerkvilleUnavailable) -> None:
        polled = self._members.get(user_id)
        if polled is None:
            return
        polled.failures += 1
        delay = backoff_delay(polled.failures, exc.retry_after, self._interval)
        polled.due = time.monotonic() + delay
        if exc.status == 429:
            self._paused_until = max(self._paused_until, polled.due)
            log.warning("live: Perkville throttles member polls; pausing %.1f s", delay)

    def _later(self, user_id: int, seconds: float) -> None:
        polled = self._members.get(user_id)
        if polled is not None:
            polled.due = time.monotonic() + seconds


def _same(before: Balance, now: Balance) -> bool:
    return (before.point_balance, before.lifetime_earned_points, before.level_id) == (
        now.point_balance,
        now.lifetime_earned_points,
        now.level_id,
    )
