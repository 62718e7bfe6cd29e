"""Who is watching on this replica, and handing each change to the streams of its member.

A member may watch from several tabs or devices: each open page is a `Watcher` with a small
queue of its own. A change goes only to the watchers of the member it is about.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from ..perkville import Caller
from .changes import Change

# A page that stops reading (a stalled connection) keeps only its latest few changes.
MAX_QUEUED = 8


class Watcher:
    """One open page of one member."""

    __slots__ = ("_queue", "caller", "user_id")

    def __init__(self, user_id: int, caller: Caller) -> None:
        self.user_id = user_id
        # The member's own token, for polling them when there is no staff token (members.py).
        self.caller = caller
        self._queue: asyncio.Queue[Change] = asyncio.Queue(MAX_QUEUED)

    def __repr__(self) -> str:
        return f"Watcher(user_id={self.user_id!r})"

    def offer(self, change: Change) -> None:
        if change.user_id != self.user_id:  # never another member's change
            return
        if self._queue.full():
            self._queue.get_nowait()  # the oldest goes: the newest says the balance now
        self._queue.put_nowait(change)

    async def next(self) -> Change:
        return await self._queue.get()


class Hub:
    """The watchers of this replica, by member."""

    def __init__(self) -> None:
        self._by_user: dict[int, list[Watcher]] = {}
        self._count = 0
        # Set when a page starts watching, so an idle poller wakes at once. Made anew by
        # `start`, in the event loop that serves the app.
        self.arrived = asyncio.Event()
        # Members whose first page here started watching since the poller last asked: what it
        # remembers of their points may be old (it only follows members while they watch).
        self._newcomers: set[int] = set()

    def start(self) -> None:
        self.arrived = asyncio.Event()

    @property
    def count(self) -> int:
        """Open pages watching on this replica."""
        return self._count

    def pages_of(self, user_id: int) -> int:
        """Open pages of one member on this replica."""
        return len(self._by_user.get(user_id, ()))

    def members(self) -> dict[int, Caller]:
        """Each member watching here, with the caller of their latest page."""
        return {user_id: found[-1].caller for user_id, found in self._by_user.items()}

    @contextlib.contextmanager
    def watching(self, user_id: int, caller: Caller) -> Iterator[Watcher]:
        """A page of `user_id` watches while the block runs."""
        watcher = Watcher(user_id, caller)
        if user_id not in self._by_user:
            self._newcomers.add(user_id)
        self._by_user.setdefault(user_id, []).append(watcher)
        self._count += 1
        self.arrived.set()
        try:
            yield watcher
        finally:
            found = self._by_user.get(user_id, [])
            if watcher in found:
                found.remove(watcher)
                self._count -= 1
            if not found:
                self._by_user.pop(user_id, None)

    def take_newcomers(self) -> set[int]:
        """The members who started watching since the last call (the poller forgets them)."""
        found, self._newcomers = self._newcomers, set()
        return found

    def deliver(self, changes: list[Change]) -> None:
        """Hand each change to the pages of its member on this replica (the others drop it)."""
        for change in changes:
            for watcher in self._by_user.get(change.user_id, ()):
                watcher.offer(change)
