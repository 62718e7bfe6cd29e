"""The main member flows in Chromium against both sandbox profiles: the default one (newer
Perkville behaviour, assumed) and `reference` (only what the v2 API reference documents). What
a member does must work the same against either: sign in, see the balance, redeem a reward once,
use the voucher, page through history, see challenges and referrals, leave."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from ..browser import PHONE, sign_in
from ..helpers import Servers, demo_servers

pytestmark = pytest.mark.browser

SMOOTHIE = 201  # 150 points in the seed; Maya has 1,250


@pytest.fixture(scope="module", params=["default", "reference"])
def servers(request: pytest.FixtureRequest) -> Iterator[Servers]:
    with demo_servers(profile=request.param) as running:
        yield running


@pytest.fixture
def member_page(browser: Browser, servers: Servers) -> Iterator[Page]:
    servers.reseed_sandbox()
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(5_000)
    page = context.new_page()
    sign_in(page, servers.app_url)
    try:
        yield page
    finally:
        context.close()


def test_the_main_flows_work_against_either_profile(member_page: Page, servers: Servers) -> None:
    page, app = member_page, servers.app_url
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    expect(page.get_by_test_id("point-balance")).to_have_text("1,250")

    page.goto(f"{app}/rewards/{SMOOTHIE}/redeem")
    page.get_by_role("button", name="Redeem for 150 points").dblclick()
    expect(page.get_by_role("heading", name=re.compile("^Redeemed!"))).to_be_visible()
    page.get_by_role("link", name="Mark as used").click()
    page.get_by_role("button", name="Yes, mark it used").click()
    expect(page.get_by_text("Marked as used.")).to_be_visible()
    page.goto(f"{app}/")
    expect(page.get_by_test_id("point-balance")).to_have_text("1,100")

    # History pages without counts: Older, then Newer back to the first page.
    page.goto(f"{app}/history")
    expect(page.locator("li.history-line").first).to_contain_text("Free smoothie")
    lines = page.locator("li.history-line")
    first = lines.count()
    page.get_by_role("button", name="Show more").click()
    expect(lines.nth(first)).to_be_visible()
    page.goto(f"{app}/history?offset=20")
    page.get_by_role("link", name="Newer").click()
    expect(page.locator("li.history-line").first).to_contain_text("Free smoothie")

    page.goto(f"{app}/challenges")
    expect(page.get_by_role("heading", name="My challenges")).to_be_visible()
    page.goto(f"{app}/referrals")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text(re.compile("Riley|Your friend")).first).to_be_visible()
    page.goto(f"{app}/vouchers")
    expect(page.get_by_role("heading", name="Ready to use")).to_be_visible()
    assert not errors, errors
