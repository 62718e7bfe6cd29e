"""Real servers and a real browser: the sandbox and the app under uvicorn on loopback, driven by
headless Chromium through Playwright's sync API.

* `servers` (module): the demo wiring (`member_app.demo`, the same as `member-app demo`), each
  app in its own `ServerThread` on a loopback port (`tests/helpers.py`, `demo_servers`).
* `browser` (module): one headless Chromium per test module.
* `page` (function): a fresh browser context (no cookies) with a phone-size viewport, and a
  freshly seeded sandbox store, so no test sees another's consent, codes or tokens.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from ..browser import CHROMIUM, CHROMIUM_ARGS, PHONE
from ..helpers import Servers, demo_servers


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with demo_servers() as running:
        yield running


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


@pytest.fixture(params=["light", "dark"])
def scheme_page(
    request: pytest.FixtureRequest, browser: Browser, servers: Servers
) -> Iterator[Page]:
    """A phone browser on a fresh demo gym, in light and in dark mode (contrast differs)."""
    servers.reseed_sandbox()
    ctx = browser.new_context(viewport=PHONE, color_scheme=request.param)
    ctx.set_default_timeout(5_000)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()
