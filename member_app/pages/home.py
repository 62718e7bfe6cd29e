"""The front door: a landing page when signed out; signed in, the member's dashboard: their
points, the next reward and what they can redeem now, the bonuses on today, vouchers by
expiry, challenges in progress and their level."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..i18n import _
from ..perkville import (
    Business,
    Connection,
    Level,
    PerkvilleNotImplemented,
    PerkvilleUnavailable,
)
from ..perkville.program import EarningRule, Location, Reward, Voucher
from ..state import app_state
from ..web.session import LOCATION, LOCATION_GUESS, Member, current_member, int_value
from ..web.templating import render
from .challenges import ChallengeCard, ChallengesPage, challenge_cards
from .common import query_id, today
from .eligibility import Redemptions, RewardsList, Standing, assess
from .hours import clock_of, hours_words, long_day, time_words
from .landing import and_list, landing, points_words
from .place import choose_location
from .rewards import redemptions
from .vouchers import VoucherView, view_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class LevelProgress:
    """Where the member stands among the program's levels."""

    current: Level | None
    next: Level | None
    points_to_next: int
    percent: int  # progress from the current level's floor to the next one's, 0 to 100
    # Whether the member's level is the one their lifetime points reach: levels then count
    # every point earned, and the points to the next level can be said. A program counting
    # the calendar year (a level kept from last year) can't be told apart from here.
    lifetime: bool = True

    @classmethod
    def compute(cls, levels: list[Level], connection: Connection) -> LevelProgress | None:
        if not levels:
            return None
        earned = connection.lifetime_earned_points
        reached = [lv for lv in levels if lv.point_floor <= earned]
        by_points = max(reached, key=lambda lv: lv.point_floor) if reached else None
        current = next((lv for lv in levels if lv.level_id == connection.level_id), by_points)
        floor = current.point_floor if current else 0
        upcoming = min(
            (lv for lv in levels if lv.point_floor > floor),
            key=lambda lv: lv.point_floor,
            default=None,
        )
        lifetime = current == by_points
        if upcoming is None:
            return cls(current, None, 0, 100, lifetime)
        span = max(upcoming.point_floor - floor, 1)
        done = min(max(earned - floor, 0), span)
        to_next = max(upcoming.point_floor - earned, 0)
        return cls(current, upcoming, to_next, round(100 * done / span), lifetime)


@dataclass(frozen=True, slots=True)
class Bonus:
    """A bonus on today: what it gives, on which ways of earning, and until when."""

    what: str  # "Triple points"
    on: str  # "Gym check-in and Group fitness class"
    until: str  # "until Sunday, Nov 29", "today until 8 am", "today from 5 pm to 6 pm"


def _still_today(span: str, now: time) -> str | None:
    """A time bonus's window today ("5 am to 8 am"), as the member reads it now: on now,
    later today, or (None) over. A window this app can't read is shown as written."""
    start_text, _to, end_text = span.partition(" to ")
    start, end = clock_of(start_text), clock_of(end_text)
    if start is None or end is None:
        return _("today %(hours)s") % {"hours": span}
    if now >= end and end != time(0):
        return None
    if now >= start:
        return _("today until %(time)s") % {"time": time_words(end_text)}
    return _("today %(hours)s") % {"hours": hours_words(span)}


def _until(end: date | None, on: date) -> str:
    if end is None:
        return ""
    if end == on:
        return _("ends today")
    return _("until %(day)s") % {"day": long_day(end)}


def bonuses_today(rules: list[EarningRule], now: datetime) -> list[Bonus]:
    """The bonuses on today (reference, Earning Rules: date_range_bonuses and time_bonuses):
    date ranges covering today, and today's time windows not over yet. Rules sharing a bonus
    are named together."""
    on = now.date()
    found: dict[tuple[float, str], list[str]] = {}
    for rule in rules:
        for dated in rule.date_range_bonuses:
            if (dated.from_date or on) <= on <= (dated.to_date or on):
                found.setdefault((dated.multiplier, _until(dated.to_date, on)), []).append(
                    rule.title
                )
        for timed in rule.time_bonuses:
            for day, spans in timed.periods:
                if day.lower() != f"{on:%A}".lower():
                    continue
                for span in spans:
                    words = _still_today(span, now.time())
                    if words is not None:
                        found.setdefault((timed.multiplier, words), []).append(rule.title)
    return [Bonus(points_words(m), and_list(titles), words) for (m, words), titles in found.items()]


@dataclass(frozen=True, slots=True)
class HomePage:
    first_name: str
    business: Business
    connection: Connection | None
    progress: LevelProgress | None
    # None: Perkville failed to give this part; the page shows the rest and a way to retry.
    rewards: RewardsList | None
    bonuses: list[Bonus] | None
    vouchers: list[VoucherView] | None
    challenges: list[ChallengeCard] | None  # the member's challenges in progress

    @property
    def ready(self) -> list[VoucherView]:
        """The vouchers to use (as the vouchers page counts them), soonest expiry first."""
        usable = [v for v in self.vouchers or [] if not v.past]
        return sorted(usable, key=lambda v: v.voucher.expiration_date or date.max)

    @property
    def expiring(self) -> list[VoucherView]:
        return [v for v in self.ready if v.expiring_soon]

    @property
    def unlocks(self) -> list[Reward]:
        """What reaching the next level unlocks here."""
        if self.rewards is None or self.progress is None or self.progress.next is None:
            return []
        return self.rewards.unlocked_by(self.progress.next)


