"""The signed-out front door. On a phone: the way in. On a kiosk: an attract screen that sells
the program (its bonuses on now, the referral offer, top rewards) next to a large "start"
button, and a QR code that opens the app on the member's own phone, so nobody has to type a
password on the shared screen.

A signed-out page has no member token. The program's public data is read with the staff token
(`Caller(settings.admin_token)`) when one is configured; without one the attract screen shows
what needs no call (the program's name and logo, the buttons, the QR code)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from ..i18n import N_, _, day_short, number, points
from ..perkville import Business, Caller, PerkvilleError
from ..perkville.program import EarningRule, Reward
from ..state import app_state
from ..web.language import cookie_name as language_cookie
from ..web.templating import render
from .codes import qr_svg
from .common import today
from .hours import hours_words, long_day, weekday_name
from .referrals import referral_offer

log = logging.getLogger(__name__)

# The staff token's view of the program is the same for every visitor: one cache scope for
# the attract screen, so it is fetched at most once per MEMBER_APP_MEMBER_CACHE_SECONDS.
ATTRACT_CACHE_SCOPE = "attract-screen"
TOP_REWARDS = 4
COMING_SOON = timedelta(days=30)  # date-range bonuses starting within this are shown too
MULTIPLIER_WORDS = {2.0: N_("Double points"), 3.0: N_("Triple points")}


@dataclass(frozen=True, slots=True)
class Slide:
    """One offer on the attract screen."""

    kind: str  # "bonus", "referral" or "reward"
    kicker: str  # what kind of offer, in a word or two
    title: str
    detail: str = ""
    points: int | None = None  # a reward's price
    picture_url: str | None = None
    badge: str = ""  # drawn large where there is no picture ("3×")


@dataclass(frozen=True, slots=True)
class AttractScreen:
    slides: list[Slide]
    phone_url: str  # what the QR code opens
    phone_address: str  # the same, to type in: no scheme, no query
    phone_qr: Markup  # inline SVG with role="img" and a <title>


def points_words(multiplier: float) -> str:
    words = MULTIPLIER_WORDS.get(multiplier)
    if words:
        return _(words)
    return _("%(multiplier)s× points") % {"multiplier": number(multiplier)}


def and_list(words: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c" (Babel's lists would add an Oxford comma in English)."""
    items = list(dict.fromkeys(words))
    if len(items) == 1:
        return items[0]
    # Translators: the end of a list: "Gym check-in, Yoga and Swim".
    return _("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


def _days_and_hours(periods: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """(("Monday", ("5 am to 8 am",)), ("Wednesday", ...)) → "Monday and Wednesday, 5 am to
    8 am": days with the same hours share them."""
    by_hours: dict[tuple[str, ...], list[str]] = {}
    for day, spans in periods:
        by_hours.setdefault(tuple(hours_words(span) for span in spans), []).append(
            weekday_name(day)
        )
    return "; ".join(
        # Translators: days and the hours of a weekly bonus, as Perkville names them:
        # "Monday and Friday, 5 am to 8 am".
        _("%(days)s, %(hours)s") % {"days": and_list(days), "hours": and_list(spans)}
        for spans, days in by_hours.items()
    )


def bonus_slides(rules: list[EarningRule], on: date) -> list[Slide]:
    """The earning rules' date-range bonuses on now or starting soon, then their time bonuses;
    rules sharing a bonus are named together."""
    dated: dict[tuple[float, date | None, date | None], list[str]] = {}
    timed: dict[tuple[float, tuple[tuple[str, tuple[str, ...]], ...]], list[str]] = {}
    for rule in rules:
        for bonus in rule.date_range_bonuses:
            ended = bonus.to_date is not None and bonus.to_date < on
            far = bonus.from_date is not None and bonus.from_date > on + COMING_SOON
            if not (ended or far):
                key = (bonus.multiplier, bonus.from_date, bonus.to_date)
                dated.setdefault(key, []).append(rule.title)
        for time_bonus in rule.time_bonuses:
            if time_bonus.periods:
                timed.setdefault((time_bonus.multiplier, time_bonus.periods), []).append(rule.title)
    slides = []
    for (multiplier, start, end), titles in dated.items():
        named = and_list(titles)
        if start is not None and start > on:
            kicker = _("Coming soon")
            if end:
                detail = _("For %(rules)s, %(start)s to %(end)s.") % {
                    "rules": named,
                    "start": day_short(start),
                    "end": day_short(end),
                }
            else:
                detail = _("For %(rules)s, from %(start)s.") % {
                    "rules": named,
                    "start": day_short(start),
                }
        else:
            kicker = _("Bonus on now")
            if end:
                detail = _("For %(rules)s, until %(end)s.") % {
                    "rules": named,
                    "end": long_day(end),
                }
            else:
                detail = _("For %(rules)s.") % {"rules": named}
        slides.append(_bonus(kicker, multiplier, detail))
    for (multiplier, periods), titles in timed.items():
        detail = _("For %(rules)s: %(times)s.") % {
            "rules": and_list(titles),
            "times": _days_and_hours(periods),
        }
        slides.append(_bonus(_("Every week"), multiplier, detail))
    return slides


def _bonus(kicker: str, multiplier: float, detail: str) -> Slide:
    badge = _("%(multiplier)s×") % {"multiplier": number(multiplier)}
    return Slide("bonus", kicker, points_words(multiplier), detail, badge=badge)


def reward_slides(rewards: list[Reward], on: date) -> list[Slide]:
    """The first rewards in the business's own order that anyone can get today (no level
    needed, in their dates)."""
    shown = [
        r
        for r in rewards
        if r.required_level_id is None
        and (r.start_date is None or r.start_date <= on)
        and (r.end_date is None or r.end_date >= on)
    ]
    return [
        Slide("reward", _("Reward"), r.title, r.description, r.points, r.picture_url)
        for r in shown[:TOP_REWARDS]
    ]


def phone_qr(url: str, program_name: str) -> Markup:
    """The QR code as inline SVG (no style attributes: the CSP allows it), named for screen
    readers by its <title>."""
    title = _("QR code: open %(program)s on your phone") % {"program": program_name}
    svg = qr_svg(url, title=title).decode()
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's own SVG


async def _offers(request: Request) -> tuple[Business | None, list[Slide]]:
    """The business and its offers, as the staff token sees them (public data, cached)."""
    state = app_state(request)
    settings, perkville = state.settings, state.perkville
    business = perkville.cached_business(settings.business_id)
    if settings.admin_token is None:
        return business, []
    staff = Caller(settings.admin_token, cache_scope=ATTRACT_CACHE_SCOPE)
    biz_id = settings.business_id
    # No location: Perkville answers for the business's primary location (reference,
    # Earning Rules and Redeeming Rules: loc_id).
    fetched, rules, promotions, rewards = await asyncio.gather(
        perkville.business(staff, biz_id),
        perkville.earning(staff, biz_id, None),
        perkville.promotions(staff, biz_id, None),
        perkville.redeeming(staff, biz_id, None),
        return_exceptions=True,
    )
    # The attract screen never fails for its offers: a part Perkville did not give is left out.
    for part in (fetched, rules, promotions, rewards):
        if isinstance(part, BaseException):
            if not isinstance(part, PerkvilleError):
                raise part
            log.info("attract screen without a part: %s", type(part).__name__)
    on = today(request)
    slides = [] if isinstance(rules, BaseException) else bonus_slides(rules, on)
    offer = None if isinstance(promotions, BaseException) else referral_offer(promotions, None)
    if offer is not None:
        earn = "" if isinstance(rules, BaseException) else _referral_points(rules)
        detail = " ".join(part for part in (offer.detail, earn) if part)
        slides.append(
            Slide("referral", _("Refer a friend"), offer.title, detail, None, offer.picture_url)
        )
    if not isinstance(rewards, BaseException):
        slides += reward_slides(rewards, on)
    return (business if isinstance(fetched, BaseException) else fetched), slides


def _referral_points(rules: list[EarningRule]) -> str:
    """What the member earns for a referral, in the referral page's own words."""
    rule = next((r for r in rules if r.type == "REFERRAL" and r.points), None)
    if rule is None:
        return ""
    return _("You earn %(points)s for each friend you refer.") % {"points": points(rule.points)}


async def landing(request: Request, *, expired: bool, signed_out: bool) -> Response:
    """The signed-out landing page: on a kiosk, the attract screen."""
    settings = app_state(request).settings
    context: dict[str, object] = {"expired": expired, "signed_out": signed_out}
    if not settings.kiosk:
        context["from_kiosk"] = request.query_params.get("from") == "kiosk"
        return render(request, "landing.html", context)
    if request.query_params.get("from") == "kiosk":
        # Someone scanned the kiosk's code: this is their own phone, not the shared screen.
        return render(request, "landing.html", {**context, "kiosk": False, "from_kiosk": True})
    business, slides = await _offers(request)
    phone = settings.phone_url or settings.public_url
    url = f"{phone}/?from=kiosk"
    address = phone.split("://", 1)[-1]
    program = business.program_name if business else settings.program_name
    screen = AttractScreen(slides, url, address, phone_qr(url, program))
    context["attract"] = screen
    # Someone chose a language: it is reset once nobody has touched the screen for a while.
    context["language_chosen"] = language_cookie(settings) in request.cookies
    return render(request, "landing.html", context, business=business)
