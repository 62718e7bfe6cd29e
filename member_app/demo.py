"""The demo wiring: the sandbox and the app, pointed at each other, on one calendar.

Used by `member-app demo` and by the end-to-end tests, so both run exactly the same thing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from starlette.applications import Starlette

from .app import create_app
from .sandbox import create_sandbox, demo_store
from .sandbox.seed import DEMO_BUSINESS_ID, DEMO_CLIENT_ID, demo_clock
from .settings import Settings


@dataclass(frozen=True)
class Demo:
    settings: Settings
    sandbox: Starlette
    app: Starlette

    def reseed(self) -> None:
        """A fresh demo gym (no consents, codes or tokens), on the same calendar."""
        clock = self.sandbox.state.store.clock
        self.sandbox.state.store = demo_store(redirect_uris=[self.settings.redirect_uri])
        self.sandbox.state.store.clock = clock


def build_demo(app_url: str, sandbox_url: str, *, secret_key: str | None = None) -> Demo:
    settings = Settings(
        # A fresh secret per run: demo sessions do not need to survive a restart.
        secret_key=secret_key or secrets.token_urlsafe(48),
        client_id=DEMO_CLIENT_ID,
        business_id=DEMO_BUSINESS_ID,
        public_url=app_url,
        api_url=sandbox_url,
        signin_url=sandbox_url,
        program_name="Summit Rewards",
        timezone="America/Los_Angeles",
    )
    sandbox = create_sandbox(redirect_uris=[settings.redirect_uri])
    # The seed is written around one day (DEMO_NOW); both sides start there and run on.
    clock = demo_clock()
    sandbox.state.store.clock = clock
    app = create_app(settings, clock=lambda: clock().timestamp())
    return Demo(settings, sandbox, app)
