"""Starlette's signed-cookie session, kept off the answers that must not carry a cookie."""

from __future__ import annotations

from starlette.middleware.sessions import SessionMiddleware
from starlette.types import Receive, Scope, Send

# Static files (shared and cached for a year) and the operators' probes: no member's cookie.
SESSIONLESS_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics", "/brand.css", "/icons/")


class CookieSessionMiddleware(SessionMiddleware):
    """`SessionMiddleware`, except that the paths above get an empty session and send no
    Set-Cookie: a cached static answer must never hold, or refresh, someone's session."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(SESSIONLESS_PREFIXES):
            scope["session"] = {}
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
