"""An unexpected error still answers like every other page: the friendly 500 page, with the
security headers and the request id.

Starlette gives an app's 500 (and `Exception`) handler to its outermost middleware, outside
the security headers and the request id. This middleware sits inside them and answers for the
app instead; Starlette's own handler stays the last resort should this one fail.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .exceptions import WatchedSend, server_error


class ServerErrorPageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watched = WatchedSend(send)
        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if watched.started:  # half an answer is out: nothing better to send than closing it
                raise
            response = await server_error(Request(scope, receive), exc)
            await response(scope, receive, send)
