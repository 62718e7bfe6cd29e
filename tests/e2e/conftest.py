"""Real servers and a real browser: the sandbox and the app under uvicorn on loopback, driven by
headless Chromium through Playwright's sync API.

* `servers` (module): both sockets are bound first (port 0), so each app can be told the other's
  address; then the demo wiring (`member_app.demo`, the same as `member-app demo`) runs each app
  in its own `ServerThread`.
* `browser` (module): one headless Chromium per test module.
* `page` (function): a fresh browser context (no cookies) with a phone-size viewport, and a
  freshly seeded sandbox store, so no test sees another's consent, codes or tokens.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright
from starlette.applications import Starlette

from member_app.demo import Demo, build_demo
from member_app.serving import ServerThread, bind, url_of
from member_app.settings import Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Servers:
    """The two running servers, and the objects behind them (for checks the browser can't do)."""

    app_url: str
    sandbox_url: str
    settings: Settings
    sandbox: Starlette
    demo: Demo

    def reseed_sandbox(self) -> None:
        """A fresh demo gym: no consents, codes or tokens from earlier tests."""
        self.demo.reseed()


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with contextlib.ExitStack() as stack:
        # Bound before either app exists: the sandbox must know the app's callback, the app
        # must know the sandbox. The close callbacks cover a failure before a ServerThread
        # owns its socket (closing twice is harmless).
        app_sock = bind("127.0.0.1", 0)
        stack.callback(app_sock.close)
        sandbox_sock = bind("127.0.0.1", 0)
        stack.callback(sandbox_sock.close)
        demo = build_demo(url_of(app_sock), url_of(sandbox_sock))
        stack.enter_context(ServerThread(demo.sandbox, sandbox_sock))
        stack.enter_context(ServerThread(demo.app, app_sock))
        settings = demo.settings
        yield Servers(settings.public_url, settings.api_url, settings, demo.sandbox, demo)


@pytest.fixture(scope="module")
def browser(servers: Servers) -> Iterator[Browser]:
    # Depends on `servers` only for teardown order: the browser (and its keep-alive
    # connections) goes away before the servers are asked to shut down.
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def context(browser: Browser, servers: Servers) -> Iterator[BrowserContext]:
    servers.reseed_sandbox()
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    ctx.set_default_timeout(5_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(params=["with JavaScript", "without JavaScript"])
def phone_page(
    request: pytest.FixtureRequest, browser: Browser, servers: Servers
) -> Iterator[Page]:
    """A signed-out phone browser on a fresh demo gym, once with scripts on and once off:
    the pages must work the same either way (progressive enhancement)."""
    servers.reseed_sandbox()
    ctx = browser.new_context(
        viewport=PHONE, java_script_enabled=request.param == "with JavaScript"
    )
    ctx.set_default_timeout(5_000)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()
