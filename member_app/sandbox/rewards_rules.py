"""The rules of a rewards program as a member meets them, and the reference's two "Rewards
Program Rules" views built on them (`/v2/earning/`, `/v2/redeeming/`), and the perks' pictures.

The same functions decide whether the redeeming view says `can_redeem` and whether a redemption
POST succeeds, so the two never disagree. Everything is evaluated in UTC against `store.now()`:
the sandbox has no location time zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, invalid_request
from .resources import (
    READ_METHODS,
    Context,
    Resource,
    ScopeRule,
    authenticate,
    list_response,
    not_implemented,
    uri,
)
from .store import (
    AccessToken,
    Connection,
    FrequencyBonus,
    Perk,
    Store,
    TimeBonus,
    Transaction,
    Voucher,
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Reference, Earning Rules, "type": the perk types the earning view lists. Activities
# (PROGRESS_ACTIVITY), bonus perks and bookkeeping perks (POINT_ADJUSTMENT, COUPON) are not rules
# a member is shown.
EARNING_VIEW_TYPES = frozenset(
    {"STANDARD", "BIRTHDAY", "CHECKIN", "REFERRAL", "REGISTRATION", "TWITTER_POST", "VISITOR"}
)
# Reference, Redeeming Rules, "type": the perk types the redeeming view lists.
REDEEMING_VIEW_TYPES = frozenset({"STANDARD", "EXTERNAL_REWARD"})
# Vouchers a member can still use (or is waiting on) come first in the user-voucher list.
LIVE_VOUCHER_STATUSES = ("UNUSED", "ISSUED", "PROCESSING")


def today(store: Store) -> date:
    return store.now().astimezone(UTC).date()


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    first_of_next = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    return date(year, month + 1, min(day.day, (first_of_next - timedelta(days=1)).day))


def perk_at(perk: Perk, location_id: int | None) -> bool:
    return perk.location_ids is None or location_id in perk.location_ids


def in_date_window(perk: Perk, day: date) -> bool:
    return (perk.start_date is None or perk.start_date <= day) and (
        perk.end_date is None or day <= perk.end_date
    )


def picture_url(perk: Perk, base_url: str) -> str | None:
    """The perk's `picture_card`: a generated SVG served by the sandbox itself."""
    return None if perk.picture_color is None else f"{base_url}/media/perks/{perk.perk_id}.svg"


def voucher_status(voucher: Voucher, store: Store) -> str:
    """An UNUSED voucher past its expiration date reads as EXPIRED."""
    expired = voucher.expiration_date is not None and voucher.expiration_date < today(store)
    return "EXPIRED" if voucher.status == "UNUSED" and expired else voucher.status


def connection_of(store: Store, user_id: int, business_id: int) -> Connection | None:
    return next(
        (
            c
            for c in store.connections.values()
            if c.user_id == user_id and c.business_id == business_id
        ),
        None,
    )


def _clock(text: str) -> time:
    """A time of day from "5 am", "11:30 am" or "12 pm"."""
    value, _, meridiem = text.strip().partition(" ")
    hours, _, minutes = value.partition(":")
    hour = int(hours) % 12 + (12 if meridiem.lower() == "pm" else 0)
    return time(hour, int(minutes or 0))


def in_time_bonus(bonus: TimeBonus, when: datetime) -> bool:
    """Whether `when` falls in one of the bonus's windows ("3 pm to 4 pm" on a weekday)."""
    moment = when.astimezone(UTC)
    for period in bonus.time_periods.get(WEEKDAYS[moment.weekday()], []):
        start, _, end = period.partition(" to ")
        if _clock(start) <= moment.time() < _clock(end):
            return True
    return False


def multiplied(points: int, multiplier: str) -> int:
    """The extra points a multiplier adds on top of `points` (2.00 on 5 → 5 more)."""
    return int(points * (Decimal(multiplier) - 1))


