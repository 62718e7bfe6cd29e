"""Sign in with Perkville (authorization code + PKCE, S256) and sign out.

Authlib does the OAuth dance and nothing else; who the member is comes from the Perkville
client. Every way the callback can fail ends on a friendly page with "Try again".
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlencode, urlsplit

import httpx2
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from . import ratelimit
from .challenges import TRACKED_KEY, tracked_at_sign_in
from .perkville import PerkvilleError
from .security import csrf_valid, safe_next
from .session import PENDING, start_member_session
from .settings import Settings
from .templating import render

log = logging.getLogger(__name__)

_RETRIED = "signin_retried"
_NEXT = "after_signin"


def make_oauth(settings: Settings, transport: httpx2.AsyncBaseTransport | None) -> OAuth:
    """Register Perkville once. No client secret: the PKCE mobile grant has none."""
    oauth = OAuth()
    client_kwargs: dict[str, object] = {
        "scope": " ".join(settings.scopes),
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": ("client_secret_basic" if settings.client_secret else "none"),
        "timeout": settings.upstream_timeout_seconds,
    }
    if transport is not None:
        client_kwargs["transport"] = transport
    oauth.register(
        "perkville",
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        authorize_url=f"{settings.signin_url}/api/authorize/",
        access_token_url=f"{settings.signin_url}/api/token/",
        client_kwargs=client_kwargs,
    )
    return oauth


def _problem(request: Request, title: str, message: str, status: int) -> Response:
    return render(
        request,
        "auth/problem.html",
        {"title": title, "message": message},
        status_code=status,
    )


async def signin(request: Request) -> Response:
    """Send the member to Perkville to sign in and allow this app."""
    settings: Settings = request.app.state.settings
    if settings.identify and request.query_params.get("pkce") != "1":
        # Identify first: a member signed in at Perkville sees their points with no prompt.
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{request.url_for('signin_identify').path}{query}")
    if request.url.netloc != urlsplit(settings.public_url).netloc:
        # The callback goes to the configured public URL; a sign-in started on another host
        # name (localhost vs 127.0.0.1) would leave its state in a cookie the callback never
        # sees. Move to the public URL first.
        return RedirectResponse(f"{settings.public_url}{request.url.path}?{request.url.query}")
    await ratelimit.check(request, "signin")
    after = safe_next(request.query_params.get("next"))
    if after:
        request.session[_NEXT] = after
    extra: dict[str, str] = {}
    if settings.kiosk:
        # The previous member may still be signed in at Perkville (tech-anchors C.5).
        extra["prompt"] = "login"
    register_at = request.query_params.get("register_at")
    if register_at in settings.register_at_urls:  # exactly a listed URL (research §15)
        extra["register_at"] = register_at
    return await request.app.state.oauth.perkville.authorize_redirect(  # type: ignore[no-any-return]
        request, settings.redirect_uri, **extra
    )


async def callback(request: Request) -> Response:
    """Perkville sends the member back here with a code (or an error)."""
    oauth = request.app.state.oauth
    try:
        token = await oauth.perkville.authorize_access_token(request)
    except MismatchingStateError:
        # Authlib keeps one pending sign-in per browser: a second tab or a back-button retry
        # replaced this one's state. Restart once; Perkville remembers the member's consent,
        # so the restart is usually invisible.
        if not request.session.pop(_RETRIED, False):
            request.session[_RETRIED] = True
            log.info("sign-in callback with unknown state; restarting sign-in once")
            restart = str(request.url_for("signin"))
            if request.app.state.settings.identify:
                restart += "?pkce=1"  # the PKCE sign-in again, not the identify flow
            return RedirectResponse(restart, status_code=303)
        log.info("sign-in callback with unknown state after a restart; giving up")
        return _problem(
            request,
            "Your sign-in expired",
            "It took too long or was started again in another tab. Please try again.",
            400,
        )
    except OAuthError as exc:
        log.info("sign-in callback refused: %s", exc.error)
        if exc.error == "access_denied":
            return _problem(
                request,
                "You didn't allow access",
                "To see your points and rewards here, allow this app on Perkville's page.",
                400,
            )
        return _problem(
            request,
            "We couldn't sign you in",
            "Perkville did not accept the sign-in. Please try again.",
            400,
        )
    except httpx2.HTTPError as exc:
        log.warning("sign-in token exchange failed: %s", type(exc).__name__)
        return _problem(
            request,
            "Perkville isn't answering",
            "We couldn't reach Perkville to finish signing you in. Please try again shortly.",
            502,
        )

    access_token = token.get("access_token") if isinstance(token, dict) else None
    if not isinstance(access_token, str) or not access_token:
        log.warning("sign-in token response had no access_token")
        return _problem(request, "We couldn't sign you in", "Please try again.", 502)
    try:
        # The member's challenges come along (one round trip), for their first page.
        user, tracked = await asyncio.gather(
            request.app.state.perkville.me(access_token),
            tracked_at_sign_in(request, access_token),
        )
    except PerkvilleError as exc:
        log.warning("sign-in: fetching the member failed: %s", type(exc).__name__)
        return _problem(
            request,
            "We couldn't load your account",
            "Perkville signed you in but did not share your account details. Please try again.",
            502,
        )

    after = safe_next(request.session.get(_NEXT)) or request.url_for("home").path
    embed = request.session.get("embed")
    # An identified member's action waits for this sign-in (stepup.py); it survives the
    # session's rotation, and only for the member who started it.
    pending = request.session.get(PENDING)
    if request.session.get("uid") != user.user_id:
        pending = None
    start_member_session(
        request,
        user_id=user.user_id,
        first_name=user.first_name,
        token=access_token,
        now=request.app.state.clock(),
    )
    if embed:
        request.session["embed"] = True
    if tracked is not None:
        request.session[TRACKED_KEY] = tracked
    if pending is not None:
        request.session[PENDING] = pending
    log.info("member %s signed in", user.user_id)
    return RedirectResponse(after, status_code=303)


async def signout(request: Request) -> Response:
    """End the member's session in this app (a POST with the form's CSRF token)."""
    form = await request.form()
    if not csrf_valid(request, form.get("csrf")) and isinstance(request.session.get("uid"), int):
        return _problem(
            request,
            "Please try that again",
            "This page was open too long. Reload it and sign out again.",
            403,
        )
    settings: Settings = request.app.state.settings
    embed = request.session.get("embed")
    request.session.clear()
    landing = f"{request.url_for('home').path}?signed_out=1"
    if not settings.kiosk:
        if embed:
            request.session["embed"] = True
        return RedirectResponse(landing, status_code=303)
    # A kiosk forgets the member everywhere: this browser's copy of our pages and cookies,
    # and (through its sign-out page) the sign-in at Perkville too.
    if settings.perkville_logout_url:
        back = urlencode({"next": f"{settings.public_url}{landing}"})
        landing = f"{settings.perkville_logout_url}?{back}"
    response = RedirectResponse(landing, status_code=303)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response


async def keepalive(request: Request) -> Response:
    """A kiosk member who taps the screen stays signed in (the page pings this)."""
    return Response(status_code=204)


routes = [
    Route("/signin", signin, name="signin"),
    Route("/auth/callback", callback, name="auth_callback"),
    Route("/signout", signout, methods=["POST"], name="signout"),
    Route("/keepalive", keepalive, name="keepalive"),
]
