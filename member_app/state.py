"""What the running app holds, typed: views read it through `app_state(request)`.

Starlette's `request.app.state` is a bag of `Any`: a misspelt setting or client method read
from it passes the type checker. Every view reads this dataclass instead, so `mypy --strict`
checks each name and keyword argument.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from authlib.integrations.starlette_client import OAuth
from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from .i18n import Languages
from .live.service import LiveUpdates
from .ops import Metrics, Readiness
from .perkville import PerkvilleClient
from .ratelimit import RateLimits
from .settings import Settings
from .web.sealing import Sealer
from .web.session_records import SessionRecords

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    perkville: PerkvilleClient
    templates: Jinja2Templates
    rate_limits: RateLimits
    sealer: Sealer
    sessions: SessionRecords
    oauth: OAuth
    metrics: Metrics
    readiness: Readiness
    clock: Clock
    live: LiveUpdates
    languages: Languages


def app_state(connection: HTTPConnection) -> AppState:
    """The app's state, as `create_app` built it."""
    state = connection.app.state.member_app
    if not isinstance(state, AppState):  # a wiring mistake, never input
        raise TypeError("the app was not built by create_app")
    return state
