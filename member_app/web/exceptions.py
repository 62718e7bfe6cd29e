"""Every failure a view can raise, and the one map of handlers that turns each into a page a
member can act on (never a stack trace).

    Exception
    ├── SignInRequired        → 303 to /signin?next=<this page>
    ├── StepUpRequired        → the action is kept; 303 to the PKCE sign-in started for it
    ├── FormExpired           → 403 "Please try that again" (no CSRF token of this session)
    ├── NotJoined             → 303 to /join
    ├── BadRequest            → 400 with what to fix
    ├── RateLimited           → 429 with Retry-After (ratelimit.py)
    ├── PerkvilleError        (perkville/errors.py)
    │   ├── PerkvilleAuthError    → signed out, then 303 to sign in and back
    │   ├── PerkvilleUnavailable  → 503/502 "We can't reach your rewards right now"
    │   └── any other             → 502 "We couldn't load this page"
    ├── HTTPException         → 404/405/... as a page
    └── anything else         → 500 "Something went wrong on our side", with the security
                                headers and request id like every other answer
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import Message, Send

from ..i18n import _, ngettext, number
from ..perkville import PerkvilleAuthError, PerkvilleError, PerkvilleUnavailable
from ..ratelimit import RateLimited
from ..state import app_state
from .redirects import safe_next
from .session import end_session, keep_pending
from .templating import render

log = logging.getLogger(__name__)


class SignInRequired(Exception):
    """A page needs a member; the handler sends them to sign in and back to `return_to`."""

    def __init__(self, return_to: str) -> None:
        super().__init__(return_to)
        self.return_to = return_to


class StepUpRequired(Exception):
    """An identified (read-only) member started an action: sign in with PKCE first, then
    carry on with it (signin/stepup.py)."""

    def __init__(self, path: str, form: str) -> None:
        super().__init__(path)
        self.path = path
        self.form = form  # urlencoded, without the CSRF token


class FormExpired(Exception):
    """A state-changing form arrived without this session's CSRF token."""


class NotJoined(Exception):
    """A page needs a member who has joined the program; the handler sends them to join."""


class BadRequest(Exception):
    """Input the app can't use: the page says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def error_page(
    request: Request, title: str, message: str, status: int, *, retry: bool = True
) -> Response:
    context = {
        "title": title,
        "message": message,
        # Retrying only helps when the failure was passing (upstream, server), not for a
        # page that does not exist. Only a local path: `//other.site/x` is no link to offer.
        "retry_url": safe_next(request.url.path) if retry and request.method == "GET" else None,
    }
    return render(request, "error.html", context, status_code=status)


async def sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = f"{request.url_for('signin').path}?{urlencode({'next': exc.return_to})}"
    return RedirectResponse(target, status_code=303)


def form_page(path: str) -> str:
    """The page an action's form was on (`/rewards/7/redeem` → `/rewards/7`): where to land
    after signing in rather than on a POST-only address."""
    return path.rsplit("/", 1)[0] if path.count("/") > 1 else path


async def step_up(request: Request, exc: Exception) -> Response:
    """Keep the member's action for the PKCE sign-in started for it, and start that sign-in.
    Only a sign-in carrying the ticket can lead back to the action (signin/stepup.py)."""
    assert isinstance(exc, StepUpRequired)
    ticket = keep_pending(request, exc.path, exc.form, app_state(request).clock())
    query = {"pkce": "1"}
    if ticket is None:
        log.info("step-up for %s without keeping the form", exc.path)
        query["next"] = form_page(exc.path)
    else:
        query["ticket"] = ticket
    return RedirectResponse(f"{request.url_for('signin').path}?{urlencode(query)}", 303)


async def form_expired(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        _("Please try that again"),
        _("This page was open too long or in another window. Nothing was changed."),
        403,
        retry=False,
    )


async def not_joined(request: Request, exc: Exception) -> Response:
    return RedirectResponse(request.url_for("join").path, status_code=303)


async def bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return error_page(request, _("That didn't work"), exc.message, 400, retry=False)


async def rate_limited(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RateLimited)
    if exc.retry_after <= 60:
        message = _(
            "That was tried many times in a short while. Please try again in a minute. "
            "Nothing was changed."
        )
    else:
        minutes = math.ceil(exc.retry_after / 60)
        message = ngettext(
            "That was tried many times in a short while. Please try again in %(num)s minute. "
            "Nothing was changed.",
            "That was tried many times in a short while. Please try again in %(num)s minutes. "
            "Nothing was changed.",
            minutes,
        ) % {"num": number(minutes)}
    response = error_page(request, _("Please wait a moment"), message, 429, retry=False)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def perkville_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PerkvilleError)
    if isinstance(exc, PerkvilleAuthError):
        # The token was revoked or replaced: sign in again, then come back here.
        log.info("upstream rejected the member's token; asking them to sign in again")
        await end_session(request)
        return await sign_in_required(request, SignInRequired(request.url.path))
    if isinstance(exc, PerkvilleUnavailable):
        log.warning("perkville unavailable: %s", exc.message)
        return error_page(
            request,
            _("We can't reach your rewards right now"),
            _("Your points and rewards are safe. Please try again in a moment."),
            503 if exc.status in {None, 503} else 502,
        )
    log.warning("perkville error %s %s %s", exc.status, exc.error_type, ",".join(exc.codes))
    return error_page(
        request,
        _("We couldn't load this page"),
        _("We didn't get what this page needs from your rewards program. Please try again."),
        502,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_page(
            request,
            _("Page not found"),
            _("There is nothing at this address: the link may be old or mistyped."),
            404,
            retry=False,
        )
    if exc.status_code == 405:
        return error_page(
            request, _("That didn't work"), _("This page can't be used that way."), 405
        )
    # The detail is the code's own (English) words, or the status's HTTP phrase.
    return error_page(request, _("That didn't work"), str(exc.detail), exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return error_page(
        request,
        _("Something went wrong on our side"),
        _("It isn't you. Please try again; if it keeps happening, let the front desk know."),
        500,
    )


Handler = Callable[[Request, Exception], Awaitable[Response]]


class WatchedSend:
    """An ASGI `send` that remembers whether the answer has started: until then a middleware
    may still answer in the app's place."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


exception_handlers: dict[Any, Handler] = {
    SignInRequired: sign_in_required,
    StepUpRequired: step_up,
    FormExpired: form_expired,
    NotJoined: not_joined,
    BadRequest: bad_request,
    RateLimited: rate_limited,
    PerkvilleError: perkville_error,
    HTTPException: http_error,
    # The last resort: the app's own 500 page comes from web/server_errors.py, inside the
    # security headers and the request id.
    500: server_error,
}
