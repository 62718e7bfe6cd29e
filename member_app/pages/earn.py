"""How to earn points: the earning rules as Perkville returns them for this member."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..perkville.program import DateRangeBonus, EarningRule
from ..state import app_state
from ..web.templating import render
from .common import require_member, today
from .place import at_member_location

FREQUENCY_WINDOWS = {"WEEKLY": "this week", "MONTHLY": "this month"}


@dataclass(frozen=True, slots=True)
class RuleGroup:
    name: str | None
    rules: list[EarningRule]


def group_rules(rules: list[EarningRule]) -> list[RuleGroup]:
    """Group by category, keeping the server's order inside each group; categorised rules
    first, then the rest (reference, Earning Rules: category)."""
    groups: dict[str | None, list[EarningRule]] = {}
    for rule in rules:
        groups.setdefault(rule.category, []).append(rule)
    named = [RuleGroup(name, items) for name, items in groups.items() if name is not None]
    rest = [RuleGroup(None, groups[None])] if None in groups else []
    return named + rest


def live_bonuses(bonuses: tuple[DateRangeBonus, ...], on: date) -> list[DateRangeBonus]:
    """Date-range bonuses that are on now or still to come."""
    return [b for b in bonuses if b.to_date is None or b.to_date >= on]


async def earn(request: Request) -> Response:
    """Show the ways to earn points, with bonus windows and the member's progress."""
    member = require_member(request)
    state = app_state(request)
    business_id, perkville = state.settings.business_id, state.perkville
    business, (place, _, rules) = await asyncio.gather(
        perkville.business(member.caller, business_id),
        at_member_location(
            request,
            member,
            lambda loc_id: perkville.earning(member.caller, business_id, loc_id),
        ),
    )
    on = today(request)
    return render(
        request,
        "earn/index.html",
        {
            "tab": "earn",
            "groups": group_rules(rules),
            "on": on,
            "live_bonuses": lambda rule: live_bonuses(rule.date_range_bonuses, on),
            "windows": FREQUENCY_WINDOWS,
            "place": place,
        },
        business=business,
    )


routes = [Route("/earn", earn, name="earn")]
