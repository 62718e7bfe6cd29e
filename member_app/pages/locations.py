"""The member's location choice: saved in the session, then used by the earn, rewards and
challenges pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..state import app_state
from ..web.redirects import safe_next
from ..web.session import LOCATION, mark_stale
from .common import checked_form, parse_id, require_member


async def choose_location(request: Request) -> Response:
    """Remember the location the member picked, then back to the page they picked it on."""
    member = require_member(request)
    form = await checked_form(request)
    mark_stale(request)
    state = app_state(request)
    locations = await state.perkville.locations(member.caller, state.settings.business_id)
    chosen = parse_id(form.get("loc_id", ""))
    if chosen is not None and chosen in {loc.location_id for loc in locations}:
        request.session[LOCATION] = chosen
    # Only the path: a `?loc_id=` left in the address would outrank the choice just saved.
    back = safe_next(form.get("next"))
    path = urlsplit(back).path if back else request.url_for("rewards").path
    return RedirectResponse(path, status_code=303)


routes = [Route("/location", choose_location, methods=["POST"], name="choose_location")]
