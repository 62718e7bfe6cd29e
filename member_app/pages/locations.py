"""The member's location choice: saved in the session, then used by the earn, rewards and
challenges pages (research notes §21.2)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .pages import LOCATION_KEY, checked_form, require_member
from .security import safe_next


async def choose_location(request: Request) -> Response:
    """Remember the location the member picked, then back to the page they picked it on."""
    member = require_member(request)
    form = await checked_form(request)
    settings = request.app.state.settings
    locations = await request.app.state.perkville.locations(member.token, settings.business_id)
    raw = form.get("loc_id", "")
    if re.fullmatch(r"[0-9]{1,18}", raw) and int(raw) in {loc.location_id for loc in locations}:
        request.session[LOCATION_KEY] = int(raw)
    # Only the path: a `?loc_id=` left in the address would outrank the choice just saved.
    back = safe_next(form.get("next"))
    path = urlsplit(back).path if back else request.url_for("rewards").path
    return RedirectResponse(path, status_code=303)


routes = [Route("/location", choose_location, methods=["POST"], name="choose_location")]
