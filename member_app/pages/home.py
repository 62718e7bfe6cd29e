"""The front door: a landing page when signed out, the member's summary when signed in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..perkville import Business, Connection, Level, PerkvilleUnavailable
from ..state import app_state
from ..web.session import current_member
from ..web.templating import render
from .challenges import ChallengeCard, ChallengesPage, challenge_cards
from .common import today
from .vouchers import VoucherView, view_of


@dataclass(frozen=True, slots=True)
class LevelProgress:
    """Where the member stands among the program's levels."""

    current: Level | None
    next: Level | None
    points_to_next: int
    percent: int  # progress from the current level's floor to the next one's, 0 to 100

    @classmethod
    def compute(cls, levels: list[Level], connection: Connection) -> LevelProgress | None:
        if not levels:
            return None
        earned = connection.lifetime_earned_points
        current = next((lv for lv in levels if lv.level_id == connection.level_id), None)
        if current is None:
            reached = [lv for lv in levels if lv.point_floor <= earned]
            current = reached[-1] if reached else None
        floor = current.point_floor if current else 0
        upcoming = next((lv for lv in levels if lv.point_floor > floor), None)
        if upcoming is None:
            return cls(current, None, 0, 100)
        span = max(upcoming.point_floor - floor, 1)
        done = min(max(earned - floor, 0), span)
        return cls(
            current,
            upcoming,
            max(upcoming.point_floor - earned, 0),
            round(100 * done / span),
        )


@dataclass(frozen=True, slots=True)
class HomePage:
    first_name: str
    business: Business
    connection: Connection | None
    progress: LevelProgress | None
    # None: Perkville failed to give this part; the page shows the rest and a way to retry.
    unused: list[VoucherView] | None
    challenges: list[ChallengeCard] | None  # the member's challenges in progress

    @property
    def expiring(self) -> list[VoucherView]:
        return [v for v in self.unused or [] if v.expiring_soon]


async def home(request: Request) -> Response:
    """Show the member their points and level; or, signed out, the way in."""
    state = app_state(request)
    member = current_member(request)
    if member is None:
        expired = bool(getattr(request.state, "session_expired", False))
        signed_out = request.query_params.get("signed_out") == "1"
        if state.settings.identify and not (expired or signed_out):
            # Identify mode: a member signed in at Perkville sees their points at once.
            return RedirectResponse(request.url_for("signin_identify").path, status_code=303)
        return render(request, "landing.html", {"expired": expired, "signed_out": signed_out})
    business_id, perkville = state.settings.business_id, state.perkville
    # The challenge data carries the business, connection and locations: fetched once.
    data, levels, vouchers = await asyncio.gather(
        challenge_cards(request, member),
        perkville.levels(member.caller, business_id),
        perkville.vouchers(member.caller, business_id),
        return_exceptions=True,
    )
    # The balance is what home is for; levels, vouchers and challenges may fail alone (the
    # page shows a retry block for the failing part). Anything but "unavailable" is a real
    # error.
    for part in (data, levels, vouchers):
        if isinstance(part, BaseException) and not isinstance(part, PerkvilleUnavailable):
            raise part
    if isinstance(data, BaseException):
        business, connection, locations = await asyncio.gather(
            perkville.business(member.caller, business_id),
            perkville.connection(member.caller, business_id=business_id, user_id=member.user_id),
            perkville.locations(member.caller, business_id),
        )
        challenges = None
    else:
        business, connection, locations = data.business, data.connection, data.locations
        challenges = ChallengesPage(data.cards).in_progress
    on = today(request)
    page = HomePage(
        first_name=member.first_name,
        business=business,
        connection=connection,
        progress=(
            LevelProgress.compute(levels, connection)
            if connection and not isinstance(levels, BaseException)
            else None
        ),
        unused=(
            None
            if isinstance(vouchers, BaseException)
            else [view_of(v, locations, on) for v in vouchers if v.status == "UNUSED"]
        ),
        challenges=challenges,
    )
    return render(request, "home/index.html", {"page": page, "tab": "home"}, business=business)


routes = [Route("/", home, name="home")]
