"""Sign in with Perkville (authorization code + PKCE, S256) and sign out.

Authlib does the OAuth dance and nothing else; who the member is comes from the Perkville
client. Every way the callback can fail ends on a friendly page with "Try again".
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

import httpx2
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..i18n import _, current
from ..pages.challenges import tracked_at_sign_in
from ..pages.common import rate_limit
from ..perkville import Caller, PerkvilleError
from ..settings import Settings
from ..state import app_state
from ..web.csrf import csrf_valid
from ..web.language import forget_choice
from ..web.redirects import safe_next
from ..web.session import (
    AFTER_SIGNIN,
    SIGNIN_RETRIED,
    TRACKED,
    USER,
    bind_pending,
    drop_pending,
    end_session,
    prove_pending,
    signed_in,
    start_member_session,
)
from ..web.templating import render

log = logging.getLogger(__name__)


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


# Authlib keeps a pending sign-in's PKCE verifier in the session under this prefix and the
# OAuth state; the verifier is sealed there like the token (the cookie is only signed).
_AUTHLIB_STATE = "_state_perkville_"


def _seal_verifier(request: Request, oauth_state: str) -> None:
    entry = request.session.get(_AUTHLIB_STATE + oauth_state)
    if isinstance(entry, dict) and isinstance(entry.get("data"), dict):
        sealed = app_state(request).sealer.seal_json(entry["data"])
        request.session[_AUTHLIB_STATE + oauth_state] = {**entry, "data": sealed}


def _open_verifier(request: Request) -> None:
    """Unseal the returning sign-in's verifier for Authlib (a wrong key reads as expired)."""
    key = _AUTHLIB_STATE + request.query_params.get("state", "")
    entry = request.session.get(key)
    if isinstance(entry, dict) and isinstance(entry.get("data"), str):
        data = app_state(request).sealer.open_json(entry["data"])
        if isinstance(data, dict):
            request.session[key] = {**entry, "data": data}
        else:
            request.session.pop(key, None)


async def signin(request: Request) -> Response:
    """Send the member to Perkville to sign in and allow this app."""
    state = app_state(request)
    settings = state.settings
    if settings.identify and request.query_params.get("pkce") != "1":
        # Identify first: a member signed in at Perkville sees their points with no prompt.
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{request.url_for('signin_identify').path}{query}")
    if request.url.netloc != urlsplit(settings.public_url).netloc:
        # The callback goes to the configured public URL; a sign-in started on another host
        # name (localhost vs 127.0.0.1) would leave its state in a cookie the callback never
        # sees. Move to the public URL first.
        return RedirectResponse(f"{settings.public_url}{request.url.path}?{request.url.query}")
    await rate_limit(request, "signin", None)
    after = safe_next(request.query_params.get("next"))
    if after:
        request.session[AFTER_SIGNIN] = after
    # Perkville's pages in the member's language, if it speaks it (OpenID Connect's
    # parameter: ignored by a server that doesn't).
    extra: dict[str, str] = {"ui_locales": current().tag}
    if settings.kiosk:
        # The previous member may still be signed in at Perkville on this shared screen.
        extra["prompt"] = "login"
    register_at = request.query_params.get("register_at")
    if register_at in settings.register_at_urls:  # exactly a URL the business listed
        extra["register_at"] = register_at
    client = state.oauth.perkville
    started = await client.create_authorization_url(settings.redirect_uri, **extra)
    await client.save_authorize_data(request, redirect_uri=settings.redirect_uri, **started)
    _seal_verifier(request, started["state"])
    # A kept step-up action waits for this sign-in only if it carries the action's ticket.
    bind_pending(request, request.query_params.get("ticket"), started["state"], state.clock())
    return RedirectResponse(started["url"], status_code=302)


