"""A faithful, in-memory simulator of Perkville's v2 API and its OAuth pages.

See `member_app/sandbox/README.md` for what it implements and the choices it makes where the API
reference is silent.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from .. import i18n
from ..paths import TEMPLATES_DIR
from . import (
    agreements,
    balances,
    businesses,
    challenges,
    external_members,
    front_desk,
    identify,
    media,
    membership,
    oauth,
    referrals,
    scopes,
    users,
)
from .conditions import Conditions, ConditionsMiddleware
from .conditions import routes as conditions_routes
from .errors import ApiError
from .profiles import DEFAULT_ONLY_PATHS, PROFILES, Profile, error_code, profile_of
from .resources import not_implemented
from .rewards import admin_transactions, batch, earning, perks, redeeming, vouchers
from .seed import DEFAULT_REDIRECT_URIS, demo_store
from .seed.bench import seed_bench
from .store import Store

SESSION_COOKIE = "perkville_sandbox"

__all__ = ["PROFILES", "Conditions", "Profile", "create_sandbox", "demo_store"]


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response(profile_of(request))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    profile = profile_of(request)
    if request.url.path.startswith("/v2/"):
        if exc.status_code == 405:
            # The reference answers a verb it does not support with 501 (Handling Errors).
            return not_implemented(request).response(profile)
        code = "not_found" if exc.status_code == 404 else "invalid"
        error = ApiError(exc.status_code, "invalid_request_error", code, str(exc.detail))
        return error.response(profile)
    return Response(str(exc.detail), status_code=exc.status_code, media_type="text/plain")


async def server_error(request: Request, exc: Exception) -> Response:
    code = error_code("server_error", profile_of(request))
    return JSONResponse(
        {
            "error_type": "unknown_error",
            "errors": {"__all__": [{"code": code, "message": "Something went wrong."}]},
        },
        status_code=500,
    )


def create_sandbox(
    store: Store | None = None,
    *,
    redirect_uris: Iterable[str] = DEFAULT_REDIRECT_URIS,
    session_secret: str | None = None,
    conditions: Conditions | None = None,
    members: int = 0,
    profile: Profile = "default",
) -> Starlette:
    """Build the sandbox. With no `store`, the demo gym is seeded with `redirect_uris`
    registered for the demo client. `members` adds that many bench members (seed/bench.py) to
    the store; `conditions` (latency, faults; conditions.py) start as given, else neutral.
    `profile="reference"` serves only what the API reference documents (profiles.py)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    conditions = conditions if conditions is not None else Conditions()
    routes = [
        *oauth.routes,
        *users.routes,
        *businesses.routes,
        *membership.routes,
        *external_members.routes,
        *agreements.routes,
        *scopes.routes,
        *perks.routes,
        *earning.routes,
        *redeeming.routes,
        *admin_transactions.routes,
        *batch.routes,
        *balances.routes,
        *vouchers.routes,
        *challenges.routes,
        *referrals.routes,
        *identify.routes,
        *media.routes,
        *front_desk.routes,
        *conditions_routes,
    ]
    if profile == "reference":
        # Paths the reference never mentions answer like any unknown path (404).
        routes = [r for r in routes if getattr(r, "path", None) not in DEFAULT_ONLY_PATHS]
    app = Starlette(
        routes=routes,
        middleware=[
            # First, so it sits outside everything else the sandbox does: latency and faults
            # hit before sessions or routing, as a slow network or a failing proxy would.
            Middleware(ConditionsMiddleware, conditions=conditions),
            Middleware(
                SessionMiddleware,
                secret_key=session_secret or secrets.token_urlsafe(32),
                # Distinct from the app's cookie: both may live on 127.0.0.1, and cookies
                # are not separated by port.
                session_cookie=SESSION_COOKIE,
                same_site="lax",
            ),
        ],
        exception_handlers={
            ApiError: api_error,
            HTTPException: http_error,
            500: server_error,
        },
    )
    app.state.store = store if store is not None else demo_store(redirect_uris)
    seed_bench(app.state.store, members)
    app.state.conditions = conditions
    app.state.profile = profile
    app.state.templates = Jinja2Templates(directory=TEMPLATES_DIR)
    i18n.install(app.state.templates.env)
    return app
