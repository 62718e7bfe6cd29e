"""Points that moved, for the live updates (reference: Connection Balance, and Connection for a
member without a staff token).

"This endpoint provides the ability to fetch recently updated point balances for a given
Business" (`?business=6&last_mod_dt__gte=...`), with ADMIN_CUSTOMER_INFO: one call for the
whole business, however many members watch. Without a staff token the member's own
Connection is the only place their balance can be read.

These calls go around the pages' retries and circuit breakers (`_call`, not `_get`): the live
poller has its own backoff (live/poller.py), so a throttled or failing poll never opens the
breaker pages use, and no page waits behind a poll. They are never cached: a poll is for what
changed just now.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ..caller import Caller
from ..models import id_from_uri, text_field, whole
from ..parsing import more_after, objects
from ..program import api_datetime
from ..upstream import PAGE_SIZE, Upstream

BALANCES_PATH = "/v2/connection-balances/"
CONNECTIONS_PATH = "/v2/connections/"


def perkville_time(moment: datetime) -> str:
    """A datetime as a filter value: UTC, to the second, ISO 8601 (the reference's datetimes
    are UTC; its filter examples give dates, which are the same with a time of 00:00)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Balance:
    """One member's points as Perkville has them now."""

    user_id: int
    point_balance: int
    lifetime_earned_points: int
    # The name of the perk of their latest transaction (Connection Balance only).
    last_perk_title: str = ""
    # When the points last moved (Connection Balance's `last_mod_dt`).
    changed_at: datetime | None = None
    # Their level (a Connection only: Connection Balance has none).
    level_id: int | None = None

    @classmethod
    def _points(cls, data: dict[str, Any]) -> Balance | None:
        """The fields a Connection Balance and a Connection share, under the same names, so
        both records are read alike; None without the user it belongs to."""
        user_id = id_from_uri(data.get("user"))
        if user_id is None:
            return None
        return cls(
            user_id=user_id,
            point_balance=whole(data.get("point_balance")),
            lifetime_earned_points=whole(data.get("lifetime_earned_points")),
        )

    @classmethod
    def from_balance(cls, data: dict[str, Any]) -> Balance | None:
        """A Connection Balance record; None without the user it belongs to."""
        balance = cls._points(data)
        if balance is None:
            return None
        return replace(
            balance,
            last_perk_title=text_field(data, "last_biz_perk_title"),
            changed_at=api_datetime(data.get("last_mod_dt")),
        )

    @classmethod
    def from_connection(cls, data: dict[str, Any]) -> Balance | None:
        """A Connection record; None without the user it belongs to."""
        balance = cls._points(data)
        if balance is None:
            return None
        return replace(balance, level_id=id_from_uri(data.get("level")))


@dataclass(frozen=True, slots=True)
class BalancePage:
    balances: list[Balance]
    more: bool  # another page follows


class BalanceEndpoints(Upstream):
    async def changed_balances(
        self, caller: Caller, *, business_id: int, since: datetime, offset: int = 0
    ) -> BalancePage:
        """The balances of the business that moved at or after `since`, a page at a time
        (the staff token: PUBLIC and ADMIN_CUSTOMER_INFO)."""
        params = {
            "business": business_id,
            "last_mod_dt__gte": perkville_time(since),
            "limit": PAGE_SIZE,
            "offset": offset,
        }
        data = await self._call(caller, "GET", BALANCES_PATH, params, None, None)
        found = objects(data)
        balances = [b for b in map(Balance.from_balance, found) if b is not None]
        return BalancePage(balances, more_after(data, len(found), PAGE_SIZE))

    async def member_balance(
        self, caller: Caller, *, business_id: int, user_id: int
    ) -> Balance | None:
        """One member's points and level, read with their own token from their Connection;
        None when they have no connection to the business."""
        params = {"business": business_id, "user": user_id}
        data = await self._call(caller, "GET", CONNECTIONS_PATH, params, None, None)
        found = [b for b in map(Balance.from_connection, objects(data)) if b is not None]
        mine = [b for b in found if b.user_id == user_id]
        return mine[0] if mine else None