async def callback(request: Request) -> Response:
    """Perkville sends the member back here with a code (or an error)."""
    state = app_state(request)
    await rate_limit(request, "callback", None)
    _open_verifier(request)
    try:
        token = await state.oauth.perkville.authorize_access_token(request)
    except MismatchingStateError:
        # Authlib keeps one pending sign-in per browser: a second tab or a back-button retry
        # replaced this one's state. Restart once; Perkville remembers the member's consent,
        # so the restart is usually invisible.
        if not request.session.pop(SIGNIN_RETRIED, False):
            request.session[SIGNIN_RETRIED] = True
            log.info("sign-in callback with unknown state; restarting sign-in once")
            # The public URL, never the request's Host header.
            restart = f"{state.settings.public_url}{request.url_for('signin').path}"
            if state.settings.identify:
                restart += "?pkce=1"  # the PKCE sign-in again, not the identify flow
            return RedirectResponse(restart, status_code=303)
        log.info("sign-in callback with unknown state after a restart; giving up")
        return _problem(
            request,
            _("Your sign-in expired"),
            _("It took too long or was started again in another tab. Please try again."),
            400,
        )
    except OAuthError as exc:
        log.info("sign-in callback refused: %s", exc.error)
        drop_pending(request)  # whatever waited for this sign-in will not run
        if exc.error == "access_denied":
            return _problem(
                request,
                _("You didn't allow access"),
                _("To see your points and rewards here, allow this app on Perkville's page."),
                400,
            )
        return _problem(
            request,
            _("We couldn't sign you in"),
            _("Perkville did not accept the sign-in. Please try again."),
            400,
        )
    except httpx2.HTTPError as exc:
        log.warning("sign-in token exchange failed: %s", type(exc).__name__)
        return _problem(
            request,
            _("Perkville isn't answering"),
            _("We couldn't reach Perkville to finish signing you in. Please try again shortly."),
            502,
        )

    access_token = token.get("access_token") if isinstance(token, dict) else None
    if not isinstance(access_token, str) or not access_token:
        log.warning("sign-in token response had no access_token")
        return _problem(request, _("We couldn't sign you in"), _("Please try again."), 502)
    try:
        user = await state.perkville.me(Caller(access_token))
    except PerkvilleError as exc:
        log.warning("sign-in: fetching the member failed: %s", type(exc).__name__)
        return _problem(
            request,
            _("We couldn't load your account"),
            _("Perkville signed you in but did not share your account details. Please try again."),
            502,
        )

    # The member's challenges, filtered by their id (so after /v2/users/me/), for their
    # first page's progress.
    tracked = await tracked_at_sign_in(request, Caller(access_token, user_id=user.user_id))
    after = safe_next(request.session.get(AFTER_SIGNIN)) or request.url_for("home").path
    now = state.clock()
    # An identified member's action waits for this very sign-in (signin/stepup.py): it
    # survives the session's rotation, for the member who started it only.
    proof = prove_pending(request, request.query_params.get("state"), now)
    same_member = request.session.get(USER) == user.user_id
    await start_member_session(
        request, user_id=user.user_id, first_name=user.first_name, token=access_token, now=now
    )
    if tracked is not None:
        request.session[TRACKED] = tracked
    log.info("member %s signed in", user.user_id)
    if proof is not None and same_member:
        after = f"{request.url_for('resume').path}?{urlencode({'proof': proof})}"
    return RedirectResponse(after, status_code=303)


async def signout(request: Request) -> Response:
    """End the member's session in this app (a POST with the form's CSRF token)."""
    form = await request.form()
    if not csrf_valid(request, form.get("csrf")) and signed_in(request):
        return _problem(
            request,
            _("Please try that again"),
            _("This page was open too long. Reload it and sign out again."),
            403,
        )
    settings = app_state(request).settings
    await end_session(request)
    landing = f"{request.url_for('home').path}?signed_out=1"
    if not settings.kiosk:
        return RedirectResponse(landing, status_code=303)
    # A kiosk forgets the member everywhere: this browser's copy of our pages and cookies,
    # and (through its sign-out page) the sign-in at Perkville too.
    if settings.perkville_logout_url:
        back = urlencode({"next": f"{settings.public_url}{landing}"})
        landing = f"{settings.perkville_logout_url}?{back}"
    response = RedirectResponse(landing, status_code=303)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    forget_choice(response, settings)  # the next person starts in the default language
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
