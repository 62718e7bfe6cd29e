"""The location a page is shown for: earning rules, rewards and challenges differ by location
(reference, Earning Rules and Redeeming Rules: `loc_id`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request

from ..i18n import _
from ..perkville import Connection, PerkvilleError
from ..perkville.program import Location
from ..state import app_state
from ..web.session import LOCATION, LOCATION_GUESS, Member, int_value
from .common import query_id

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Place:
    """The location a page is shown for, and the business's others to switch to."""

    location: Location | None  # None only when the business lists no locations
    locations: list[Location]
    home: Location | None
    notice: str | None = None  # why a `?loc_id=` in the address was not used
    from_query: bool = False

    @property
    def loc_id(self) -> int | None:
        return self.location.location_id if self.location else None

    def link(self, path: str) -> str:
        """`path`, carrying a location that came from the address (a saved one needs nothing)."""
        if not self.from_query or self.location is None:
            return path
        return f"{path}{'&' if '?' in path else '?'}loc_id={self.location.location_id}"


def choose_location(
    request: Request, locations: list[Location], connection: Connection | None
) -> Place:
    """The location for this request: `?loc_id=`, else the member's saved choice, their
    connection's home location, their last visited location, the business's first location."""
    by_id = {loc.location_id: loc for loc in locations}
    home_id = connection.home_location_id if connection else None
    home = by_id.get(home_id) if home_id is not None else None
    raw = request.query_params.get("loc_id", "")
    asked_id = query_id(request, "loc_id")
    asked = by_id.get(asked_id) if asked_id is not None else None
    if asked is not None:
        return Place(asked, locations, home, from_query=True)
    tries = [
        int_value(request, LOCATION),
        home_id,
        connection.last_visited_location_id if connection else None,
    ]
    first = locations[0] if locations else None
    location = next((by_id[i] for i in tries if i is not None and i in by_id), first)
    notice = None
    if raw:  # digits of another business's location, or not an id at all
        notice = (
            _("That location isn't part of this program; showing %(location)s.")
            % {"location": location.name}
            if location
            else _("That location isn't part of this program.")
        )
    return Place(location, locations, home, notice)


def _location_guess(request: Request) -> int | None:
    """The location this page is likely shown for: the address's, the member's choice, or
    the one this session's pages were last shown for."""
    for guess in (
        query_id(request, "loc_id"),
        int_value(request, LOCATION),
        int_value(request, LOCATION_GUESS),
    ):
        if guess is not None:
            return guess
    return None


async def at_member_location(
    request: Request, member: Member, fetch: Callable[[int | None], Awaitable[T]]
) -> tuple[Place, Connection | None, T]:
    """The member's location for this page (see `choose_location`), their connection, and
    `fetch(location id)`: the earning rules or rewards there.

    The location can depend on the connection (its home location), which would make two round
    trips. So `fetch` starts at once for the location guessed from the address, the saved
    choice or this session's last page, and runs again only when the guess was wrong."""
    state = app_state(request)
    business_id, caller = state.settings.business_id, member.caller
    guess = _location_guess(request)
    locations, connection, guessed = await asyncio.gather(
        state.perkville.locations(caller, business_id),
        state.perkville.connection(caller, business_id=business_id, user_id=member.user_id),
        _attempt(fetch, guess),
    )
    place = choose_location(request, locations, connection)
    remember = place.loc_id is not None and not place.from_query
    if remember and int_value(request, LOCATION_GUESS) != place.loc_id:
        request.session[LOCATION_GUESS] = place.loc_id
    if guessed is not None and place.loc_id == guess:
        return place, connection, guessed[0]
    return place, connection, await fetch(place.loc_id)


async def _attempt(
    fetch: Callable[[int | None], Awaitable[T]], guess: int | None
) -> tuple[T] | None:
    """`fetch(guess)`, or None when there is no guess or it failed (a wrong guess, such as a
    `loc_id` of another business, must not fail the page: the real fetch follows)."""
    if guess is None:
        return None
    try:
        return (await fetch(guess),)
    except PerkvilleError:
        return None
