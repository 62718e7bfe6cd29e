"""The business poller: with the staff token, one call per interval for the whole business
(reference, Connection Balance: `?business=6&last_mod_dt__gte=...`), however many members
watch, on one replica of the deployment (the leader, bus.py), and only while someone watches.

Its place (the cursor) trails the newest `last_mod_dt` it has seen by a few seconds, because
Perkville's times are to the second and a change written late may carry an earlier time; what
it has already passed on is remembered per member, so a record read twice is passed on once,
and the points since the last balance seen give the "+15".

Perkville failing, throttling (429, honouring Retry-After) or refusing the token slows the
poller down, exponentially up to a minute. Its calls go around the pages' circuit breakers
(perkville/endpoints/balances.py), so pages never notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..perkville import Caller, Level, PerkvilleClient, PerkvilleError, PerkvilleUnavailable
from ..perkville.endpoints.balances import Balance
from .bus import Bus
from .changes import Change, higher, level_reached
from .hub import Hub

log = logging.getLogger(__name__)

Clock = Callable[[], float]

MAX_BACKOFF_SECONDS = 60.0
MAX_RETRY_AFTER_SECONDS = 300.0
# How far the cursor trails the newest change seen (and, at the start, the clock).
OVERLAP = timedelta(seconds=5)
# How far back a poll looks at most.
MAX_CATCH_UP = timedelta(minutes=5)
# A poll reads at most this many pages (of 100); a busier moment waits for the next poll.
MAX_PAGES = 20
# Members whose last balance is remembered (for the "+15"); the least recent are forgotten.
MAX_REMEMBERED = 20_000


def backoff_delay(
    failures: int, retry_after: float | None, interval: float, rng: random.Random | None = None
) -> float:
    """Seconds before polling again after `failures` failures in a row: the interval doubled
    each time (half of it jittered, so replicas and processes spread out), at most a minute,
    and never sooner than Perkville's Retry-After (capped at five minutes)."""
    ceiling = min(MAX_BACKOFF_SECONDS, interval * 2 ** max(failures, 0))
    delay = (rng or random).uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return delay


class ProgramLevels:
    """The program's levels, read through the public cache (fresh for five minutes)."""

    def __init__(self, perkville: PerkvilleClient, business_id: int) -> None:
        self._perkville = perkville
        self._business_id = business_id
        self._last: list[Level] = []

    async def get(self, caller: Caller) -> list[Level]:
        try:
            self._last = await self._perkville.levels(caller, self._business_id)
        except PerkvilleError as exc:
            log.info("live: levels not read (%s); the last ones stand", type(exc).__name__)
        return self._last


@dataclass(frozen=True, slots=True)
class Seen:
    balance: int
    earned: int
    changed_at: datetime | None


