"""How to earn points: the earning rules as Perkville returns them for this member, with their
progress towards each frequency bonus."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..i18n import N_, _, day
from ..perkville import PerkvilleClient, PerkvilleError
from ..perkville.caller import Caller
from ..perkville.program import DateRangeBonus, EarningRule, FrequencyBonus, Transaction
from ..state import app_state
from ..web.templating import render
from .common import require_member
from .hours import hours_words, weekday_name
from .landing import points_words
from .place import at_member_location

# "+25 bonus points for 4 this week": the window ends the sentence.
FREQUENCY_WINDOWS = {"WEEKLY": N_("this week"), "MONTHLY": N_("this month")}
# An identified member's progress is counted from their point history: at most this many pages
# of it (99 lines each: the largest page, 100, holds one more line to say whether more follow)
# in the longest bonus window; past that the count is left out rather than guessed.
HISTORY_PAGES = 5
HISTORY_PAGE_SIZE = 99


@dataclass(frozen=True, slots=True)
class RuleGroup:
    name: str | None
    rules: list[EarningRule]


@dataclass(frozen=True, slots=True)
class Progress:
    """A frequency bonus as the page words it: its window, the rules that count towards it
    (one bonus is listed under each), and the member's count so far (None: not known, so not
    shown)."""

    window: str
    counted: tuple[str, ...]
    count: int | None


def group_rules(rules: list[EarningRule]) -> list[RuleGroup]:
    """Group by category, keeping the server's order inside each group; categorised rules
    first, then the rest (reference, Earning Rules: category)."""
    groups: dict[str | None, list[EarningRule]] = {}
    for rule in rules:
        groups.setdefault(rule.category, []).append(rule)
    named = [RuleGroup(name, items) for name, items in groups.items() if name is not None]
    rest = [RuleGroup(None, groups[None])] if None in groups else []
    return named + rest


def live_bonuses(bonuses: tuple[DateRangeBonus, ...], on: date) -> list[DateRangeBonus]:
    """Date-range bonuses that are on now or still to come."""
    return [b for b in bonuses if b.to_date is None or b.to_date >= on]


def bonus_key(bonus: FrequencyBonus) -> Hashable:
    """One frequency bonus, however many rules list it."""
    if bonus.bonus_id is not None:
        return bonus.bonus_id
    return (bonus.frequency, bonus.required, bonus.bonus_points, bonus.start_date, bonus.perk_id)


def window_words(bonus: FrequencyBonus) -> str:
    if bonus.frequency in FREQUENCY_WINDOWS:
        return _(FREQUENCY_WINDOWS[bonus.frequency])
    return _("since %(date)s") % {"date": day(bonus.start_date)} if bonus.start_date else ""


def window_start(bonus: FrequencyBonus, now: datetime) -> datetime | None:
    """Midnight (in `now`'s time zone, the program's) starting the bonus's current window:
    this week's Monday, the 1st of this month, or its start date; never before its start date.
    None when that cannot be known. (Perkville's reference does not say which day a week
    starts; the sandbox counts ISO weeks, from Monday.)"""
    today = now.date()
    if bonus.frequency == "WEEKLY":
        start: date | None = today - timedelta(days=today.weekday())
    elif bonus.frequency == "MONTHLY":
        start = today.replace(day=1)
    elif bonus.frequency == "FROM_DATE":
        start = bonus.start_date
    else:
        return None
    if start is None:
        return None
    if bonus.start_date is not None:
        start = max(start, bonus.start_date)
    return datetime.combine(start, time(), now.tzinfo)


def counted_earns(
    earns: list[Transaction],
    perk_ids: set[int],
    locations: frozenset[int] | None,
    since: datetime,
    now: datetime,
) -> int:
    """Earns that count towards a frequency bonus: one per transaction (whatever its quantity)
    of a qualifying rule, not voided, at a location where the bonus applies, in its window."""
    return sum(
        1
        for t in earns
        if t.status == "ACTIVE"
        and t.classification in ("EARN", "")
        and t.perk_id in perk_ids
        and (locations is None or t.location_id in locations)
        and t.when is not None
        and since <= t.when <= now
    )


async def _earns_since(
    perkville: PerkvilleClient, caller: Caller, business_id: int, since: datetime
) -> tuple[list[Transaction], datetime | None]:
    """The member's earns since `since`, newest first, and None when that is all of them; when
    there are more than the pages read, the time of the oldest line read: only what is later
    is whole."""
    found: list[Transaction] = []
    for _page in range(HISTORY_PAGES):
        page = await perkville.transactions(
            caller,
            business_id,
            offset=len(found),
            limit=HISTORY_PAGE_SIZE,
            classification="EARN",
            since=since.isoformat(timespec="seconds"),
        )
        found += page.items
        if not page.has_more or not page.items:
            return found, None
    unread = datetime.max.replace(tzinfo=since.tzinfo)
    return found, min((t.when for t in found if t.when is not None), default=unread)


async def counts_from_history(
    request: Request, caller: Caller, rules: list[EarningRule], now: datetime
) -> dict[Hashable, int | None]:
    """Each frequency bonus's count, from the member's own transactions: for an identified
    member, whose earning rules come from the staff token without their progress (the view as
    the member needs their USER_CUSTOMER_INFO token), while their transactions can be read."""
    state = app_state(request)
    bonuses = {bonus_key(b): b for rule in rules for b in rule.frequency_bonuses}
    qualifying: dict[Hashable, set[int]] = {}
    for rule in rules:
        for bonus in rule.frequency_bonuses:
            qualifying.setdefault(bonus_key(bonus), set()).add(rule.perk_id)
    starts = {key: window_start(bonus, now) for key, bonus in bonuses.items()}
    known = [start for start in starts.values() if start is not None]
    if not known:
        return dict.fromkeys(bonuses)
    perk_ids = sorted({b.perk_id for b in bonuses.values() if b.perk_id is not None})
    perkville = state.perkville
    try:
        (earns, partial_until), places = await asyncio.gather(
            _earns_since(perkville, caller, state.settings.business_id, min(known)),
            asyncio.gather(*(perkville.perk_locations(caller, perk_id) for perk_id in perk_ids)),
        )
    except PerkvilleError:
        return dict.fromkeys(bonuses)
    where = dict(zip(perk_ids, places, strict=True))
    counts: dict[Hashable, int | None] = {}
    for key, bonus in bonuses.items():
        start = starts[key]
        locations = where.get(bonus.perk_id) if bonus.perk_id is not None else None
        if start is None or (partial_until is not None and start <= partial_until):
            counts[key] = None
        else:
            counts[key] = counted_earns(earns, qualifying[key], locations, start, now)
    return counts


def progress_of(
    rules: list[EarningRule], counts: dict[Hashable, int | None] | None
) -> dict[Hashable, Progress]:
    """Each frequency bonus in words: Perkville's count for the member (`counts` None) or the
    one counted from their history."""
    titles: dict[Hashable, list[str]] = {}
    bonuses: dict[Hashable, FrequencyBonus] = {}
    for rule in rules:
        for bonus in rule.frequency_bonuses:
            titles.setdefault(bonus_key(bonus), []).append(rule.title)
            bonuses.setdefault(bonus_key(bonus), bonus)
    return {
        key: Progress(
            window_words(bonus),
            tuple(titles[key]),
            bonus.earned_count if counts is None else counts.get(key),
        )
        for key, bonus in bonuses.items()
    }


async def earn(request: Request) -> Response:
    """Show the ways to earn points, with bonus windows and the member's progress."""
    member = require_member(request)
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    business, (place, _connection, rules) = await asyncio.gather(
        perkville.business(member.caller, business_id),
        at_member_location(
            request,
            member,
            lambda loc_id: perkville.earning(member.caller, business_id, loc_id),
        ),
    )
    now = datetime.fromtimestamp(state.clock(), ZoneInfo(state.settings.timezone))
    counts = None
    if member.caller.staff:
        counts = await counts_from_history(request, member.caller, rules, now)
    progress = progress_of(rules, counts)
    on = now.date()
    return render(
        request,
        "earn/index.html",
        {
            "tab": "earn",
            "groups": group_rules(rules),
            "on": on,
            "live_bonuses": lambda rule: live_bonuses(rule.date_range_bonuses, on),
            "progress": lambda bonus: progress[bonus_key(bonus)],
            "place": place,
            # The same words as home and the kiosk ("Double points", "Triple points").
            "points_words": points_words,
            "weekday_name": weekday_name,
            "hours_words": hours_words,
        },
        business=business,
    )


routes = [Route("/earn", earn, name="earn")]
