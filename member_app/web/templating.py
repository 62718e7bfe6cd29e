"""Jinja2 set-up: one `Jinja2Templates`, fingerprinted static URLs, and the page frame."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import pass_context
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from .. import i18n
from ..brand import palette_for
from ..paths import STATIC_DIR, TEMPLATES_DIR
from ..perkville import Business
from ..state import app_state
from .csrf import csrf_token
from .session import EMBED, signed_in


@cache
def _fingerprint(path: str) -> str:
    file = (STATIC_DIR / path).resolve()
    if not file.is_relative_to(STATIC_DIR.resolve()) or not file.is_file():
        raise ValueError(f"no static file {path!r}")
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    """`/static/app.css?v=<content hash>`: a new release never meets a stale cached copy."""
    return f"/static/{path}?v={_fingerprint(path)}"


@dataclass(frozen=True, slots=True)
class Link:
    """What the templates use of a URL: its path (`url_for('home').path`)."""

    path: str


def make_templates() -> Jinja2Templates:
    """The app's templates. Each app makes its own (tests build many), so the links they
    remember belong to that app's routes."""
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    links: dict[tuple[str, str, tuple[tuple[str, Any], ...]], Link] = {}

    @pass_context
    def url_for(context: dict[str, Any], name: str, /, **params: Any) -> Link:
        """Starlette's `url_for` walks every route each time (a page links to ~16):
        remembered per route and parameters instead. Only the path: links never need the
        host."""
        request: Request = context["request"]
        key = (request.scope.get("root_path", ""), name, tuple(sorted(params.items())))
        link = links.get(key)
        if link is None:
            if len(links) > 4096:  # ids in links (vouchers, challenges): keep it bounded
                links.clear()
            link = Link(key[0] + str(request.app.router.url_path_for(name, **params)))
            links[key] = link
        return link

    env = templates.env
    env.globals["static_url"] = static_url
    env.globals["url_for"] = url_for
    i18n.install(env)
    return templates


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    business: Business | None = None,
) -> Response:
    """Render a page inside the branded frame (program name, logo, colours). Never writes to
    the session."""
    state = app_state(request)
    settings = state.settings
    # The 500 and 413 answers come from outside SessionMiddleware: the session may be absent.
    session = request.scope.get("session", {})
    embed = bool(session.get(EMBED)) or request.query_params.get("embed") == "1"
    if business is None:
        business = state.perkville.cached_business(settings.business_id)
    page: dict[str, Any] = {
        "business": business,
        "program_name": business.program_name if business else settings.program_name,
        "brand_version": palette_for(business).version,
        "csrf_token": lambda: csrf_token(request),
        "signed_in": signed_in(request),
        "kiosk": settings.kiosk,
        "kiosk_idle_seconds": settings.idle_seconds,
        # A gym's app draws its own header around us: no second one.
        "embed": not settings.kiosk and (settings.mode == "webview" or embed),
        "languages": state.languages.offered,
    }
    freshness = request.scope.get("state", {}).get("freshness")
    stale_since = getattr(freshness, "stale_since", None)
    if stale_since is not None:
        # Perkville failed and cached copies stood in: say from when.
        when = datetime.fromtimestamp(stale_since, ZoneInfo(settings.timezone))
        page["stale_since"] = i18n.clock(when)
    page.update(context or {})
    response: Response = state.templates.TemplateResponse(
        request, name, page, status_code=status_code
    )
    return response