class BusinessPoller:
    """Polls the business's changed balances and publishes what moved."""

    def __init__(
        self,
        perkville: PerkvilleClient,
        bus: Bus,
        hub: Hub,
        *,
        caller: Caller,
        business_id: int,
        interval: float,
        clock: Clock,
    ) -> None:
        self._perkville = perkville
        self._bus = bus
        self._hub = hub
        self._caller = caller
        self._business_id = business_id
        self._interval = interval
        self._clock = clock
        self._levels = ProgramLevels(perkville, business_id)
        self._seen: OrderedDict[int, Seen] = OrderedDict()
        self._cursor: datetime | None = None
        self.failures = 0

    async def run(self) -> None:
        """Poll while anyone watches, on the leader only; back off when Perkville struggles."""
        while True:
            delay = self._interval
            try:
                if await self._due():
                    await self.poll()
                    self.failures = 0
            except PerkvilleUnavailable as exc:
                self.failures += 1
                delay = backoff_delay(self.failures, exc.retry_after, self._interval)
                log.warning("live: poll failed (%s); next in %.1f s", exc.status, delay)
            except PerkvilleError as exc:
                # The staff token refused (revoked, a scope missing): ask rarely, say it loudly.
                self.failures += 1
                delay = MAX_BACKOFF_SECONDS
                log.error("live: Perkville refused the poll: %s", exc.message)
            except Exception:  # a bug: live updates carry on, slowly, and it is seen
                self.failures += 1
                delay = MAX_BACKOFF_SECONDS
                log.exception("live: the poll failed")
            if self.failures:
                # Keep the lead through the pause, so no other replica polls in the meantime.
                await self._bus.lead(delay + 3 * self._interval)
            await self._sleep(delay)

    async def _due(self) -> bool:
        watching_here = self._hub.count > 0
        if watching_here:
            await self._bus.mark_watched(3 * self._interval)
        elif not await self._bus.anyone_watching():
            self._cursor = None  # nobody watches: the next watcher starts from now
            self._seen.clear()  # and points moved meanwhile unseen: what was seen is old
            return False
        return await self._bus.lead(3 * self._interval)

    async def _sleep(self, seconds: float) -> None:
        """Sleep; an idle poller (nobody watching) wakes as soon as a page starts watching."""
        arrived = self._hub.arrived
        if self._hub.count:
            await asyncio.sleep(seconds)
            return
        arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), seconds)

    async def poll(self) -> list[Change]:
        """One poll: every balance that moved since the cursor, published as changes."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        cursor = self._cursor or await self._bus.load_cursor() or now - OVERLAP
        # After a long pause (nobody watched, Perkville was down) only the recent past matters.
        cursor = max(cursor, now - MAX_CATCH_UP)
        newest = cursor
        moved: list[Balance] = []
        offset = 0
        for _ in range(MAX_PAGES):
            page = await self._perkville.changed_balances(
                self._caller, business_id=self._business_id, since=cursor, offset=offset
            )
            moved += page.balances
            if not page.more or not page.balances:
                break
            offset += len(page.balances)
        for balance in moved:
            if balance.changed_at is not None and balance.changed_at > newest:
                newest = balance.changed_at
        changes = await self._changes(moved)
        if changes:
            await self._bus.publish(changes)
        # Never past our own clock: a record dated ahead of it (a clock that runs fast) must
        # not make the poll skip what comes after it.
        self._cursor = max(cursor, min(newest, now) - OVERLAP)
        await self._bus.save_cursor(self._cursor)
        return changes

    async def _changes(self, moved: list[Balance]) -> list[Change]:
        # A member who just started watching may have spent or earned while no one watched:
        # their first change carries no delta (the page compares with the balance it shows).
        for user_id in self._hub.take_newcomers():
            self._seen.pop(user_id, None)
        fresh = [b for b in moved if self._is_new(b)]
        if not fresh:
            return []
        levels = await self._levels.get(self._caller)
        changes = []
        for balance in fresh:
            before = self._seen.get(balance.user_id)
            self._remember(balance)
            level = level_reached(levels, balance.lifetime_earned_points)
            changes.append(
                Change(
                    user_id=balance.user_id,
                    balance=balance.point_balance,
                    earned=balance.lifetime_earned_points,
                    delta=None if before is None else balance.point_balance - before.balance,
                    title=balance.last_perk_title,
                    level=level,
                    level_up=before is not None
                    and higher(level, level_reached(levels, before.earned)),
                )
            )
        return changes

    def _is_new(self, balance: Balance) -> bool:
        """Whether the points differ from those last passed on (a list gives each record as
        it is now, so a record read again within the overlap is the same)."""
        before = self._seen.get(balance.user_id)
        if before is None:
            return True
        return (balance.point_balance, balance.lifetime_earned_points) != (
            before.balance,
            before.earned,
        )

    def _remember(self, balance: Balance) -> None:
        self._seen[balance.user_id] = Seen(
            balance.point_balance, balance.lifetime_earned_points, balance.changed_at
        )
        self._seen.move_to_end(balance.user_id)
        while len(self._seen) > MAX_REMEMBERED:
            self._seen.popitem(last=False)
