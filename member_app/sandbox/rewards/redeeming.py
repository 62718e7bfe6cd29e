"""Redeeming points (reference: Redeeming Rules, and the redemption rules of Perk): who may
redeem what, where and how often, and the `/v2/redeeming/` view built on those rules.

The same function (`refusal`) decides whether the view says `can_redeem` and whether a
redemption POST succeeds (transactions.py), so the two never disagree. Days are the locations'
(`store.today()`, `store.local()`), against `store.now()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import ApiError, invalid_request
from ..media import perk_picture_url
from ..records import Perk
from ..resources import ALL_METHODS, uri
from ..store import Store
from .perks import display_key, in_date_window, perk_at
from .program_rules import View, open_view, view_list

# Reference, Redeeming Rules, "type": the perk types the redeeming view lists.
REDEEMING_VIEW_TYPES = frozenset({"STANDARD", "EXTERNAL_REWARD"})


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first_of_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (first_of_next - timedelta(days=1)).day))


@dataclass(frozen=True, slots=True)
class LimitInfo:
    has_met_limit: bool
    redemptions_remaining: int
    next_redemption_opportunity: date | None

    def as_json(self) -> dict[str, Any]:
        nxt = self.next_redemption_opportunity
        return {
            "has_met_limit": self.has_met_limit,
            "next_redemption_opportunity": nxt.isoformat() if nxt else None,
            "redemptions_remaining": self.redemptions_remaining,
        }


def _window(perk: Perk, day: date) -> tuple[date | None, int]:
    """(the earliest date a redemption still counts on, the window in months or days).
    ALL_TIME: (None, 0). A rolling window: "2 times in 10 days" counts the last 10 days."""
    count = perk.redemption_limit_interval_count or 1
    if perk.redemption_limit_interval == "DAY":
        return day - timedelta(days=count - 1), count
    if perk.redemption_limit_interval in {"MONTH", "YEAR"}:
        months = count * (12 if perk.redemption_limit_interval == "YEAR" else 1)
        return add_months(day, -months) + timedelta(days=1), months
    return None, 0


def limit_info(perk: Perk, user_id: int, store: Store) -> LimitInfo | None:
    """The member's standing against the perk's redemption limit (None: no limit). Each unit of
    quantity of an ACTIVE redemption counts; voided redemptions do not."""
    if perk.redemption_limit_interval == "NO_REDEMPTION_LIMIT" or not perk.redemption_limit_count:
        return None
    day = store.today()
    earliest, span = _window(perk, day)
    used = sorted(
        store.local(t.transaction_dt).date()
        for t in store.transactions.values()
        for _ in range(max(t.quantity, 0))
        if t.user_id == user_id
        and t.perk_id == perk.perk_id
        and t.classification == "REDEEM"
        and t.transaction_status == "ACTIVE"
        and (earliest is None or store.local(t.transaction_dt).date() >= earliest)
    )
    limit = perk.redemption_limit_count
    if len(used) < limit:
        return LimitInfo(False, limit - len(used), day)
    if earliest is None:
        return LimitInfo(True, 0, None)
    # The day enough of the counted redemptions have left the window to allow one more.
    oldest = used[len(used) - limit]
    if perk.redemption_limit_interval == "DAY":
        return LimitInfo(True, 0, oldest + timedelta(days=span))
    return LimitInfo(True, 0, add_months(oldest, span))


def _refuse(code: str, message: str) -> ApiError:
    return invalid_request(code, message)


def refusal(
    store: Store, user_id: int, perk: Perk, location_id: int | None, quantity: int = 1
) -> ApiError | None:
    """Why this member cannot redeem `quantity` of `perk` at `location_id` now (None: they can).
    The checks run in this order; the first that fails is the answer."""
    conn = store.connection_of(user_id, perk.business_id)
    if conn is None:
        return _refuse("pv_connection_not_found", "You are not a customer of this business.")
    if conn.status != "ACTIVE":
        return _refuse(
            "pv_connection_not_joined", "Join the rewards program before redeeming rewards."
        )
    rules = store.join_rules.get(perk.business_id)  # the business's join rules (membership.py)
    if rules and rules.require_active_membership and conn.external_membership_status != "ACTIVE":
        return _refuse(
            "pv_connection_membership_not_active",
            "This business requires an active membership to redeem rewards.",
        )
    if perk.status != "ACTIVE":
        return _refuse("pv_perk_inactive", "This reward is no longer available.")
    if not in_date_window(perk, store.today()):
        return _refuse("pv_perk_not_in_date_range", "This reward is not available on this date.")
    if not perk_at(perk, location_id):
        return _refuse(
            "pv_perk_not_available_at_location", "This reward is not available at this location."
        )
    if perk.must_redeem_at_home_location and location_id != conn.home_location_id:
        return _refuse(
            "pv_perk_home_location_only", "This reward can only be redeemed at your home location."
        )
    if perk.required_level_id is not None:
        required = store.levels[perk.required_level_id]
        current = store.levels.get(conn.level_id) if conn.level_id is not None else None
        if current is None or current.point_floor < required.point_floor:
            return _refuse(
                "pv_perk_level_required", f"This reward needs the {required.name} level."
            )
    info = limit_info(perk, user_id, store)
    if info is not None and info.redemptions_remaining < quantity:
        return _refuse(
            "pv_perk_redemption_limit_reached",
            "You've reached the redemption limit for this reward.",
        )
    if conn.point_balance < perk.points * quantity:
        return _refuse(
            "pv_txn_insufficient_points",
            "The user doesn't have enough points to complete this transaction.",
        )
    return None


def reward(perk: Perk, view: View, store: Store, base_url: str) -> dict[str, Any]:
    start = perk.start_date.isoformat() if perk.start_date else None
    end = perk.end_date.isoformat() if perk.end_date else None
    limited = perk.redemption_limit_interval != "NO_REDEMPTION_LIMIT"
    spans = perk.redemption_limit_interval in {"DAY", "MONTH", "YEAR"}
    info = limit_info(perk, view.user_id, store) if view.user_id else None
    row: dict[str, Any] = {
        "business": uri("businesses", perk.business_id),
        "description": perk.description,
        "display_order": perk.display_order,
        "end_date": end,
        "external_reward_url": perk.external_reward_url,
        "fine_print": perk.fine_print,
        "from_date": start,  # the reference's example says from_date/to_date, its fields
        "loc_id": view.loc_id,  # start_date/end_date: the sandbox sends both
        "must_redeem_at_home_location": perk.must_redeem_at_home_location,
        "perk_id": perk.perk_id,
        "picture_card": perk_picture_url(perk, base_url),
        "points": perk.points,
        "redemption_instructions": perk.redemption_instructions,
        "redemption_limit_count": perk.redemption_limit_count if limited else None,
        "redemption_limit_interval": perk.redemption_limit_interval,
        "redemption_limit_interval_count": perk.redemption_limit_interval_count if spans else None,
        "required_level": uri("levels", perk.required_level_id),
        "start_date": start,
        "title": perk.title,
        "to_date": end,
        "type": perk.type,
        "user_redemption_limit_info": info.as_json() if info else None,
        "valid_customer_attributes": [],
    }
    if view.user_id is not None:
        row["can_redeem"] = refusal(store, view.user_id, perk, view.loc_id) is None
    return row


async def redeeming(request: Request) -> Response:
    """GET /v2/redeeming/: the rewards on offer at one location, in display order."""
    view, ctx = open_view(request)
    store = ctx.store
    day = store.today()
    perks = [
        p
        for p in store.perks.values()
        if p.business_id == view.business_id
        and p.classification == "REDEEM"
        and p.type in REDEEMING_VIEW_TYPES
        and p.status == "ACTIVE"
        and not p.admin_flagged_as_invisible_to_customers
        and perk_at(p, view.loc_id)
        and in_date_window(p, day)
    ]
    perks.sort(key=lambda p: display_key(p, store))
    rows = [reward(p, view, store, ctx.base_url) for p in perks]
    return view_list("redeeming", rows, request, ctx)


routes = [Route("/v2/redeeming/", redeeming, methods=ALL_METHODS)]
