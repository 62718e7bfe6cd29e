"""One place that turns failures into pages a member can act on (never a stack trace)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .pages import FormExpired, NotJoined, SignInRequired, StepUpRequired
from .perkville import PerkvilleAuthError, PerkvilleError, PerkvilleUnavailable
from .stepup import step_up
from .templating import render

log = logging.getLogger(__name__)


def error_page(
    request: Request, title: str, message: str, status: int, *, retry: bool = True
) -> Response:
    context = {
        "title": title,
        "message": message,
        # Retrying only helps when the failure was passing (upstream, server), not for a
        # page that does not exist.
        "retry_url": request.url.path if retry and request.method == "GET" else None,
    }
    return render(request, "error.html", context, status_code=status)


async def perkville_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PerkvilleError)
    if isinstance(exc, PerkvilleAuthError):
        # The token was revoked or replaced: sign in again, then come back here.
        log.info("upstream rejected the member's token; asking them to sign in again")
        request.session.clear()
        return await sign_in_required(request, SignInRequired(request.url.path))
    if isinstance(exc, PerkvilleUnavailable):
        log.warning("perkville unavailable: %s", exc.message)
        return error_page(
            request,
            "Perkville isn't answering right now",
            "Your points and rewards are safe. Please try again in a moment.",
            503 if exc.status in {None, 503} else 502,
        )
    log.warning("perkville error %s %s %s", exc.status, exc.error_type, ",".join(exc.codes))
    return error_page(
        request,
        "We couldn't load this page",
        "Perkville did not give us what this page needs. Please try again.",
        502,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_page(request, "Page not found", "There is nothing at this address.", 404)
    if exc.status_code == 405:
        return error_page(request, "That didn't work", "This page can't be used that way.", 405)
    return error_page(request, "That didn't work", str(exc.detail), exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return error_page(
        request,
        "Something went wrong on our side",
        "It isn't you. Please try again; if it keeps happening, let the front desk know.",
        500,
    )


async def sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = f"{request.url_for('signin').path}?{urlencode({'next': exc.return_to})}"
    return RedirectResponse(target, status_code=303)


async def not_joined(request: Request, exc: Exception) -> Response:
    return RedirectResponse(request.url_for("join").path, status_code=303)


async def form_expired(request: Request, exc: Exception) -> Response:
    return error_page(
        request,
        "Please try that again",
        "This page was open too long or in another window. Nothing was changed.",
        403,
        retry=False,
    )


exception_handlers = {
    SignInRequired: sign_in_required,
    StepUpRequired: step_up,
    FormExpired: form_expired,
    NotJoined: not_joined,
    PerkvilleError: perkville_error,
    HTTPException: http_error,
    500: server_error,
}
