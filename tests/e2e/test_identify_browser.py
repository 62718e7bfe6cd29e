"""Inside a gym's app (webview mode): a member already signed in at Perkville is recognised
with no prompt (the Identify User Flow); pressing Redeem asks for the PKCE sign-in once and
then finishes that same redemption.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from ..browser import sign_in_at_perkville
from ..helpers import Servers, demo_servers

pytestmark = pytest.mark.browser

MAYA = 1001
SMOOTHIE = 201


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """This module's own pair of servers: the demo in webview mode (overrides conftest's)."""
    with demo_servers(mode="webview") as running:
        assert running.settings.signin_flow == "identify"
        yield running


def balance(servers: Servers) -> int:
    store = servers.sandbox.state.store
    return int(next(c for c in store.connections.values() if c.user_id == MAYA).point_balance)


def test_identified_member_sees_points_then_steps_up_to_redeem(
    page: Page, servers: Servers
) -> None:
    # Signed in at Perkville already (the gym's app did that).
    sign_in_at_perkville(page, servers.sandbox_url)

    # Opening the app: recognised, no sign-in page, no consent page.
    page.goto(f"{servers.app_url}/")
    expect(page).to_have_url(f"{servers.app_url}/")
    expect(page.get_by_test_id("point-balance")).to_have_text("1,250")
    before = balance(servers)

    # Redeem: Perkville asks to allow the app once, then the redemption completes.
    page.goto(f"{servers.app_url}/rewards")
    page.locator(f'a[href="/rewards/{SMOOTHIE}/redeem"]').click()
    page.get_by_role("button", name="Redeem for 150 points").click()
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name=re.compile("^Redeemed!"))).to_be_visible()
    expect(page).to_have_url(re.compile(rf"^{re.escape(servers.app_url)}/vouchers/\d+"))
    assert balance(servers) == before - 150

    # A reload or the back button spends nothing more.
    page.reload()
    page.go_back()
    page.go_forward()
    assert balance(servers) == before - 150


def test_replayed_identify_callback_gives_a_clear_page(page: Page, servers: Servers) -> None:
    sign_in_at_perkville(page, servers.sandbox_url)
    with page.expect_response(re.compile(r"/auth/identify/callback\?")) as callback:
        page.goto(f"{servers.app_url}/")
    callback_url = callback.value.url
    expect(page.get_by_test_id("point-balance")).to_have_text("1,250")
    # The same code and state again (a copied link, a history entry): refused, explained.
    page.goto(callback_url)
    expect(page.get_by_text("We couldn't recognise you automatically")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in with Perkville")).to_be_visible()


def test_expired_identify_token_gives_a_clear_page(page: Page, servers: Servers) -> None:
    sign_in_at_perkville(page, servers.sandbox_url)
    # The app asks Perkville for an identify token; the browser only gets there 31 minutes on.
    answer = page.request.get(f"{servers.app_url}/signin/identify", max_redirects=0)
    identify_url = answer.headers["location"]
    assert "/identify?token=" in identify_url
    store = servers.sandbox.state.store
    running = store.clock
    store.clock = lambda: running() + timedelta(minutes=31)
    try:
        page.goto(identify_url)
        expect(page.get_by_text("We couldn't confirm who you are")).to_be_visible()
        # The app recognised no one: member pages still ask to sign in.
        answer = page.request.get(f"{servers.app_url}/vouchers", max_redirects=0)
        assert answer.status == 303
        assert "/signin" in answer.headers["location"]
    finally:
        store.clock = running
