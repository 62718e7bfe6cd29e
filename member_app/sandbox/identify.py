"""The Identify User Flow, as the API reference's last section ("Identify Token") writes it.

1. `POST /api/identify/` (also `/v2/identify/`): an ADMIN staff token with ADMIN_IDENTIFY_USER
   asks for a single-use identify token (30 minutes) bound to a registered redirect URI and a
   state.
2. `GET /biz/{business_id}/identify?token=…`: the member signs in (if needed); the sandbox checks
   the member and the admin against the business, then sends the browser to the redirect URI
   with an identification `code` (30 seconds) and the `state`.
3. `GET /v2/users/?code=…`: the same admin's bearer token reads the one identified user.

Every failure in step 2 lands on a generic page of the business profile, never on the app.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from .errors import AUTHORIZATION_ERROR, OAUTH_ERROR, ApiError, invalid_request
from .pages import page, signed_in_user
from .resources import ALL_METHODS, authenticate, not_implemented
from .store import AccessToken, IdentifyCode, IdentifyToken, Store, new_secret

IDENTIFY_SCOPE = "ADMIN_IDENTIFY_USER"
TOKEN_LIFETIME = timedelta(minutes=30)  # "valid for 30 mintues from the time it's created"
CODE_LIFETIME = timedelta(seconds=30)  # "Identification codes expire 30 secords after creation"


def _expire_datetime(value: datetime) -> str:
    # The reference's example: "2021-09-10T02:07:35.512Z" (milliseconds, Z).
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def _require_identify_scope(token: AccessToken) -> None:
    if IDENTIFY_SCOPE not in token.scopes:
        raise ApiError(
            403,
            AUTHORIZATION_ERROR,
            "insufficient_scope",
            f"This request needs the {IDENTIFY_SCOPE} scope.",
        )


async def create_identify_token(request: Request) -> Response:
    """Step 1: a single-use identify token for this admin, bound to redirect_uri and state."""
    store: Store = request.app.state.store
    token = authenticate(request, store)
    if request.method != "POST":
        raise not_implemented(request)  # "You can't read from this resource."
    _require_identify_scope(token)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise ApiError(
            400,
            OAUTH_ERROR,
            "invalid_request",
            "Encode the body as application/x-www-form-urlencoded, not JSON.",
        )
    form = await request.form()
    values: dict[str, str] = {}
    for name in ("redirect_uri", "state"):
        value = form.get(name)
        if not isinstance(value, str) or not value:
            raise invalid_request("required", f"{name} is required.", name)
        values[name] = value
    client = store.clients.get(token.client_id)
    # Exact string match, as at /api/authorize/: anything looser is an open redirect.
    if client is None or values["redirect_uri"] not in client.redirect_uris:
        raise invalid_request(
            "invalid",
            "redirect_uri does not match any address registered for this client.",
            "redirect_uri",
        )
    identify = IdentifyToken(
        new_secret(),
        token.client_id,
        token.user_id,
        token.token,
        values["redirect_uri"],
        values["state"],
        store.now() + TOKEN_LIFETIME,
    )
    store.identify_tokens[identify.token] = identify
    return JSONResponse(
        {
            "expire_datetime": _expire_datetime(identify.expires_at),
            "identify_token": identify.token,
        },
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


def _valid_for(store: Store, identify: IdentifyToken, business_id: int, user_id: int) -> bool:
    """Step 2's checks: the token is live, the member is connected to the business, and the
    bearer token that asked for it is still active, has the scope, and is ADMIN staff here."""
    if store.now() >= identify.expires_at:
        return False
    bearer = store.tokens.get(identify.access_token)
    return (
        store.connection_of(user_id, business_id) is not None
        and bearer is not None
        and IDENTIFY_SCOPE in bearer.scopes
        and store.is_admin(bearer.user_id, business_id)
    )


async def identify(request: Request) -> Response:
    """Step 2: who is this member? Sign in first, then back to the app with a code."""
    store: Store = request.app.state.store
    business_id: int = request.path_params["business_id"]
    if business_id not in store.businesses:
        return Response("Not found", status_code=404, media_type="text/plain")
    user = signed_in_user(request)
    if user is None:
        here = f"{request.url.path}?{request.url.query}" if request.url.query else request.url.path
        return RedirectResponse(f"/login/?{urlencode({'next': here})}", status_code=303)
    # Any attempt by a signed-in browser uses the token up, success or not: a token seen in a
    # URL (history, a shared link) cannot be tried again by someone else.
    identify_token = store.identify_tokens.pop(request.query_params.get("token", ""), None)
    if identify_token is None or not _valid_for(store, identify_token, business_id, user.user_id):
        return RedirectResponse(f"/biz/{business_id}/?identify_error=1", status_code=303)
    code = IdentifyCode(
        new_secret(),
        user.user_id,
        identify_token.admin_user_id,
        business_id,
        store.now() + CODE_LIFETIME,
    )
    store.identify_codes[code.code] = code
    query = urlencode({"code": code.code, "state": identify_token.state})
    sep = "&" if "?" in identify_token.redirect_uri else "?"
    return RedirectResponse(f"{identify_token.redirect_uri}{sep}{query}", status_code=302)


async def business_profile(request: Request) -> Response:
    """The business profile, as far as the sandbox has one: the identify error page."""
    store: Store = request.app.state.store
    business = store.businesses.get(request.path_params["business_id"])
    if business is None or "identify_error" not in request.query_params:
        return Response("Not found", status_code=404, media_type="text/plain")
    return page(request, "identify_error.html", {"business": business})


def user_by_code(raw: str, token: AccessToken, store: Store) -> set[int]:
    """Step 3, the User resource's `code` filter: the identified member, once, within 30 s,
    for the admin whose identify token it came from; anything else selects nobody."""
    _require_identify_scope(token)
    code = store.identify_codes.get(raw)
    if (
        code is None
        or code.used
        or store.now() >= code.expires_at
        or code.admin_user_id != token.user_id
    ):
        return set()
    code.used = True
    return {code.user_id}


routes = [
    Route("/api/identify/", create_identify_token, methods=ALL_METHODS, name="identify_token"),
    Route("/v2/identify/", create_identify_token, methods=ALL_METHODS),
    Route("/biz/{business_id:int}/identify", identify, name="identify"),
    Route("/biz/{business_id:int}/", business_profile, name="business_profile"),
]
