"""Idle and absolute session limits and sign-out, enforced on the server whatever the cookie
says."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..state import Clock, app_state
from .language import choice_cookie
from .session import ISSUED, SEEN, SID
from .session_records import SessionRecords

# The last-seen time is rewritten at most this often, so most read-only requests send no
# Set-Cookie and write no record (a cookie rewritten on every request would let two parallel
# requests overwrite each other's changes more often).
SEEN_RESOLUTION_SECONDS = 60
# Requests that are not the member's doing: the live stream of an open page (live/), and the
# refresh a live update makes of the page's parts (header `X-Live-Refresh`). They end a
# session that is over like any request, but never count as activity: a kiosk left on the
# member's home page signs out after its idle minute whatever points arrive, and a tab left
# open does not keep a session alive forever.
PASSIVE_PATH = "/live"
PASSIVE_HEADER = b"x-live-refresh"


def _over(
    session: Mapping[str, Any], recorded: float | None, now: float, idle: int, absolute: int
) -> bool:
    iat = session.get(ISSUED)
    seen = recorded if recorded is not None else session.get(SEEN, iat)
    if not isinstance(iat, int) or not isinstance(seen, int | float):
        return True
    return now - iat > absolute or now - seen > idle


async def still_signed_in(
    records: SessionRecords,
    session: Mapping[str, Any],
    *,
    now: float,
    idle: int,
    absolute: int,
) -> bool:
    """Whether the session a long answer began with (the live stream) still lives: not signed
    out, idle or too old, as the middleware below would judge it. Only reads: watching a page
    is not activity."""
    sid = session.get(SID)
    if not isinstance(sid, str):
        return False
    ended, recorded = await records.check(sid)
    return not ended and not _over(session, recorded, now, idle, absolute)


def _passive(scope: Scope) -> bool:
    path: str = scope["path"]
    if path == PASSIVE_PATH or path.startswith(PASSIVE_PATH + "/"):
        return True
    return any(name == PASSIVE_HEADER for name, _ in scope.get("headers", ()))


class SessionTimeoutMiddleware:
    """Ends sessions that were signed out, idle too long, or older than the absolute limit.

    The idle time counts from the member's last request as the server recorded it
    (`SessionRecords`), so a copy of an old cookie gains nothing by its own `seen`. A session
    ended here is recorded as ended: no copy of its cookie works again.

    Sits inside `SessionMiddleware`. Sets `request.state.session_expired` when it ended one, so
    the page can say why the member is signed out. On a kiosk that answer also forgets the
    language the member chose: the next person starts in the default one.
    """

    def __init__(
        self, app: ASGIApp, *, idle: int, absolute: int, clock: Clock, records: SessionRecords
    ) -> None:
        self.app = app
        self.idle = idle
        self.absolute = absolute
        self.clock = clock
        self.records = records
        # A kiosk's minute-long idle limit needs `seen` kept fresher than once a minute.
        self.resolution = min(SEEN_RESOLUTION_SECONDS, max(1, idle // 4))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not await self._check(scope):
            await self.app(scope, receive, send)
            return
        settings = app_state(HTTPConnection(scope)).settings
        if not settings.kiosk:
            await self.app(scope, receive, send)
            return

        async def send_forgetting(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("Set-Cookie", choice_cookie(settings, None))
            await send(message)

        await self.app(scope, receive, send_forgetting)

    async def _check(self, scope: Scope) -> bool:
        """End the session if it is over; whether it was ended by its time limits."""
        session: dict[str, Any] = scope["session"]
        iat, sid = session.get(ISSUED), session.get(SID)
        if not isinstance(iat, int) or not isinstance(sid, str):
            return False
        ended, recorded = await self.records.check(sid)
        if ended:
            session.clear()
            return False
        now = self.clock()
        seen = recorded if recorded is not None else session.get(SEEN, iat)
        if _over(session, recorded, now, self.idle, self.absolute):
            session.clear()
            scope.setdefault("state", {})["session_expired"] = True
            await self.records.end(sid)
            return True
        if not _passive(scope) and (now - seen >= self.resolution or recorded is None):
            session[SEEN] = int(now)
            await self.records.touch(sid, now)
        return False
