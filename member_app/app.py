"""The one factory: `create_app(settings)` builds the whole app from explicit lists."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import pwa
from .brand import brand_css
from .cache import Cache, backend_for
from .i18n import Languages
from .live import stream as live_stream
from .live.service import LiveUpdates
from .ops import Metrics, Readiness
from .pages import (
    challenges,
    earn,
    help,
    history,
    home,
    join,
    locations,
    more,
    profile,
    referrals,
    rewards,
    vouchers,
)
from .paths import STATIC_DIR
from .perkville import Caller, PerkvilleClient, PerkvilleError
from .ratelimit import RateLimits
from .settings import Settings
from .signin import identify, pkce, stepup
from .state import AppState, Clock
from .web import language as language_choice
from .web import probes
from .web.body_limit import BodyLimitMiddleware
from .web.embed import EmbedMiddleware
from .web.exceptions import exception_handlers
from .web.language import LanguageMiddleware
from .web.request_log import RequestLogMiddleware
from .web.sealing import Sealer, derive_key
from .web.security_headers import SecurityHeadersMiddleware
from .web.server_errors import ServerErrorPageMiddleware
from .web.session_cookie import CookieSessionMiddleware
from .web.session_records import SessionRecords
from .web.session_timeout import SessionTimeoutMiddleware
from .web.templating import make_templates

log = logging.getLogger(__name__)

ROUTES = [
    *home.routes,
    *pkce.routes,
    *identify.routes,
    *stepup.routes,
    *earn.routes,
    *rewards.routes,
    *vouchers.routes,
    *history.routes,
    *more.routes,
    *profile.routes,
    *help.routes,
    *locations.routes,
    *challenges.routes,
    *referrals.routes,
    *join.routes,
    *language_choice.routes,
    *live_stream.routes,
    *pwa.routes,
    *probes.routes,
    Route("/brand.css", brand_css, name="brand_css"),
    Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
]


def create_app(
    settings: Settings,
    *,
    perkville_transport: httpx2.AsyncBaseTransport | None = None,
    clock: Clock = time.time,
) -> Starlette:
    """Build the member app. `perkville_transport` lets tests and the demo reach a sandbox
    in-process; `clock` lets tests move time for session timeouts."""
    metrics = Metrics()
    cache = Cache(backend_for(settings.cache_url, clock), clock)
    perkville = PerkvilleClient(
        settings.api_url,
        transport=perkville_transport,
        timeout=settings.upstream_timeout_seconds,
        observe=metrics.upstream,
        cache=cache,
        member_ttl=settings.member_cache_seconds,
    )
    sessions = SessionRecords(settings.cache_url, keep_for=settings.max_seconds, clock=clock)
    rate_limits = RateLimits(settings.cache_url, enabled=settings.rate_limits)
    languages = Languages.load(
        settings.default_language, Path(settings.locale_dir) if settings.locale_dir else None
    )
    state = AppState(
        settings=settings,
        perkville=perkville,
        templates=make_templates(),
        rate_limits=rate_limits,
        sealer=Sealer(settings.secret_key),
        sessions=sessions,
        oauth=pkce.make_oauth(settings, perkville_transport),
        metrics=metrics,
        readiness=Readiness(),
        clock=clock,
        live=LiveUpdates(settings, perkville, clock),
        languages=languages,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if settings.admin_token:
            # With a staff token the program's name, logo and colours are known before the
            # first member signs in: the landing page, brand.css and the manifest use them.
            try:
                await perkville.business(Caller(settings.admin_token), settings.business_id)
            except PerkvilleError as exc:
                log.warning("could not load the business at start: %s", type(exc).__name__)
        await state.live.start()
        try:
            yield
        finally:
            await state.live.aclose()
            await perkville.aclose()
            await cache.aclose()
            await rate_limits.aclose()
            await sessions.aclose()

    app = Starlette(
        routes=ROUTES,
        middleware=[
            # Outermost: the request id, request metrics and access log cover all below.
            Middleware(RequestLogMiddleware, metrics=metrics),
            # Pages are HTML and compress about five times.
            Middleware(GZipMiddleware, minimum_size=500),
            Middleware(SecurityHeadersMiddleware, settings=settings),
            # Before anything renders, so that every page, the 500 page too, is in it.
            Middleware(LanguageMiddleware, settings=settings, languages=languages),
            Middleware(ServerErrorPageMiddleware),
            Middleware(BodyLimitMiddleware),
            Middleware(
                CookieSessionMiddleware,
                secret_key=derive_key(settings.secret_key, "member-app session").hex(),
                session_cookie=settings.session_cookie,
                # The cookie may outlive a browser restart up to the absolute limit; the real
                # idle and absolute checks are SessionTimeoutMiddleware's. A kiosk's cookie
                # never outlives the browser session.
                max_age=None if settings.kiosk else settings.max_seconds,
                same_site="lax",  # Strict would drop the cookie on the return from Perkville
                https_only=settings.cookies_secure,
            ),
            Middleware(
                SessionTimeoutMiddleware,
                idle=settings.idle_seconds,  # the kiosk's own in kiosk mode
                absolute=settings.max_seconds,
                clock=clock,
                records=sessions,
            ),
            Middleware(EmbedMiddleware),
        ],
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.state.member_app = state
    return app
