"""The one factory: `create_app(settings)` builds the whole app from explicit lists."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

import httpx2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import (
    auth,
    challenges,
    earn,
    history,
    home,
    identify,
    join,
    locations,
    more,
    ops,
    pwa,
    referrals,
    rewards,
    stepup,
    vouchers,
)
from .brand import brand_css
from .cache import Cache, backend_for
from .errors import exception_handlers
from .paths import STATIC_DIR
from .perkville import PerkvilleClient, PerkvilleError
from .ratelimit import RateLimited, RateLimits, rate_limited
from .security import BodyLimitMiddleware, SecurityHeadersMiddleware
from .session import Clock, SessionTimeoutMiddleware, TokenBox, derive_key
from .settings import Settings
from .templating import make_templates

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    perkville_transport: httpx2.AsyncBaseTransport | None = None,
    clock: Clock = time.time,
) -> Starlette:
    """Build the member app. `perkville_transport` lets tests and the demo reach a sandbox
    in-process; `clock` lets tests move time for session timeouts."""
    ops.configure_logging(settings.log_level)
    metrics = ops.Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        cache = None if settings.baseline else Cache(backend_for(settings.cache_url, clock), clock)
        app.state.perkville = PerkvilleClient(
            settings.api_url,
            transport=perkville_transport,
            timeout=settings.upstream_timeout_seconds,
            observe=metrics.upstream,
            cache=cache,
            member_ttl=settings.member_cache_seconds,
            one_at_a_time=settings.baseline,
        )
        if settings.admin_token:
            # With a staff token the program's name, logo and colours are known before the
            # first member signs in: the landing page, brand.css and the manifest use them.
            try:
                await app.state.perkville.business(settings.admin_token, settings.business_id)
            except PerkvilleError as exc:
                log.warning("could not load the business at start: %s", type(exc).__name__)
        try:
            yield
        finally:
            await app.state.perkville.aclose()
            if cache is not None:
                await cache.aclose()
            await app.state.rate_limits.aclose()

    app = Starlette(
        routes=[
            *home.routes,
            *auth.routes,
            *identify.routes,
            *stepup.routes,
            *earn.routes,
            *rewards.routes,
            *vouchers.routes,
            *history.routes,
            *more.routes,
            *locations.routes,
            # --- challenges.routes ---
            *challenges.routes,
            # --- referrals.routes, join.routes ---
            *referrals.routes,
            *join.routes,
            *pwa.routes,
            *ops.routes,
            Route("/brand.css", brand_css, name="brand_css"),
            Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        ],
        middleware=[
            # Outermost: the request id, request metrics and access log cover all below.
            Middleware(ops.RequestMiddleware, metrics=metrics),
            # Pages are HTML and compress ~5x (issue 5: home first load within 50 KB).
            Middleware(GZipMiddleware, minimum_size=500),
            Middleware(SecurityHeadersMiddleware, settings=settings),
            Middleware(BodyLimitMiddleware),
            Middleware(
                SessionMiddleware,
                secret_key=derive_key(settings.secret_key, "member-app session").hex(),
                session_cookie=settings.session_cookie,
                # The cookie may outlive a browser restart up to the absolute limit; the real
                # idle and absolute checks are SessionTimeoutMiddleware's. A kiosk's cookie
                # never outlives the browser session (tech-anchors C-8).
                max_age=None if settings.kiosk else settings.max_seconds,
                same_site="lax",  # Strict would drop the cookie on the return from Perkville
                https_only=settings.cookies_secure,
            ),
            Middleware(
                SessionTimeoutMiddleware,
                idle=settings.idle_seconds,  # the kiosk's own in kiosk mode
                absolute=settings.max_seconds,
                clock=clock,
            ),
        ],
        exception_handlers={**exception_handlers, RateLimited: rate_limited},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.readiness = ops.Readiness()
    app.state.clock = clock
    app.state.templates = make_templates()
    app.state.token_box = TokenBox(settings.secret_key)
    app.state.rate_limits = RateLimits(settings.cache_url)
    app.state.oauth = auth.make_oauth(settings, perkville_transport)
    return app
