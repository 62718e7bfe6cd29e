"""The demo wiring: the sandbox and the app, pointed at each other, on one calendar.

Used by `member-app demo` and by the end-to-end tests, so both run exactly the same thing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.applications import Starlette

from .app import create_app
from .sandbox import Profile, create_sandbox, demo_store
from .sandbox.conditions import DEFAULT_FAULTS, conditions_from
from .sandbox.seed import (
    ADMIN_CLIENT_ID,
    ADMIN_EMAIL,
    DEMO_BUSINESS_ID,
    DEMO_CLIENT_ID,
    demo_clock,
)
from .sandbox.seed.bench import seed_bench
from .sandbox.store import ADMIN_SCOPES, Store
from .settings import Mode, Settings


@dataclass(frozen=True)
class Demo:
    settings: Settings
    sandbox: Starlette
    app: Starlette
    members: int = 0

    def reseed(self) -> None:
        """A fresh demo gym (no consents, codes or member tokens; the bench members again),
        on the same calendar; the app's staff token and the sandbox's conditions carry over."""
        old = self.sandbox.state.store
        fresh = demo_store(redirect_uris=[self.settings.redirect_uri])
        seed_bench(fresh, self.members)
        fresh.clock = old.clock
        if self.settings.admin_token:
            fresh.tokens[self.settings.admin_token] = old.tokens[self.settings.admin_token]
        self.sandbox.state.store = fresh


def mint_admin_token(store: Store) -> str:
    """The staff token a real deployment gets from `member-app admin-token` (the password
    grant), minted in the sandbox directly for the demo admin."""
    admin = store.user_by_email(ADMIN_EMAIL)
    assert admin is not None
    return store.issue_token(ADMIN_CLIENT_ID, admin.user_id, frozenset(ADMIN_SCOPES)).token


def build_demo(
    app_url: str,
    sandbox_url: str,
    *,
    secret_key: str | None = None,
    mode: Mode = "phone",
    kiosk_idle_seconds: int = 60,
    latency_ms: float = 0.0,
    fault_rate: float = 0.0,
    faults: Iterable[str] = DEFAULT_FAULTS,
    fault_seed: int | None = None,
    members: int = 0,
    profile: Profile = "default",
    live_interval_seconds: float = 3.0,
) -> Demo:
    """The demo, as a phone app, inside a gym's app (`webview`, which starts with the
    Identify User Flow: the gym's app already knows who is signed in) or on a `kiosk`, whose
    sign-out also ends the sign-in at the sandbox.

    `latency_ms`, `fault_rate`, `faults` and `fault_seed` set the sandbox's conditions (see
    sandbox/README.md); `members` adds that many bench members; `profile="reference"` makes
    the sandbox serve only what the API reference documents (then a kiosk has no Perkville
    sign-out page to send the browser through: the reference has none)."""
    sandbox = create_sandbox(
        redirect_uris=[f"{app_url}/auth/callback"],
        conditions=conditions_from(
            latency_ms=latency_ms, fault_rate=fault_rate, faults=faults, seed=fault_seed
        ),
        members=members,
        profile=profile,
    )
    sign_out = mode == "kiosk" and profile == "default"
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
        admin_token=mint_admin_token(sandbox.state.store),
        mode=mode,
        kiosk_idle_seconds=kiosk_idle_seconds,
        perkville_logout_url=f"{sandbox_url}/logout/" if sign_out else None,
        signin_flow="identify" if mode == "webview" else "pkce",
        live_interval_seconds=live_interval_seconds,
    )
    # The seed is written around one day (DEMO_NOW); both sides start there and run on.
    clock = demo_clock()
    sandbox.state.store.clock = clock
    app = create_app(settings, clock=lambda: clock().timestamp())
    return Demo(settings, sandbox, app, members)
