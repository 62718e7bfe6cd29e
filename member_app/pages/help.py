"""Help: how points, levels and vouchers work, and "Where are my points?", in general words
that hold for any business (the answers follow Perkville's end-customer FAQs), with the
member's own latest activity explained (latest.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..state import app_state
from ..web.templating import render
from .common import require_member
from .latest import latest_activity

# The newest lines are enough to find the latest activity and the bonuses written with it.
LATEST_LINES = 10


async def help_page(request: Request) -> Response:
    """Answer the questions members ask at the front desk, with the program's own levels."""
    member = require_member(request)
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    business, levels, recent = await asyncio.gather(
        perkville.business(member.caller, business_id),
        perkville.levels(member.caller, business_id),
        perkville.transactions(member.caller, business_id, limit=LATEST_LINES),
    )
    now = datetime.fromtimestamp(state.clock(), UTC)
    latest = latest_activity(recent.items, now, ZoneInfo(state.settings.timezone))
    context = {"tab": "more", "levels": levels, "latest": latest}
    return render(request, "more/help.html", context, business=business)


routes = [Route("/help", help_page, name="help")]
