"""The "More" tab: the rest of the app, and signing out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .pages import require_member
from .templating import render


async def more(request: Request) -> Response:
    """Links to history and the other pages, and the sign-out button."""
    require_member(request)
    return render(request, "more/index.html", {"tab": "more"})


routes = [Route("/more", more, name="more")]
