"""The "More" tab: the rest of the app (challenges, referrals, history, profile, help), the
member's choice of language, and signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..state import app_state
from ..web.language import cookie_name
from ..web.templating import render
from .common import require_member


async def more(request: Request) -> Response:
    """Links to the other pages, the language picker, who is signed in, and the sign-out button
    ("Done" on a kiosk)."""
    member = require_member(request)
    state = app_state(request)
    # The picker shows the member's own choice; without one, "Automatic" (the browser's).
    chosen = request.cookies.get(cookie_name(state.settings))
    context = {
        "tab": "more",
        "first_name": member.first_name,
        "chosen_language": state.languages.exact(chosen) if chosen else None,
    }
    return render(request, "more/index.html", context)


routes = [Route("/more", more, name="more")]
