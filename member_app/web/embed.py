"""Inside a gym's app: `?embed=1` on any page is remembered for the visit."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from .session import EMBED


class EmbedMiddleware:
    """Remembers `?embed=1` in the session, so the pages drop their own header for the rest
    of the visit (the gym's app draws its own). Sits inside `SessionMiddleware`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and b"embed=1" in scope.get("query_string", b""):
            session = scope["session"]
            query = scope["query_string"].decode("latin-1").split("&")
            if "embed=1" in query and not session.get(EMBED):
                session[EMBED] = True
        await self.app(scope, receive, send)
