"""The kiosk at the front desk, in a real browser: a member taps Start, signs in, sees their
points, walks away; the countdown signs them out (at Perkville too), the attract screen comes
back, and the back button shows nothing of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from ..browser import submit_perkville_sign_in
from ..helpers import Servers, demo_servers

pytestmark = pytest.mark.browser

IDLE_SECONDS = 10  # the shortest a kiosk allows


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """This module's own pair of servers: the demo in kiosk mode, with a short idle time and
    the sandbox's /logout/ as the Perkville logout URL (overrides conftest's `servers`)."""
    with demo_servers(mode="kiosk", kiosk_idle_seconds=IDLE_SECONDS) as running:
        assert running.settings.perkville_logout_url == f"{running.sandbox_url}/logout/"
        yield running


def test_the_kiosk_forgets_the_member_by_itself(page: Page, servers: Servers) -> None:
    page.goto(f"{servers.app_url}/")
    page.get_by_role("link", name="Tap to see your points").click()

    # A fresh Perkville sign-in every time (prompt=login), then the consent page.
    expect(page.get_by_role("heading", name="Sign in to Perkville")).to_be_visible()
    submit_perkville_sign_in(page)
    page.get_by_role("button", name="Allow").click()

    expect(page).to_have_url(f"{servers.app_url}/")
    expect(page.get_by_test_id("point-balance")).to_have_text("1,250")
    expect(page.get_by_role("button", name="Done")).to_be_visible()
    expect(page.get_by_role("timer")).to_contain_text("tap anywhere to stay")

    # Nobody touches the screen: the countdown signs the member out, through Perkville's
    # sign-out page and back to the attract screen.
    expect(page).to_have_url(f"{servers.app_url}/?signed_out=1", timeout=(IDLE_SECONDS + 5) * 1000)
    expect(page.get_by_role("link", name="Tap to see your points")).to_be_visible()
    # The sign-in at Perkville ended too.
    page.goto(f"{servers.sandbox_url}/")
    expect(page.get_by_role("heading", name="Perkville sandbox")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    page.go_back()
    expect(page).to_have_url(re.compile(rf"^{re.escape(servers.app_url)}/\?signed_out=1$"))

    # The back button: the member's page is not restored from any cache.
    page.go_back()
    expect(page).to_have_url(f"{servers.app_url}/")
    expect(page.get_by_role("link", name="Tap to see your points")).to_be_visible()
    expect(page.get_by_test_id("point-balance")).to_have_count(0)
    expect(page.get_by_text("1,250")).to_have_count(0)
