"""What every member page needs: the signed-in member, and where to send everyone else."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request

from .perkville import Connection
from .security import csrf_valid
from .session import Member, current_member


class SignInRequired(Exception):
    """Raised by a page that needs a member; the handler sends them to sign in and back."""

    def __init__(self, return_to: str) -> None:
        super().__init__(return_to)
        self.return_to = return_to


class FormExpired(Exception):
    """A state-changing form arrived without this session's CSRF token."""


class NotJoined(Exception):
    """Raised by a page that needs a member who has joined the program; the handler sends
    them to the join page (research notes §21.9)."""


def require_member(request: Request) -> Member:
    member = current_member(request)
    if member is None:
        path = request.url.path
        if request.method != "GET":
            # After sign-in the member lands on the page the form came from, not on a POST.
            path = path.rsplit("/", 1)[0] if path.count("/") > 1 else path
        query = f"?{request.url.query}" if request.url.query and request.method == "GET" else ""
        raise SignInRequired(path + query)
    return member


def require_joined(connection: Connection | None) -> Connection:
    """The member's connection, if they have joined; everyone else goes to the join page."""
    if connection is None or not connection.joined:
        raise NotJoined
    return connection


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form, after the CSRF check every state-changing request passes."""
    form = await request.form()
    if not csrf_valid(request, form.get("csrf")):
        raise FormExpired
    return {key: value for key, value in form.items() if isinstance(value, str)}


_ID = re.compile(r"^[0-9]{1,18}$")


def path_id(request: Request, name: str) -> int | None:
    """A numeric id from the URL, or None when it is not one (the page answers 404)."""
    raw = str(request.path_params.get(name, ""))
    return int(raw) if _ID.match(raw) else None


def today(request: Request) -> date:
    settings = request.app.state.settings
    now = datetime.fromtimestamp(request.app.state.clock(), ZoneInfo(settings.timezone))
    return now.date()
