"""Idle and absolute session limits and sign-out, enforced on the server whatever the cookie
says."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..state import Clock
from .session import ISSUED, SEEN, SID
from .session_records import SessionRecords

# The last-seen time is rewritten at most this often, so most read-only requests send no
# Set-Cookie and write no record (a cookie rewritten on every request would let two parallel
# requests overwrite each other's changes more often).
SEEN_RESOLUTION_SECONDS = 60


class SessionTimeoutMiddleware:
    """Ends sessions that were signed out, idle too long, or older than the absolute limit.

    The idle time counts from the member's last request as the server recorded it
    (`SessionRecords`), so a copy of an old cookie gains nothing by its own `seen`. A session
    ended here is recorded as ended: no copy of its cookie works again.

    Sits inside `SessionMiddleware`. Sets `request.state.session_expired` when it ended one, so
    the page can say why the member is signed out.
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
        if scope["type"] == "http":
            await self._check(scope)
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope) -> None:
        session: dict[str, Any] = scope["session"]
        iat, sid = session.get(ISSUED), session.get(SID)
        if not isinstance(iat, int) or not isinstance(sid, str):
            return
        ended, recorded = await self.records.check(sid)
        if ended:
            session.clear()
            return
        now = self.clock()
        seen = recorded if recorded is not None else session.get(SEEN, iat)
        if now - iat > self.absolute or now - seen > self.idle:
            session.clear()
            scope.setdefault("state", {})["session_expired"] = True
            await self.records.end(sid)
        elif now - seen >= self.resolution or recorded is None:
            session[SEEN] = int(now)
            await self.records.touch(sid, now)
