"""Recognise a member already signed in at Perkville: the Identify User Flow.

Reference, "Identify Token": (1) the app's staff token asks for a single-use identify token
bound to our callback and a fresh state, (2) the member's browser visits the business's
`identify` page and comes back with a 30-second code and the state, (3) the staff token reads
the one user the code names. The member then browses read-only (`Member.identified`); any
action asks for the PKCE sign-in first (`stepup.py`). Every failure ends on one friendly page
that offers the PKCE sign-in instead.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..i18n import _
from ..pages.common import rate_limit
from ..perkville import Caller, PerkvilleError
from ..state import app_state
from ..web.redirects import safe_next
from ..web.session import (
    AFTER_SIGNIN,
    IDENTIFY_STATE,
    drop_pending,
    signed_in,
    start_identified_session,
)
from ..web.templating import render

log = logging.getLogger(__name__)


def _not_recognised(request: Request, message: str, status: int) -> Response:
    return render(request, "auth/not_recognised.html", {"message": message}, status_code=status)


def _pkce(request: Request) -> Response:
    query = {"pkce": "1", **({"next": n} if (n := request.query_params.get("next")) else {})}
    return RedirectResponse(f"{request.url_for('signin').path}?{urlencode(query)}")


async def signin_identify(request: Request) -> Response:
    """Ask Perkville who this member is: off to the business's identify page."""
    app = app_state(request)
    settings = app.settings
    if not settings.identify or not settings.admin_token:
        return _pkce(request)
    after = safe_next(request.query_params.get("next"))
    if signed_in(request):
        # Already signed in: a link from anywhere must not swap the session for another kind.
        return RedirectResponse(after or request.url_for("home").path, status_code=303)
    if request.url.netloc != urlsplit(settings.public_url).netloc:
        # The state lives in this host's cookie; the callback comes to the public URL.
        return RedirectResponse(f"{settings.public_url}{request.url.path}?{request.url.query}")
    # Each start costs a staff-token call to Perkville: limited per address like sign-in.
    await rate_limit(request, "signin", None)
    drop_pending(request)
    if after:
        request.session[AFTER_SIGNIN] = after
    state = secrets.token_urlsafe(24)
    request.session[IDENTIFY_STATE] = state
    staff = Caller(settings.admin_token)
    try:
        business = await app.perkville.business(staff, settings.business_id)
        token = await app.perkville.identify_token(
            staff,
            identify_url=f"{settings.signin_url}/api/identify/",
            redirect_uri=settings.identify_redirect_uri,
            state=state,
        )
    except PerkvilleError as exc:
        log.warning("identify: no identify token: %s %s", type(exc).__name__, exc.codes)
        return _not_recognised(request, _("Perkville didn't answer us just now."), 502)
    if not business.perkville_url:
        log.warning("identify: business %s has no perkville_url", settings.business_id)
        return _not_recognised(request, _("This program has no Perkville page to ask."), 502)
    base = business.perkville_url.rstrip("/") + "/"
    return RedirectResponse(f"{base}identify?{urlencode({'token': token})}", status_code=302)


async def identify_callback(request: Request) -> Response:
    """Perkville sends the member back with an identification code: who is it?"""
    app = app_state(request)
    settings = app.settings
    await rate_limit(request, "callback", None)
    expected = request.session.pop(IDENTIFY_STATE, None)  # single use, whatever happens next
    state = request.query_params.get("state", "")
    code = request.query_params.get("code", "")
    if (
        not settings.identify
        or not settings.admin_token
        or not isinstance(expected, str)
        or not secrets.compare_digest(expected.encode(), state.encode())
        or not code
    ):
        log.info("identify callback with a missing or unknown state")
        return _not_recognised(
            request, _("This link was already used or has expired. Sign in to continue."), 400
        )
    try:
        user = await app.perkville.user_by_code(Caller(settings.admin_token), code)
    except PerkvilleError as exc:
        log.warning("identify: code lookup failed: %s %s", type(exc).__name__, exc.codes)
        return _not_recognised(request, _("Perkville didn't answer us just now."), 502)
    if user is None:
        # Unknown, used or older than 30 seconds (reference, Step 3).
        log.info("identify: the code named nobody")
        return _not_recognised(
            request, _("This link was already used or has expired. Sign in to continue."), 400
        )
    after = safe_next(request.session.get(AFTER_SIGNIN)) or request.url_for("home").path
    await start_identified_session(
        request, user_id=user.user_id, first_name=user.first_name, now=app.clock()
    )
    log.info("member %s identified (read-only)", user.user_id)
    return RedirectResponse(after, status_code=303)


routes = [
    Route("/signin/identify", signin_identify, name="signin_identify"),
    Route("/auth/identify/callback", identify_callback, name="identify_callback"),
]
