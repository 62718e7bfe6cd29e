"""The live updates as the app holds them: the hub, the bus between replicas and the poller,
started and stopped with the app (its lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

from ..perkville import Caller, PerkvilleClient
from ..settings import Settings
from .bus import Bus, LocalBus, RedisBus
from .hub import Hub, Watcher
from .members import MemberPoller
from .poller import BusinessPoller

log = logging.getLogger(__name__)


class LiveUpdates:
    """Watching members' points move. `enabled` is False with `MEMBER_APP_LIVE_INTERVAL=0`."""

    def __init__(
        self, settings: Settings, perkville: PerkvilleClient, clock: Callable[[], float]
    ) -> None:
        self.enabled = settings.live_interval_seconds > 0
        self.hub = Hub()
        self._settings = settings
        self._perkville = perkville
        self._clock = clock
        self._bus: Bus = (
            LocalBus()
            if settings.cache_url == "memory"
            else RedisBus(settings.cache_url, settings.business_id)
        )
        self.poller: BusinessPoller | MemberPoller | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"LiveUpdates(enabled={self.enabled!r}, watching={self.hub.count!r})"

    async def start(self) -> None:
        """Start polling (in the app's lifespan); it asks Perkville only while pages watch."""
        if not self.enabled:
            return
        settings = self._settings
        self.hub.start()
        await self._bus.start(self.hub.deliver)
        if settings.admin_token:
            # One call per interval for the whole business, on one replica.
            self.poller = BusinessPoller(
                self._perkville,
                self._bus,
                self.hub,
                caller=Caller(settings.admin_token),
                business_id=settings.business_id,
                interval=settings.live_interval_seconds,
                clock=self._clock,
            )
        else:
            # No staff token: each watching member with their own, within a budget.
            self.poller = MemberPoller(
                self._perkville,
                self.hub,
                business_id=settings.business_id,
                interval=settings.live_interval_seconds,
                budget=settings.live_member_budget,
            )
        self._task = asyncio.create_task(self._run(self.poller), name="live poller")

    async def _run(self, poller: BusinessPoller | MemberPoller) -> None:
        try:
            await poller.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug must not end live updates for good, nor go unseen
            log.exception("live: the poller stopped; live updates are off until a restart")

    @contextlib.contextmanager
    def watching(self, user_id: int, caller: Caller) -> Iterator[Watcher]:
        """A page of this member watches while the block runs."""
        with self.hub.watching(user_id, caller) as watcher:
            yield watcher

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            await self._bus.resign()
        await self._bus.aclose()
