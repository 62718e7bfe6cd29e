"""The "More" tab: the rest of the app, and signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..web.templating import render
from .common import require_member


async def more(request: Request) -> Response:
    """Links to history and the other pages, and the sign-out button."""
    require_member(request)
    return render(request, "more/index.html", {"tab": "more"})


routes = [Route("/more", more, name="more")]
