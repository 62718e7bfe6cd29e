"""What every member page needs: the signed-in member, the checked form, ids from the URL,
today's date, the rate limits, and plain words for Perkville's refusals."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request

from ..perkville import Connection, PerkvilleRequestError
from ..state import app_state
from ..web.csrf import csrf_valid
from ..web.exceptions import (
    FormExpired,
    NotJoined,
    SignInRequired,
    StepUpRequired,
    form_page,
)
from ..web.session import SID, Member, current_member

_ID = re.compile(r"^[0-9]{1,18}$")
# A voucher's id is typed "string" in the reference (the "Voucher Code"): digits or not.
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
T = TypeVar("T")


def require_member(request: Request) -> Member:
    member = current_member(request)
    if member is None:
        path = request.url.path
        if request.method != "GET":
            # After sign-in the member lands on the page the form came from, not on a POST.
            path = form_page(path)
        query = f"?{request.url.query}" if request.url.query and request.method == "GET" else ""
        raise SignInRequired(path + query)
    return member


def require_joined(connection: Connection | None) -> Connection:
    """The member's connection, if they have joined; everyone else goes to the join page."""
    if connection is None or not connection.joined:
        raise NotJoined
    return connection


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form, after the CSRF check every state-changing request passes. An
    identified (read-only) member is asked to sign in first, their action kept."""
    form = await request.form()
    if not csrf_valid(request, form.get("csrf")):
        raise FormExpired
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    member = current_member(request)
    if member is not None and member.identified:
        kept = urlencode({k: v for k, v in fields.items() if k != "csrf"})
        raise StepUpRequired(request.url.path, kept)
    return fields


def parse_id(raw: str) -> int | None:
    """A Perkville id (up to 18 digits), or None when `raw` is not one."""
    return int(raw) if _ID.match(raw) else None


def path_id(request: Request, name: str) -> int | None:
    """A numeric id from the URL, or None when it is not one (the page answers 404)."""
    return parse_id(str(request.path_params.get(name, "")))


def path_key(request: Request, name: str) -> str | None:
    """A record's key from the URL (a voucher's id, digits or not), or None when it is not one
    (the page answers 404)."""
    raw = str(request.path_params.get(name, ""))
    return raw if _KEY.match(raw) else None


def query_id(request: Request, name: str) -> int | None:
    """A numeric id from the query string, or None when absent or not one."""
    return parse_id(request.query_params.get(name, ""))


def today(request: Request) -> date:
    state = app_state(request)
    return datetime.fromtimestamp(state.clock(), ZoneInfo(state.settings.timezone)).date()


async def rate_limit(request: Request, action: str, member: Member | None) -> None:
    """Count one `action` against the limits of this address, session and member."""
    sid = request.session.get(SID)
    await app_state(request).rate_limits.check(
        action,
        address=request.client.host if request.client else "unknown",
        session_id=sid if isinstance(sid, str) else None,
        member_id=member.user_id if member else None,
    )


def refusal(exc: PerkvilleRequestError, messages: Mapping[str, T], fallback: T) -> T:
    """Perkville's refusal in the plain words of `messages` (by code), or `fallback`."""
    return next((messages[code] for code in exc.codes if code in messages), fallback)
