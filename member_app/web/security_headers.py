"""Defaults that keep members safe: security headers, CSRF tokens, local-only redirects."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .settings import Settings


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Every form of the app is a few fields (a referral note is the largest, 500 characters).
MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413 before the app parses them: by the
    declared Content-Length at once, or while reading a body sent without one (chunked)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        from .errors import error_page  # errors (through templating) imports this module

        response = error_page(
            Request(scope, receive),
            "That was too much to send",
            "Nothing was changed. Please go back and try again with less.",
            413,
            retry=False,
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


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


def csrf_token(request: Request) -> str:
    """The session's CSRF token for forms (created on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def csrf_valid(request: Request, submitted: object) -> bool:
    expected = request.session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        # As bytes: `compare_digest` raises TypeError for a str with non-ASCII characters,
        # which a forged form can send.
        and hmac.compare_digest(expected.encode(), submitted.encode())
    )


def safe_next(value: object) -> str | None:
    """A path on this site to go to after sign-in, or None. Never another origin."""
    if not isinstance(value, str) or len(value) > 512:
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in value):
        return None
    return value
