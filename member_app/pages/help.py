"""Help: how points, levels and vouchers work, and "Where are my points?", in general words
that hold for any business (the answers follow Perkville's end-customer FAQs)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..state import app_state
from ..web.templating import render
from .common import require_member


async def help_page(request: Request) -> Response:
    """Answer the questions members ask at the front desk, with the program's own levels."""
    member = require_member(request)
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    business, levels = await asyncio.gather(
        perkville.business(member.caller, business_id),
        perkville.levels(member.caller, business_id),
    )
    return render(request, "more/help.html", {"tab": "more", "levels": levels}, business=business)


routes = [Route("/help", help_page, name="help")]
