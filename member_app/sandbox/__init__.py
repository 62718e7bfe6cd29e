"""A faithful, in-memory simulator of Perkville's v2 API and its OAuth pages.

See `member_app/sandbox/README.md` for what it implements and the choices it makes where the API
reference is silent.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from html import escape

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from ..paths import TEMPLATES_DIR
from . import api, community, identify, oauth, rewards
from .bench_seed import seed_bench
from .conditions import Conditions, ConditionsMiddleware
from .conditions import routes as conditions_routes
from .errors import ApiError
from .seed import DEFAULT_REDIRECT_URIS, demo_store
from .store import Store

SESSION_COOKIE = "perkville_sandbox"

__all__ = ["Conditions", "create_sandbox", "demo_store"]


async def business_logo(request: Request) -> Response:
    store: Store = request.app.state.store
    biz = store.businesses.get(int(request.path_params["business_id"]))
    if biz is None or not biz.has_logo:
        return Response("Not found", status_code=404)
    initials = "".join(word[0] for word in biz.name.split()[:2]).upper()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96">'
        f'<rect width="96" height="96" rx="20" fill="{escape(biz.brand_color or "#333")}"/>'
        '<path d="M18 70 L40 34 L52 52 L60 42 L78 70 Z" fill="#fff" opacity=".9"/>'
        f'<text x="48" y="88" font-family="sans-serif" font-size="12" text-anchor="middle" '
        f'fill="#fff">{escape(initials)}</text></svg>'
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


_BADGE_COLOURS = {"Bronze": "#B06A2B", "Silver": "#8A9299", "Gold": "#C9A227"}


async def level_badge(request: Request) -> Response:
    store: Store = request.app.state.store
    level = store.levels.get(int(request.path_params["level_id"]))
    if level is None:
        return Response("Not found", status_code=404)
    colour = _BADGE_COLOURS.get(level.name, "#555")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f'<circle cx="32" cy="32" r="30" fill="{colour}"/>'
        '<path d="M32 14 L37 27 L51 27 L40 36 L44 50 L32 41 L20 50 L24 36 L13 27 L27 27 Z" '
        'fill="#fff"/></svg>'
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/v2/"):
        if exc.status_code == 405:
            # The reference answers a verb it does not support with 501 (Handling Errors).
            return ApiError(
                501,
                "invalid_request_error",
                "method_not_implemented",
                f"{request.method} is not supported on this resource.",
            ).response()
        code = "not_found" if exc.status_code == 404 else "invalid"
        return ApiError(exc.status_code, "invalid_request_error", code, str(exc.detail)).response()
    return Response(str(exc.detail), status_code=exc.status_code, media_type="text/plain")


async def server_error(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {
            "error_type": "unknown_error",
            "errors": {"__all__": [{"code": "server_error", "message": "Something went wrong."}]},
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
) -> Starlette:
    """Build the sandbox. With no `store`, the demo gym is seeded with `redirect_uris`
    registered for the demo client. `members` adds that many bench members (bench_seed.py) to
    the store; `conditions` (latency, faults; conditions.py) start as given, else neutral."""
    conditions = conditions if conditions is not None else Conditions()
    app = Starlette(
        routes=[
            *oauth.routes,
            *api.routes,
            # --- rewards.routes ---
            *rewards.routes,
            # --- community.routes ---
            *community.routes,
            # --- identify.routes ---
            *identify.routes,
            Route("/media/businesses/{business_id:int}/logo.svg", business_logo),
            Route("/media/levels/{level_id:int}/badge.svg", level_badge),
            *conditions_routes,
        ],
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
    app.state.templates = Jinja2Templates(directory=TEMPLATES_DIR)
    return app