async def perk_picture(request: Request) -> Response:
    """/media/perks/{id}.svg: the generated photo a perk's picture_card points at."""
    store: Store = request.app.state.store
    perk = store.perks.get(int(request.path_params["perk_id"]))
    if perk is None or perk.picture_color is None:
        return Response("Not found", status_code=404)
    words = perk.title.split()
    lines = [" ".join(words[i : i + 4]) for i in range(0, min(len(words), 8), 4)]
    text = "".join(
        f'<text x="40" y="{300 + 44 * n}" font-family="sans-serif" font-size="36" '
        f'font-weight="700" fill="#fff">{escape(line)}</text>'
        for n, line in enumerate(lines)
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 700 400" width="700" height="400">'
        f'<rect width="700" height="400" fill="{escape(perk.picture_color)}"/>'
        '<circle cx="590" cy="110" r="70" fill="#fff" opacity=".18"/>'
        '<path d="M560 110 l22 22 l42 -48" stroke="#fff" stroke-width="12" fill="none" '
        f'opacity=".8"/>{text}</svg>'
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


# --- frequency bonuses ---------------------------------------------------------------------------


def frequency_window_start(bonus: FrequencyBonus, now: datetime) -> datetime:
    """WEEKLY: Monday 00:00 of this ISO week; MONTHLY: the 1st; FROM_DATE: the start date.
    Never before the bonus's own start date."""
    day = now.astimezone(UTC).date()
    if bonus.frequency == "WEEKLY":
        start = day - timedelta(days=day.weekday())
    elif bonus.frequency == "MONTHLY":
        start = day.replace(day=1)
    else:
        start = bonus.start_date
    return datetime.combine(max(start, bonus.start_date), time(), UTC)


def counts_toward(bonus: FrequencyBonus, txn: Transaction, store: Store) -> bool:
    """An ACTIVE earn of a qualifying perk, at a location where the bonus perk applies."""
    reward = store.perks[bonus.perk_id]
    return (
        txn.business_id == bonus.business_id
        and txn.perk_id in bonus.qualifying_perk_ids
        and txn.transaction_status == "ACTIVE"
        and perk_at(reward, txn.location_id)
    )


def earned_count(bonus: FrequencyBonus, user_id: int, store: Store) -> int:
    """How many qualifying earns the member has in the bonus's current window."""
    now = store.now()
    start = frequency_window_start(bonus, now)
    return sum(
        1
        for t in store.transactions.values()
        if t.user_id == user_id
        and start <= t.transaction_dt <= now
        and counts_toward(bonus, t, store)
    )


# --- redemption rules ----------------------------------------------------------------------------


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
    day = today(store)
    earliest, span = _window(perk, day)
    used = sorted(
        t.transaction_dt.astimezone(UTC).date()
        for t in store.transactions.values()
        for _ in range(max(t.quantity, 0))
        if t.user_id == user_id
        and t.perk_id == perk.perk_id
        and t.classification == "REDEEM"
        and t.transaction_status == "ACTIVE"
        and (earliest is None or t.transaction_dt.astimezone(UTC).date() >= earliest)
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
    conn = connection_of(store, user_id, perk.business_id)
    if conn is None:
        return _refuse("pv_connection_not_found", "You are not a customer of this business.")
    if conn.status != "ACTIVE":
        return _refuse(
            "pv_connection_not_joined", "Join the rewards program before redeeming rewards."
        )
    rules = store.join_rules.get(perk.business_id)  # the business's setting (community.py)
    if rules and rules.require_active_membership and conn.external_membership_status != "ACTIVE":
        return _refuse(
            "pv_connection_membership_not_active",
            "This business requires an active membership to redeem rewards.",
        )
    if perk.status != "ACTIVE":
        return _refuse("pv_perk_inactive", "This reward is no longer available.")
    if not in_date_window(perk, today(store)):
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


# --- the Rewards Program Rules views -------------------------------------------------------------

VIEW_SCOPES = ScopeRule(all_of=(), any_of=("PUBLIC", "USER_CUSTOMER_INFO"))
VIEW_PARAMS = frozenset({"business", "loc_id", "view_as_user", "limit", "offset", "format"})


@dataclass(frozen=True, slots=True)
class View:
    business_id: int
    loc_id: int
    user_id: int | None  # viewing as this member (view_as_user=true with USER_CUSTOMER_INFO)


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise invalid_request("invalid", f"{raw!r} is not a valid {name}.", name) from None


def read_view(request: Request, store: Store, token: AccessToken) -> View:
    """The view's query string: `business` (required), `loc_id`, `view_as_user`."""
    for key in request.query_params:
        if key not in VIEW_PARAMS:
            raise invalid_request("invalid_filter", f"{key!r} is not a parameter here.", key)
    business_id = _int_param(request, "business")
    if business_id is None:
        raise invalid_request("required", "The business parameter is required.", "business")
    if business_id not in store.businesses:
        raise invalid_request("invalid", f"There is no business {business_id}.", "business")
    raw_view = request.query_params.get("view_as_user", "false").lower()
    if raw_view not in {"true", "false", "1", "0"}:
        raise invalid_request("invalid", "view_as_user must be true or false.", "view_as_user")
    customer = "USER_CUSTOMER_INFO" in token.scopes
    conn = connection_of(store, token.user_id, business_id) if customer else None
    locations = sorted(k for k, loc in store.locations.items() if loc.business_id == business_id)
    loc_id = _int_param(request, "loc_id")
    if loc_id is None:
        # Reference: the user's primary (home) location with USER_CUSTOMER_INFO, otherwise
        # the business's primary location (the sandbox: its first location).
        home = conn.home_location_id if conn else None
        loc_id = home if home is not None else (locations[0] if locations else 0)
    elif loc_id not in locations:
        raise invalid_request("invalid", f"Location {loc_id} is not at this business.", "loc_id")
    as_user = customer and raw_view in {"true", "1"}
    return View(business_id, loc_id, token.user_id if as_user else None)


def _category(perk: Perk, store: Store) -> dict[str, Any] | None:
    cat = store.perk_categories.get(perk.category_id) if perk.category_id else None
    if cat is None:
        return None
    return {
        "category_id": cat.category_id,
        "category_name": cat.category_name,
        "display_order": cat.display_order,
    }


def display_key(perk: Perk, store: Store) -> tuple[Any, ...]:
    """Categorised perks first (by category order), then by display_order (nulls last)."""
    cat = store.perk_categories.get(perk.category_id) if perk.category_id else None
    cat_order = (cat.display_order if cat.display_order is not None else 10**9) if cat else 0
    return (
        cat is None,
        cat_order,
        cat.category_id if cat else 0,
        perk.display_order is None,
        perk.display_order or 0,
        perk.perk_id,
    )


def _bonus_live(store: Store, perk_id: int, loc_id: int) -> bool:
    perk = store.perks.get(perk_id)
    return perk is not None and perk.status == "ACTIVE" and perk_at(perk, loc_id)


def earning_rule(perk: Perk, view: View, store: Store) -> dict[str, Any]:
    day = today(store)
    pid = perk.perk_id
    return {
        "business": uri("businesses", perk.business_id),
        "category": _category(perk, store),
        "completes_referral": perk.completes_referral,
        "date_range_bonuses": [
            {
                "from_date": b.from_date.isoformat(),
                "multiplier": b.multiplier,
                "perk_id": b.perk_id,
                "to_date": b.to_date.isoformat(),
            }
            for _, b in sorted(store.date_range_bonuses.items())
            if pid in b.base_perk_ids
            and b.to_date >= day
            and _bonus_live(store, b.perk_id, view.loc_id)
        ],
        "description": perk.description,
        "display_name": perk.display_name or perk.title,
        "display_order": perk.display_order,
        "frequency_bonuses": [
            {
                "bonus_points": store.perks[f.perk_id].points,
                "earned_count": earned_count(f, view.user_id, store) if view.user_id else 0,
                "frequency": f.frequency,
                "frequency_bonus_perk_id": f.frequency_bonus_perk_id,
                "perk_id": f.perk_id,
                "required_to_earn": f.required_to_earn,
                "start_date": f.start_date.isoformat(),
            }
            for _, f in sorted(store.frequency_bonuses.items())
            if pid in f.qualifying_perk_ids and _bonus_live(store, f.perk_id, view.loc_id)
        ],
        "loc_id": view.loc_id,
        "perk_id": pid,
        "points": perk.points,
        "time_bonuses": [
            {"multiplier": b.multiplier, "perk_id": b.perk_id, "time_periods": b.time_periods}
            for _, b in sorted(store.time_bonuses.items())
            if pid in b.base_perk_ids and _bonus_live(store, b.perk_id, view.loc_id)
        ],
        "title": perk.title,
        "type": perk.type,
    }


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
        "picture_card": picture_url(perk, base_url),
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


def _view_list(name: str, rows: list[dict[str, Any]], request: Request, ctx: Context) -> Response:
    listing = Resource(name, name, lambda s: {}, lambda row, c: row)
    return list_response(listing, request, ctx, rows)


async def earning(request: Request) -> Response:
    """GET /v2/earning/: the business's earning rules at one location, in display order."""
    store: Store = request.app.state.store
    token = authenticate(request, store)
    if request.method not in READ_METHODS:
        raise not_implemented(request)
    VIEW_SCOPES.check(token)
    view = read_view(request, store, token)
    perks = [
        p
        for p in store.perks.values()
        if p.business_id == view.business_id
        and p.classification == "EARN"
        and p.status == "ACTIVE"
        and not p.admin_flagged_as_invisible_to_customers
        and p.type in EARNING_VIEW_TYPES
        and perk_at(p, view.loc_id)
    ]
    perks.sort(key=lambda p: display_key(p, store))
    ctx = Context(store, token, str(request.base_url).rstrip("/"))
    return _view_list("earning", [earning_rule(p, view, store) for p in perks], request, ctx)


async def redeeming(request: Request) -> Response:
    """GET /v2/redeeming/: the rewards on offer at one location, in display order."""
    store: Store = request.app.state.store
    token = authenticate(request, store)
    if request.method not in READ_METHODS:
        raise not_implemented(request)
    VIEW_SCOPES.check(token)
    view = read_view(request, store, token)
    day = today(store)
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
    ctx = Context(store, token, str(request.base_url).rstrip("/"))
    rows = [reward(p, view, store, ctx.base_url) for p in perks]
    return _view_list("redeeming", rows, request, ctx)
