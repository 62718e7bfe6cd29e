"""The "More" tab: the rest of the app (challenges, referrals, history, profile, help), and
signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..web.templating import render
from .common import require_member


async def more(request: Request) -> Response:
    """Links to the other pages, who is signed in, and the sign-out button ("Done" on a
    kiosk)."""
    member = require_member(request)
    return render(request, "more/index.html", {"tab": "more", "first_name": member.first_name})


routes = [Route("/more", more, name="more")]
