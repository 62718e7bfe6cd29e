"""`GET /live`: the Server-Sent Events stream of an open page (static/live.js), and
`POST /live/fresh`, which a live update sends before the page refreshes its parts.

Why Server-Sent Events rather than each page polling us (with ETag/304): a page polling every
3 s is 333 requests a second for 1,000 open pages, each through the whole middleware stack
(session, session record, request log), and a change then waits up to a whole page interval
more; an open stream costs a heartbeat every 15 s and a little memory, and a change reaches the
page as soon as the poller finds it. EventSource reconnects by itself, works through the CSP
(`default-src 'self'`: same origin) and needs no library on either side; the format is a few
lines, written here rather than adding `sse-starlette`.

- Only the signed-in member's own changes: the hub hands a watcher only changes about its
  member (hub.py). Signed out: 401, and EventSource does not try again.
- Heartbeats (an SSE comment) every 15 s, so proxies keep the connection open; each heartbeat
  also checks the session (signed out elsewhere, idle, too old) and ends the stream with
  `event: end` when it is over. A kiosk's short idle limit is checked four times within it.
- Watching is not activity (web/session_timeout.py): the stream neither extends the session
  nor sets a cookie.
- At most 12 open streams per member per replica (429 beyond), so a copied cookie can't hold
  thousands of connections open.
- The stream ends after 30 minutes; the browser reconnects to any replica, so replicas stay
  balanced after a deploy.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from ..perkville import Caller
from ..state import app_state
from ..web.csrf import csrf_valid
from ..web.exceptions import FormExpired
from ..web.session import current_member, mark_stale, signed_in
from ..web.session_timeout import still_signed_in
from .hub import Watcher
from .service import LiveUpdates

HEARTBEAT_SECONDS = 15.0
MAX_STREAM_SECONDS = 30 * 60
RETRY_MS = 5000  # how soon the browser reconnects after the stream ends
# Open streams one member may hold on a replica: a family's phones and tabs fit; a copied
# cookie opening thousands (each a connection and a task) does not.
MAX_STREAMS_PER_MEMBER = 12

Alive = Callable[[], Awaitable[bool]]


class EventStream(StreamingResponse):
    """An open page's stream: the member's changes as `event: points`, heartbeats, and
    `event: end` once their session is over. Ends quietly when the browser goes away."""

    def __init__(
        self, live: LiveUpdates, user_id: int, caller: Caller, alive: Alive, check_every: float
    ) -> None:
        super().__init__(
            _nothing(),
            media_type="text/event-stream",
            # No proxy may buffer or keep it (nginx: X-Accel-Buffering).
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self._live = live
        self._user_id = user_id
        self._caller = caller
        self._alive = alive
        self._check_every = check_every

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self._live.watching(self._user_id, self._caller) as watcher:
            try:
                await send(
                    {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                )
                # Whichever ends first: the events (session over, time up) or the browser.
                async with anyio.create_task_group() as group:

                    async def until_gone() -> None:
                        await _disconnected(receive)
                        group.cancel_scope.cancel()

                    group.start_soon(until_gone)
                    await self._events(send, watcher)
                    group.cancel_scope.cancel()
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except OSError:  # the browser went away while we wrote
                return

    async def _events(self, send: Send, watcher: Watcher) -> None:
        async def write(text: str) -> None:
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

        await write(f"retry: {RETRY_MS}\n\n")
        ends = time.monotonic() + MAX_STREAM_SECONDS
        while time.monotonic() < ends:
            try:
                change = await asyncio.wait_for(watcher.next(), self._check_every)
            except TimeoutError:
                if not await self._alive():
                    await write("event: end\ndata: {}\n\n")
                    return
                await write(": keep-alive\n\n")
                continue
            if not await self._alive():  # never to a session that ended meanwhile
                await write("event: end\ndata: {}\n\n")
                return
            data = json.dumps(change.event(), separators=(",", ":"))
            await write(f"event: points\ndata: {data}\n\n")


async def _nothing() -> AsyncIterator[bytes]:  # the body is written by `__call__`
    yield b""


async def _disconnected(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return


async def live(request: Request) -> Response:
    """The signed-in member's live updates, while their page is open and visible."""
    state = app_state(request)
    if not state.live.enabled:
        return Response(status_code=204)  # EventSource stops on a 204
    member = current_member(request)
    if member is None:
        return PlainTextResponse("Sign in to see your points change live.", status_code=401)
    if state.live.hub.pages_of(member.user_id) >= MAX_STREAMS_PER_MEMBER:
        # 429 ends EventSource's retries; the page still shows the balance on its next load.
        return PlainTextResponse("Too many open pages.", status_code=429)
    if request.method == "HEAD":  # nothing to hold open for a request without a body
        return Response(status_code=200, media_type="text/event-stream")
    settings, clock, records = state.settings, state.clock, state.sessions
    session = dict(request.session)

    async def alive() -> bool:
        return await still_signed_in(
            records,
            session,
            now=clock(),
            idle=settings.idle_seconds,
            absolute=settings.max_seconds,
        )

    # The poller (without a staff token) asks with the member's token, never through this
    # request's cache scope or freshness record.
    caller = dataclasses.replace(member.caller, cache_scope=None, freshness=None)
    check_every = min(HEARTBEAT_SECONDS, settings.idle_seconds / 4)
    return EventStream(state.live, member.user_id, caller, alive, check_every)


async def fresh(request: Request) -> Response:
    """Perkville told us the member's points moved: the page's next request reads their data
    afresh instead of from the seconds-old cache (the same as after their own action). A
    form POST with the session's CSRF token, like every change to the session."""
    if not signed_in(request):
        return PlainTextResponse("Signed out.", status_code=401)
    form = await request.form()
    if not csrf_valid(request, form.get("csrf")):
        raise FormExpired
    mark_stale(request)
    return Response(status_code=204)


routes = [
    Route("/live", live, name="live"),
    Route("/live/fresh", fresh, methods=["POST"], name="live_fresh"),
]
