"""The kiosk's attract screen in a real browser, at a front-desk tablet's size: the offers turn
by themselves (not under reduced motion, and all of them listed without scripts), the big way
in and "Use your phone" are on screen without scrolling, and the phone's QR code opens the app
on the member's own phone. No axe violations, light or dark.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, ViewportSize, expect

from member_app.pages.codes import qr_svg

from ..helpers import Servers, demo_servers

pytestmark = pytest.mark.browser

TABLET: ViewportSize = {"width": 1024, "height": 768}
QR_NAME = "QR code: open Summit Rewards on your phone"
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    """This module's own pair of servers: the demo in kiosk mode."""
    with demo_servers(mode="kiosk") as running:
        yield running


def open_kiosk(browser: Browser, servers: Servers, **options: Any) -> Iterator[Page]:
    servers.reseed_sandbox()
    ctx = browser.new_context(viewport=TABLET, has_touch=True, **options)
    ctx.set_default_timeout(5_000)
    try:
        yield ctx.new_page()
    finally:
        ctx.close()


@pytest.fixture
def kiosk_page(browser: Browser, servers: Servers) -> Iterator[Page]:
    yield from open_kiosk(browser, servers)


def test_the_phone_qr_code_opens_the_app_on_the_members_phone(
    kiosk_page: Page, servers: Servers
) -> None:
    page = kiosk_page
    page.goto(f"{servers.app_url}/")
    start = page.get_by_role("link", name="Tap to see your points")
    code = page.get_by_role("img", name=QR_NAME)
    expect(start).to_be_visible()
    expect(code).to_be_visible()
    expect(page.get_by_role("heading", name="Use your phone")).to_be_visible()
    # Both ways in are on the screen as it stands: nobody has to scroll to find them.
    for thing in (start, code):
        box = thing.bounding_box()
        assert box is not None and box["y"] + box["height"] <= TABLET["height"], box
    box = code.bounding_box()
    assert box is not None and box["width"] >= 150, box  # big enough to scan from a step away
    # The code is the app's public address (segno draws the same modules for it) ...
    phone_url = f"{servers.settings.public_url}/?from=kiosk"
    drawn = code.locator("path").get_attribute("d")
    expected = re.search(r' d="([^"]+)"', qr_svg(phone_url, title="").decode())
    assert expected is not None and drawn == expected.group(1)
    expect(page.get_by_text(re.compile(r"Or go to 127\.0\.0\.1:\d+"))).to_be_visible()
    # ... which, opened on a phone, is the way in for a phone, not the shared screen again.
    page.goto(phone_url)
    expect(page.get_by_role("link", name="Sign in with Perkville")).to_be_visible()
    expect(page.get_by_role("img", name=QR_NAME)).to_have_count(0)
    expect(page.locator("body.kiosk")).to_have_count(0)


def test_the_offers_turn_by_themselves_and_by_hand(kiosk_page: Page, servers: Servers) -> None:
    page = kiosk_page
    page.clock.install()
    page.goto(f"{servers.app_url}/")
    offers = page.get_by_role("region", name="On offer now")
    expect(offers.get_by_role("heading", name="Triple points")).to_be_visible()
    expect(offers.get_by_text(re.compile(r"^Offer 1 of \d+$"))).to_be_visible()
    expect(offers.get_by_role("heading", name="Free Week Pass")).to_be_hidden()
    page.clock.run_for(8_000)
    expect(offers.get_by_text(re.compile(r"^Offer 2 of \d+$"))).to_be_visible()
    expect(offers.get_by_role("heading", name="Triple points")).to_be_hidden()
    # Pause stops them; Next and Previous still work.
    offers.get_by_role("button", name="Pause").click()
    expect(offers.get_by_role("button", name="Play")).to_be_visible()
    page.clock.run_for(30_000)
    expect(offers.get_by_text(re.compile(r"^Offer 2 of \d+$"))).to_be_visible()
    offers.get_by_role("button", name="Next offer").click()
    offers.get_by_role("button", name="Next offer").click()
    expect(offers.get_by_role("heading", name="Free Week Pass")).to_be_visible()
    expect(offers.get_by_text("You earn 100 points for each friend you refer.")).to_be_visible()
    offers.get_by_role("button", name="Previous offer").click()
    expect(offers.get_by_text(re.compile(r"^Offer 3 of \d+$"))).to_be_visible()


def test_no_motion_under_reduced_motion(browser: Browser, servers: Servers) -> None:
    for page in open_kiosk(browser, servers, reduced_motion="reduce"):
        page.clock.install()
        page.goto(f"{servers.app_url}/")
        offers = page.get_by_role("region", name="On offer now")
        page.clock.run_for(30_000)
        expect(offers.get_by_text(re.compile(r"^Offer 1 of \d+$"))).to_be_visible()
        expect(offers.get_by_role("button", name="Pause")).to_be_hidden()
        offers.get_by_role("button", name="Next offer").click()
        expect(offers.get_by_text(re.compile(r"^Offer 2 of \d+$"))).to_be_visible()


def test_without_scripts_every_offer_is_listed(browser: Browser, servers: Servers) -> None:
    for page in open_kiosk(browser, servers, java_script_enabled=False):
        page.goto(f"{servers.app_url}/")
        offers = page.get_by_role("region", name="On offer now")
        titles = offers.get_by_role("heading", level=3)
        assert titles.count() >= 5
        for index in range(titles.count()):
            expect(titles.nth(index)).to_be_visible()
        expect(offers.get_by_role("button")).to_have_count(0)
        expect(page.get_by_role("img", name=QR_NAME)).to_be_visible()


# Light is in the axe matrix (tests/e2e/test_accessibility.py, the kiosk's place).
@pytest.mark.parametrize("scheme", ["dark"])
def test_no_axe_violations_on_the_attract_screen(
    browser: Browser, servers: Servers, scheme: str
) -> None:
    for page in open_kiosk(browser, servers, color_scheme=scheme):
        for path in ("/", "/?signed_out=1", "/?from=kiosk"):
            page.goto(f"{servers.app_url}{path}")
            page.wait_for_load_state("load")
            response: dict[str, Any] = Axe().run(page, options=WCAG_21_AA).response
            found = [
                f"{path}: [{v['id']}] {v['help']} at {node['target']}"
                for v in response["violations"]
                for node in v["nodes"]
            ]
            assert not found, "\n".join(found)
