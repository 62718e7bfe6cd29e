"""A member signs in with Perkville in a real browser, against real servers.

Headless Chromium drives the app and the Perkville sandbox, both under uvicorn on loopback
(fixtures in `conftest.py`): the landing page, the sandbox's sign-in and consent pages, the
callback, the home page, saying no, and signing out.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from member_app.sandbox.seed import DEMO_CLIENT_ID

from ..browser import sign_in, submit_perkville_sign_in
from ..helpers import Servers

pytestmark = pytest.mark.browser

MEMBER_USER_ID = 1001
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".screenshots"
# Perkville's bearer tokens are 30 letters and digits (member_app/sandbox/store.py, new_secret).
TOKEN_LENGTH = 30
_ALNUM_RUN = re.compile(rf"[A-Za-z0-9]{{{TOKEN_LENGTH},}}")


def _at(url: str) -> re.Pattern[str]:
    """A URL pattern: exactly `url`, with or without a query string."""
    return re.compile(rf"^{re.escape(url)}(\?.*)?$")


def open_app_and_sign_in(page: Page, servers: Servers) -> None:
    """From the landing page to the sandbox's consent page, as a newcomer."""
    page.goto(f"{servers.app_url}/")
    page.get_by_role("link", name="Sign in with Perkville").click()

    expect(page).to_have_url(_at(f"{servers.sandbox_url}/login/"))
    expect(page.get_by_role("heading", name="Sign in to Perkville")).to_be_visible()
    submit_perkville_sign_in(page)

    expect(page).to_have_url(_at(f"{servers.sandbox_url}/api/authorize/"))
    expect(page.get_by_role("heading", name="would like to:")).to_be_visible()


def test_newcomer_signs_in_and_sees_points_on_a_phone(page: Page, servers: Servers) -> None:
    open_app_and_sign_in(page, servers)

    # The consent page says who asks and lists what the app may do, one item per scope.
    expect(
        page.get_by_role("heading", name="Summit Fitness member app would like to:")
    ).to_be_visible()
    scopes = page.get_by_role("list").get_by_role("listitem")
    expect(scopes).to_have_count(4)
    for description in (
        "See public information about rewards programs",
        "See your contact information, business connections and vouchers",
        "Redeem your earned points for rewards",
        "Refer friends to the businesses you are connected to",
    ):
        expect(scopes.filter(has_text=description)).to_have_count(1)
    expect(page.get_by_role("button", name="Deny")).to_be_visible()

    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(f"{servers.app_url}/")
    expect(page.get_by_role("heading", name="Hi, Maya", level=1)).to_be_visible()
    expect(page.get_by_test_id("point-balance")).to_have_text("1,250")
    level = page.get_by_role("region", name="Your level")
    expect(level.get_by_text("Silver", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "home-phone.png", full_page=True)


def _session_strings(cookie_value: str) -> list[str]:
    """Every string inside a Starlette session cookie (base64 JSON before the first '.');
    nothing if the value is not one."""
    payload = cookie_value.split(".", 1)[0]
    payload += "=" * (-len(payload) % 4)
    try:
        data = json.loads(base64.b64decode(payload))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return []
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                found.append(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None:
            found.append(str(value))

    walk(data)
    return found


def _token_shaped(texts: list[str]) -> Iterator[str]:
    """Every 30-character run of letters and digits inside `texts` (overlapping windows, so a
    token embedded in a longer run is not missed)."""
    for text in texts:
        for run in _ALNUM_RUN.finditer(text):
            word = run.group()
            for start in range(len(word) - TOKEN_LENGTH + 1):
                yield word[start : start + TOKEN_LENGTH]


def test_cookies_never_reveal_a_working_bearer_token(
    page: Page, context: BrowserContext, servers: Servers
) -> None:
    sign_in(page, servers.app_url)

    # The sandbox really issued this member a token for the demo client.
    store = servers.sandbox.state.store
    issued = [
        t.token
        for t in store.tokens.values()
        if t.user_id == MEMBER_USER_ID and t.client_id == DEMO_CLIENT_ID
    ]
    assert issued, "the sandbox issued no token to the member for the demo client"

    # Every cookie the browser would send to the app (the sandbox's shares the host name).
    cookies = context.cookies(servers.app_url)
    by_name = {c["name"]: c for c in cookies}
    app_cookie = by_name.get(servers.settings.session_cookie)
    assert app_cookie is not None, f"no app session cookie among {sorted(by_name)}"
    assert app_cookie["httpOnly"] is True
    assert app_cookie["sameSite"] == "Lax"

    raw_values = [c["value"] for c in cookies]
    decoded = [s for value in raw_values for s in _session_strings(value)]
    app_session = _session_strings(app_cookie["value"])
    assert app_session, "the app cookie did not decode as a Starlette session"
    assert "tok" in app_session, "the session no longer carries a (sealed) token"

    for token in issued:
        for text in raw_values + decoded:
            assert token not in text, "a cookie reveals the member's bearer token"

    candidates = set(_token_shaped(raw_values + decoded))
    assert candidates, "nothing token-shaped to try: the check would prove nothing"
    with httpx2.Client(base_url=servers.sandbox_url, timeout=10) as client:

        def status_with(token: str) -> int:
            headers = {"Authorization": f"Bearer {token}"}
            return client.get("/v2/users/me/", headers=headers).status_code

        # The check can tell: the real token does work.
        assert status_with(issued[0]) == 200
        working = [c for c in sorted(candidates) if status_with(c) != 401]
    assert working == [], f"{len(working)} of {len(candidates)} token-shaped strings work"


def test_saying_no_on_consent_leads_to_a_friendly_page(page: Page, servers: Servers) -> None:
    open_app_and_sign_in(page, servers)

    with page.expect_response(re.compile(r"/auth/callback\?")) as callback:
        page.get_by_role("button", name="Deny").click()
    assert callback.value.status == 400

    expect(page).to_have_url(_at(f"{servers.app_url}/auth/callback"))
    expect(page.get_by_role("heading", name="You didn't allow access")).to_be_visible()
    expect(page.get_by_text("allow this app on Perkville's page")).to_be_visible()
    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    assert "Exception" not in body
    expect(page.get_by_test_id("point-balance")).to_have_count(0)

    # "Try again" starts over: the sandbox still knows the member, so it asks again.
    page.get_by_role("link", name="Try again").click()
    expect(page).to_have_url(_at(f"{servers.sandbox_url}/api/authorize/"))
    expect(page.get_by_role("button", name="Allow")).to_be_visible()


def test_sign_out_returns_to_the_landing_page(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(f"{servers.app_url}/?signed_out=1")
    expect(page.get_by_role("status")).to_contain_text("You're signed out")
    expect(page.get_by_role("link", name="Sign in with Perkville")).to_be_visible()

    page.goto(f"{servers.app_url}/")
    expect(page.get_by_role("link", name="Sign in with Perkville")).to_be_visible()
    expect(page.get_by_test_id("point-balance")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(page.get_by_text("You're signed out")).to_have_count(0)