def _location_guess(request: Request, member: Member) -> int | None:
    """The location home's rewards and bonuses are asked for: the address's or the member's
    choice; otherwise None, which Perkville answers for the member's home location
    (reference, Redeeming Rules: loc_id), the rewards page's default too. The staff token
    would get the business's primary location instead: an identified member's pages guess
    from the location they were last shown for."""
    guesses = [query_id(request, "loc_id"), int_value(request, LOCATION)]
    if member.identified:
        guesses.append(int_value(request, LOCATION_GUESS))
    return next((guess for guess in guesses if guess is not None), None)


async def _program_at(
    request: Request, member: Member, loc_id: int | None
) -> tuple[list[Reward] | BaseException, list[EarningRule] | BaseException]:
    """The rewards and the earning rules at a location, each of which may fail alone."""
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    rewards, rules = await asyncio.gather(
        perkville.redeeming(member.caller, business_id, loc_id),
        perkville.earning(member.caller, business_id, loc_id),
        return_exceptions=True,
    )
    return rewards, rules


def _part(value: T | BaseException) -> T | None:
    """A part of the page, or None when Perkville didn't give it: unavailable, or not
    implemented there (a 501); anything else is a real error."""
    if isinstance(value, BaseException):
        if not isinstance(value, PerkvilleUnavailable | PerkvilleNotImplemented):
            raise value
        return None
    return value


async def dashboard(request: Request, member: Member) -> Response:
    """The member's dashboard. Every part is asked for at once: the challenge data (which
    carries the business, connection and locations), levels, vouchers, the rewards and
    earning rules at the member's likely location, and an identified member's redemptions."""
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    guess = _location_guess(request, member)
    data, levels, vouchers, program, history = await asyncio.gather(
        challenge_cards(request, member),
        perkville.levels(member.caller, business_id),
        perkville.vouchers(member.caller, business_id),
        _program_at(request, member, guess),
        redemptions(request, member),
        return_exceptions=True,
    )
    rewards, rules = (program, program) if isinstance(program, BaseException) else program
    challenges: list[ChallengeCard] | None = None
    if isinstance(data, BaseException):
        _part(data)
        business, connection, locations = await asyncio.gather(
            perkville.business(member.caller, business_id),
            perkville.connection(member.caller, business_id=business_id, user_id=member.user_id),
            perkville.locations(member.caller, business_id),
        )
    else:
        business, connection, locations = data.business, data.connection, data.locations
        challenges = ChallengesPage(data.cards).in_progress
    rewards, rules = await _at_place(request, member, locations, connection, guess, rewards, rules)
    return _render(
        request,
        member,
        business,
        connection,
        locations,
        levels=_part(levels),
        vouchers=_part(vouchers),
        rewards=_part(rewards),
        rules=_part(rules),
        history=_part(history),
        challenges=challenges,
    )


async def _at_place(
    request: Request,
    member: Member,
    locations: list[Location],
    connection: Connection | None,
    guess: int | None,
    rewards: list[Reward] | BaseException,
    rules: list[EarningRule] | BaseException,
) -> tuple[list[Reward] | BaseException, list[EarningRule] | BaseException]:
    """The rewards and rules for the location the rewards page shows (so their numbers
    agree): those fetched at once when the guess was right, else fetched again."""
    place = choose_location(request, locations, connection)
    # Without a guess Perkville answered for its default location, which each reward names
    # (reference, Redeeming Rules: loc_id).
    shown = guess
    if shown is None and not isinstance(rewards, BaseException):
        shown = next((r.loc_id for r in rewards if r.loc_id is not None), None)
    if shown == place.loc_id or connection is None:
        return rewards, rules
    return await _program_at(request, member, place.loc_id)


def _render(
    request: Request,
    member: Member,
    business: Business,
    connection: Connection | None,
    locations: list[Location],
    *,
    levels: list[Level] | None,
    vouchers: list[Voucher] | None,
    rewards: list[Reward] | None,
    rules: list[EarningRule] | None,
    history: Redemptions | None,
    challenges: list[ChallengeCard] | None,
) -> Response:
    state = app_state(request)
    on = today(request)
    now = datetime.fromtimestamp(state.clock(), ZoneInfo(state.settings.timezone))
    home_id = connection.home_location_id if connection else None
    home = next((loc.name for loc in locations if loc.location_id == home_id), None)
    standing = Standing(connection, levels or [], on, home, history)
    if levels is None:  # which rewards a level unlocks can't be told: that part waits too
        rewards = None
    page = HomePage(
        first_name=member.first_name,
        business=business,
        connection=connection,
        progress=LevelProgress.compute(levels, connection) if connection and levels else None,
        rewards=None if rewards is None else RewardsList([assess(r, standing) for r in rewards]),
        bonuses=None if rules is None else bonuses_today(rules, now),
        vouchers=None if vouchers is None else [view_of(v, locations, on) for v in vouchers],
        challenges=challenges,
    )
    return render(request, "home/index.html", {"page": page, "tab": "home"}, business=business)


async def home(request: Request) -> Response:
    """Show the member their dashboard; or, signed out, the way in."""
    state = app_state(request)
    member = current_member(request)
    if member is None:
        expired = bool(getattr(request.state, "session_expired", False))
        signed_out = request.query_params.get("signed_out") == "1"
        if state.settings.identify and not (expired or signed_out):
            # Identify mode: a member signed in at Perkville sees their points at once.
            return RedirectResponse(request.url_for("signin_identify").path, status_code=303)
        return await landing(request, expired=expired, signed_out=signed_out)
    return await dashboard(request, member)


routes = [Route("/", home, name="home")]
