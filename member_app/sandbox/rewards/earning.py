"""Earning points (reference: Earning Rules, and the bonus perks: Time Bonus, Date Range Bonus,
Frequency Bonus Perk): the `/v2/earning/` view and the bonus rules it shows.

Windows, weeks, months and dates are read on the locations' clocks (`store.timezone`), against
`store.now()`. The demo gym's point history is written with the same rules (seed/rewards.py).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..records import FrequencyBonus, Perk, TimeBonus, Transaction
from ..resources import ALL_METHODS, uri
from ..store import Store
from .perks import category_of, display_key, perk_at
from .program_rules import View, open_view, view_list

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# Reference, Earning Rules, "type": the perk types the earning view lists. Activities
# (PROGRESS_ACTIVITY), bonus perks and bookkeeping perks (POINT_ADJUSTMENT, COUPON) are not rules
# a member is shown.
EARNING_VIEW_TYPES = frozenset(
    {"STANDARD", "BIRTHDAY", "CHECKIN", "REFERRAL", "REGISTRATION", "TWITTER_POST", "VISITOR"}
)


def _clock(text: str) -> time:
    """A time of day from "5 am", "11:30 am" or "12 pm"."""
    value, _, meridiem = text.strip().partition(" ")
    hours, _, minutes = value.partition(":")
    hour = int(hours) % 12 + (12 if meridiem.lower() == "pm" else 0)
    return time(hour, int(minutes or 0))


def in_time_bonus(bonus: TimeBonus, when: datetime, zone: tzinfo) -> bool:
    """Whether `when` falls in one of the bonus's windows ("3 pm to 4 pm" on a weekday) on the
    clocks of `zone`, the location's."""
    moment = when.astimezone(zone)
    for period in bonus.time_periods.get(WEEKDAYS[moment.weekday()], []):
        start, _, end = period.partition(" to ")
        if _clock(start) <= moment.time() < _clock(end):
            return True
    return False


def multiplied(points: int, multiplier: str) -> int:
    """The extra points a multiplier adds on top of `points` (2.00 on 5 → 5 more)."""
    return int(points * (Decimal(multiplier) - 1))


def frequency_window_start(bonus: FrequencyBonus, now: datetime, zone: tzinfo) -> datetime:
    """WEEKLY: Monday 00:00 of this ISO week; MONTHLY: the 1st; FROM_DATE: the start date;
    midnight in `zone`, the locations'. Never before the bonus's own start date."""
    day = now.astimezone(zone).date()
    if bonus.frequency == "WEEKLY":
        start = day - timedelta(days=day.weekday())
    elif bonus.frequency == "MONTHLY":
        start = day.replace(day=1)
    else:
        start = bonus.start_date
    return datetime.combine(max(start, bonus.start_date), time(), zone)


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
    start = frequency_window_start(bonus, now, store.zone)
    return sum(
        1
        for t in store.transactions.values()
        if t.user_id == user_id
        and start <= t.transaction_dt <= now
        and counts_toward(bonus, t, store)
    )


def _bonus_live(store: Store, perk_id: int, loc_id: int) -> bool:
    perk = store.perks.get(perk_id)
    return perk is not None and perk.status == "ACTIVE" and perk_at(perk, loc_id)


def earning_rule(perk: Perk, view: View, store: Store) -> dict[str, Any]:
    day = store.today()
    pid = perk.perk_id
    return {
        "business": uri("businesses", perk.business_id),
        "category": category_of(perk, store),
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


async def earning(request: Request) -> Response:
    """GET /v2/earning/: the business's earning rules at one location, in display order."""
    view, ctx = open_view(request)
    store = ctx.store
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
    return view_list("earning", [earning_rule(p, view, store) for p in perks], request, ctx)


routes = [Route("/v2/earning/", earning, methods=ALL_METHODS)]
