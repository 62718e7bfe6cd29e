"""Strict security headers on every answer: CSP with no inline script, no caching of member
pages, and the rest of the usual set."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class SecurityHeadersMiddleware:
    """Strict CSP (no inline script or style), no caching of member pages, and friends."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        upstream = " ".join(sorted({_origin(settings.api_url), _origin(settings.signin_url)}))
        # A kiosk's "Done" form is answered with a redirect through Perkville's sign-out page,
        # and Chromium applies form-action to a form's redirects too.
        form_action = "'self'"
        if settings.kiosk and settings.perkville_logout_url:
            form_action += f" {_origin(settings.perkville_logout_url)}"
        if settings.identify:
            # An identified member's action is answered with the step-up to Perkville's sign-in
            # page (stepup.py): the same rule applies to that redirect.
            form_action += f" {_origin(settings.signin_url)}"
        frame_ancestors = " ".join(settings.frame_ancestors) or "'none'"
        self.headers = {
            "Content-Security-Policy": (
                "default-src 'self'; "
                f"img-src 'self' data: {upstream}; "
                "style-src 'self'; script-src 'self'; object-src 'none'; "
                f"base-uri 'none'; form-action {form_action}; "
                f"frame-ancestors {frame_ancestors}"
            ),
            "X-Content-Type-Options": "nosniff",
            # The callback URL carries a code and state: never send it on as a referrer.
            "Referrer-Policy": "no-referrer",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
        if not settings.frame_ancestors:
            # For webviews too old for CSP's frame-ancestors.
            self.headers["X-Frame-Options"] = "DENY"
        if settings.public_url.startswith("https://"):
            self.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].startswith("/static/")
        # `static_url()` adds the content hash as ?v=: that exact URL never changes content.
        fingerprinted = is_static and b"v=" in scope.get("query_string", b"")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if fingerprinted and message["status"] == 200:
                    headers["Cache-Control"] = "public, max-age=31536000, immutable"
                elif not is_static:
                    # Member pages must not be kept by the browser or any proxy; the few
                    # shared resources (brand.css) say otherwise explicitly.
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
