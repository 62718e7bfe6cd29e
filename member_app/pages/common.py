"""What every member page needs: the signed-in member, and where to send everyone else."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from starlette.requests import Request

from .perkville import Connection, PerkvilleError
from .perkville.program import Location
from .security import csrf_valid
from .session import Member, current_member, member_acted


class SignInRequired(Exception):
    """Raised by a page that needs a member; the handler sends them to sign in and back."""

    def __init__(self, return_to: str) -> None:
        super().__init__(return_to)
        self.return_to = return_to


class StepUpRequired(Exception):
    """An identified (read-only) member started an action: sign in with PKCE first, then
    carry on with it (stepup.py)."""

    def __init__(self, path: str, fields: dict[str, str]) -> None:
        super().__init__(path)
        self.path = path
        self.fields = fields


class FormExpired(Exception):
    """A state-changing form arrived without this session's CSRF token."""


class NotJoined(Exception):
    """Raised by a page that needs a member who has joined the program; the handler sends
    them to the join page (research notes §21.9)."""


def require_member(request: Request) -> Member:
    member = current_member(request)
    if member is None:
        path = request.url.path
        if request.method != "GET":
            # After sign-in the member lands on the page the form came from, not on a POST.
            path = path.rsplit("/", 1)[0] if path.count("/") > 1 else path
        query = f"?{request.url.query}" if request.url.query and request.method == "GET" else ""
        raise SignInRequired(path + query)
    return member


def require_joined(connection: Connection | None) -> Connection:
    """The member's connection, if they have joined; everyone else goes to the join page."""
    if connection is None or not connection.joined:
        raise NotJoined
    return connection


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form, after the CSRF check every state-changing request passes."""
    form = await request.form()
    if not csrf_valid(request, form.get("csrf")):
        raise FormExpired
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    member = current_member(request)
    if member is not None and member.identified:
        # Read-only until the member signs in (issue item 3): every action passes here.
        raise StepUpRequired(request.url.path, {k: v for k, v in fields.items() if k != "csrf"})
    # Whatever the member is about to do changes what they see: read it afresh from now on.
    member_acted(request)
    return fields


_ID = re.compile(r"^[0-9]{1,18}$")
T = TypeVar("T")


def path_id(request: Request, name: str) -> int | None:
    """A numeric id from the URL, or None when it is not one (the page answers 404)."""
    raw = str(request.path_params.get(name, ""))
    return int(raw) if _ID.match(raw) else None


# Where the member's saved location choice lives in the session (an int location id).
LOCATION_KEY = "loc"


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
    """The location for this request, in the issue's order: `?loc_id=`, the member's saved
    choice, the connection's home location, last visited location, the business's first
    location (research notes §1, §21.2: earning rules and rewards differ by location)."""
    by_id = {loc.location_id: loc for loc in locations}
    home_id = connection.home_location_id if connection else None
    home = by_id.get(home_id) if home_id is not None else None
    raw = request.query_params.get("loc_id", "")
    asked = by_id.get(int(raw)) if _ID.match(raw) else None
    if asked is not None:
        return Place(asked, locations, home, from_query=True)
    saved = request.session.get(LOCATION_KEY)
    tries = [
        saved if isinstance(saved, int) else None,
        home_id,
        connection.last_visited_location_id if connection else None,
    ]
    first = locations[0] if locations else None
    location = next((by_id[i] for i in tries if i is not None and i in by_id), first)
    notice = None
    if raw:  # digits of another business's location, or not an id at all
        shown = f"; showing {location.name}" if location else ""
        notice = f"That location isn't part of this program{shown}."
    return Place(location, locations, home, notice)


# The location this session's pages were last shown for: a guess that lets a page fetch what
# depends on the location alongside the connection that decides it (issue 6: one round trip).
LOCATION_GUESS_KEY = "lg"


def _location_guess(request: Request) -> int | None:
    raw = request.query_params.get("loc_id", "")
    if _ID.match(raw):
        return int(raw)
    for key in (LOCATION_KEY, LOCATION_GUESS_KEY):
        value = request.session.get(key)
        if isinstance(value, int):
            return value
    return None


async def at_member_location(
    request: Request, member: Member, fetch: Callable[[int | None], Awaitable[T]]
) -> tuple[Place, Connection | None, T]:
    """The member's location for this page (see `choose_location`), their connection, and
    `fetch(location id)`: the earning rules or rewards there.

    The location can depend on the connection (its home location), which would make two round
    trips. So `fetch` starts at once for the location guessed from the address, the saved
    choice or this session's last page, and runs again only when the guess was wrong."""
    settings = request.app.state.settings
    perkville = request.app.state.perkville
    guess = None if settings.baseline else _location_guess(request)
    locations, connection, guessed = await asyncio.gather(
        perkville.locations(member.token, settings.business_id),
        perkville.connection(
            member.token, business_id=settings.business_id, user_id=member.user_id
        ),
        _attempt(fetch, guess),
    )
    place = choose_location(request, locations, connection)
    remember = place.loc_id is not None and not place.from_query and not settings.baseline
    if remember and request.session.get(LOCATION_GUESS_KEY) != place.loc_id:
        request.session[LOCATION_GUESS_KEY] = place.loc_id
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


def today(request: Request) -> date:
    settings = request.app.state.settings
    now = datetime.fromtimestamp(request.app.state.clock(), ZoneInfo(settings.timezone))
    return now.date()
