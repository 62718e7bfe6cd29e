"""Point history: the member's transactions, newest first, a page at a time."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..i18n import _, ngettext, number, pgettext, points
from ..perkville.program import Transaction
from ..state import app_state
from ..web.templating import render
from .common import require_member
from .latest import latest_activity

PAGE_SIZE = 20
MAX_OFFSET = 100_000
KINDS = {"all": None, "earned": "EARN", "redeemed": "REDEEM"}


@dataclass(frozen=True, slots=True)
class Filters:
    kind: str = "all"
    since: date | None = None
    until: date | None = None
    offset: int = 0

    def query(self, **changes: object) -> str:
        values = {
            "kind": self.kind,
            "from": self.since,
            "to": self.until,
            "offset": self.offset,
            **changes,
        }
        parts = [f"{k}={v}" for k, v in values.items() if v not in (None, "", "all", 0)]
        return "?" + "&".join(parts) if parts else ""


def parse_filters(request: Request) -> tuple[Filters, list[str]]:
    """Read and check the query; bad values are named and replaced by defaults."""
    params = request.query_params
    problems: list[str] = []
    kind = params.get("kind", "all")
    if kind not in KINDS:
        problems.append(_("Show: choose all, earned or redeemed."))
        kind = "all"

    def day(name: str, label: str) -> date | None:
        raw = params.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            example = "2026-11-01"  # the form's own date format (ISO 8601), in any language
            problems.append(
                _("%(field)s: use a date like %(example)s.") % {"field": label, "example": example}
            )
            return None

    since = day("from", pgettext("date range", "From"))
    until = day("to", pgettext("date range", "To"))
    if since and until and since > until:
        problems.append(_("The start date is after the end date."))
        since = until = None
    raw_offset = params.get("offset", "0")
    # ASCII digits only, and few: `isdigit()` also takes "²", and int() of 5,000 digits fails.
    valid = re.fullmatch(r"[0-9]{1,7}", raw_offset) is not None
    offset = int(raw_offset) if valid and int(raw_offset) <= MAX_OFFSET else -1
    if offset < 0:
        problems.append(_("That page number is out of range."))
        offset = 0
    return Filters(kind, since, until, offset), problems


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the history as the member reads it."""

    txn: Transaction
    when: datetime | None  # in the program's time zone
    points: str | None  # "+120", "−300"; None when the line moves no points (an activity)
    moved: int  # how many points the line moves, unsigned (for "points" after the number)
    detail: str | None  # "49 × 1 point", "2 logged · no points"
    earned: bool
    voided: bool


def line_of(txn: Transaction, zone: ZoneInfo) -> Line:
    """Points as points, signed; a 0-point activity as what it is, with how many were logged
    (reference, Transaction: the total is points × quantity; Perkville's point history guide
    shows 0-point perks by their quantity)."""
    earned = txn.classification != "REDEEM"
    when = txn.when.astimezone(zone) if txn.when else None
    voided = txn.status == "VOID"
    if txn.points == 0:
        if not earned:
            activity = _("No points spent")
        elif txn.quantity != 1:
            activity = ngettext(
                "%(num)s logged · no points", "%(num)s logged · no points", abs(txn.quantity)
            ) % {"num": number(txn.quantity)}
        else:
            activity = _("Activity · no points")
        return Line(txn, when, None, 0, activity, earned, voided)
    moved = abs(txn.points * txn.quantity)
    change = f"{'+' if earned else '−'}{number(moved)}"
    each = (
        _("%(count)s × %(points)s") % {"count": number(txn.quantity), "points": points(txn.points)}
        if txn.quantity > 1
        else None
    )
    return Line(txn, when, change, moved, each, earned, voided)


async def history(request: Request) -> Response:
    """Show the member's point history, filtered and paged."""
    member = require_member(request)
    state = app_state(request)
    settings, perkville = state.settings, state.perkville
    filters, problems = parse_filters(request)
    zone = ZoneInfo(settings.timezone)

    def edge(d: date | None, end: bool) -> str | None:
        if d is None:
            return None
        moment = datetime.combine(d, time.max if end else time.min, zone)
        return moment.isoformat(timespec="seconds")

    business, page = await asyncio.gather(
        perkville.business(member.caller, settings.business_id),
        perkville.transactions(
            member.caller,
            settings.business_id,
            offset=filters.offset,
            limit=PAGE_SIZE,
            classification=KINDS[filters.kind],
            since=edge(filters.since, end=False),
            until=edge(filters.until, end=True),
        ),
    )
    unfiltered = (
        filters.offset == 0 and filters.kind == "all" and not (filters.since or filters.until)
    )
    now = datetime.fromtimestamp(state.clock(), UTC)
    latest = latest_activity(page.items, now, zone) if unfiltered else None
    # VOID_REF rows only undo a voided row, which is shown struck through instead.
    lines = [line_of(t, zone) for t in page.items if t.status != "VOID_REF"]
    return render(
        request,
        "history/index.html",
        {
            "tab": "more",
            "lines": lines,
            "latest": latest,
            "page": page,
            "filters": filters,
            "problems": problems,
            "newer_query": (
                filters.query(offset=max(filters.offset - PAGE_SIZE, 0))
                if filters.offset > 0
                else None
            ),
            # Older lines follow where this page ends (Perkville may page by fewer).
            "older_query": (
                filters.query(offset=page.next_offset)
                if page.has_more and page.items and page.next_offset <= MAX_OFFSET
                else None
            ),
        },
        status_code=400 if problems else 200,
        business=business,
    )


routes = [Route("/history", history, name="history")]
