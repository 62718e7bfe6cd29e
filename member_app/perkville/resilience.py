"""How the client behaves when Perkville struggles: retry what is safe, then stop asking.

- Retries: only for calls that may be repeated without effect (GETs, and the redeem
  POST, whose `trans_source_id` makes a repeat a duplicate), on timeouts, dropped connections,
  5xx and 429; exponential backoff with full jitter, so that many members retrying at once do
  not all come back at the same moment; a `Retry-After` longer than we would wait ends it.
- A circuit breaker: after several failures in a row Perkville is left alone for a while and
  pages fail at once (or show what the cache had) instead of each waiting for a timeout; then
  one call tries again. It is per process: each replica finds out for itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from .errors import PerkvilleUnavailable

RETRIES = 2  # so at most three tries
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 1.0


def backoff(
    attempt: int, retry_after: float | None, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait before retry number `attempt` (1, 2...), or None: don't retry."""
    if attempt > RETRIES:
        return None
    if retry_after is not None:
        return retry_after if retry_after <= BACKOFF_CAP_SECONDS else None
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)


class CircuitBreaker:
    """Closed (calls go through) → open after `threshold` failures in a row (calls fail at once
    for `cooldown` seconds) → half-open (one trial call; success closes, failure reopens)."""

    def __init__(
        self,
        threshold: int = 5,
        cooldown: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        return "open" if self._clock() - self._opened_at < self.cooldown else "half-open"

    def before_call(self) -> None:
        """Raise at once while open; let exactly one trial through once the cooldown is over."""
        state = self.state
        if state == "open" or (state == "half-open" and self._trial):
            raise PerkvilleUnavailable("Perkville is not answering; not asking again yet")
        if state == "half-open":
            self._trial = True

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial = False

    def abandoned(self) -> None:
        """The call ended with neither answer nor failure (the member went away)."""
        self._trial = False

    def failed(self) -> None:
        self._failures += 1
        if self._trial or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._trial = False
