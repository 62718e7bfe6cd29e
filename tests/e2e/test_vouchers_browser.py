"""Vouchers in Chromium: the moment after redeeming (the new balance, the code, focus and
motion), and past vouchers with nothing left to scan or copy."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from ..browser import PHONE, sign_in
from ..helpers import MAYA_CONNECTION, Servers

pytestmark = pytest.mark.browser

POINTS = re.compile(r"[\d,]+")


def points_in(text: str) -> int:
    match = POINTS.search(text)
    assert match, text
    return int(match.group(0).replace(",", ""))


def redeem_something_affordable(page: Page, app_url: str) -> tuple[str, int]:
    """From the rewards page, redeem the first reward the member can afford; return its
    title and its cost, as the confirmation page showed them."""
    page.goto(f"{app_url}/rewards")
    page.locator('a[href*="/redeem"]').first.wait_for()
    hrefs = page.locator('a[href*="/redeem"]').evaluate_all("links => links.map(a => a.href)")
    for href in dict.fromkeys(hrefs):
        page.goto(href)
        button = page.get_by_role("button", name=re.compile(r"^Redeem for [\d,]+ points$"))
        if button.count():
            title = page.get_by_role("heading", level=1).inner_text()
            cost = points_in(button.inner_text())
            button.click()
            return title, cost
    raise AssertionError("nothing on the rewards page can be redeemed")


def test_the_moment_after_redeeming_shows_the_new_balance_and_the_code(
    page: Page, servers: Servers
) -> None:
    sign_in(page, servers.app_url)
    old = points_in(page.get_by_test_id("point-balance").inner_text())
    title, cost = redeem_something_affordable(page, servers.app_url)

    expect(page).to_have_url(re.compile(r"/vouchers/\d+\?redeemed=1$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(rf"^Redeemed!\s+{re.escape(title)}$"))
    expect(heading).to_be_focused()  # where a screen reader starts reading
    expect(page.get_by_test_id("new-balance")).to_have_text(f"{old - cost:,}")
    store = servers.sandbox.state.store
    assert store.connections[MAYA_CONNECTION].point_balance == old - cost
    # The voucher, ready to scan, and what to do next.
    voucher_id = page.url.split("/vouchers/")[1].split("?")[0]
    code = page.get_by_role("img", name=re.compile(r"(Barcode|QR code) for code"))
    expect(code).to_be_visible()
    assert code.evaluate("img => img.complete && img.naturalWidth > 0")
    expect(page.locator("#voucher-code")).to_have_text(re.compile(r"\S+"))
    expect(page.get_by_text(re.compile(r"at the front desk|at the juice bar"))).to_be_visible()
    page.get_by_role("link", name="See your vouchers").click()
    expect(page).to_have_url(re.compile(r"/vouchers$"))
    ready = page.locator("section", has=page.get_by_role("heading", name="Ready to use"))
    expect(ready.locator(f'a[href="/vouchers/{voucher_id}"]')).to_be_visible()


def test_a_past_voucher_has_nothing_to_scan_or_copy(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)
    page.goto(f"{servers.app_url}/vouchers")
    past = page.locator("section", has=page.get_by_role("heading", name="Past"))
    past.get_by_role("link").filter(
        has=page.locator(".status-badge", has_text="Used")
    ).first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("You've used this voucher")).to_be_visible()
    expect(page.locator('img[src*="code.svg"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Copy")).to_have_count(0)
    expect(page.locator("[data-copy]")).to_have_count(0)
    expect(page.get_by_role("link", name="Mark as used")).to_have_count(0)
    expect(page.get_by_role("link", name="Find another reward")).to_be_visible()


def test_a_voucher_used_at_the_desk_loses_its_code(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)
    redeem_something_affordable(page, servers.app_url)
    expect(page.get_by_role("button", name="Copy")).to_be_visible()  # the clipboard is there
    page.get_by_role("link", name="Mark as used").click()
    page.get_by_role("button", name="Yes, mark it used").click()
    expect(page.get_by_text("Marked as used.")).to_be_visible()
    expect(page.locator('img[src*="code.svg"]')).to_have_count(0)
    expect(page.get_by_role("button", name="Copy")).to_have_count(0)


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_the_check_mark_moves_only_for_members_who_allow_motion(
    motion: str, browser: Browser, servers: Servers
) -> None:
    servers.reseed_sandbox()
    ctx = browser.new_context(viewport=PHONE, reduced_motion=motion)  # type: ignore[arg-type]
    ctx.set_default_timeout(5_000)
    try:
        page = ctx.new_page()
        sign_in(page, servers.app_url)
        redeem_something_affordable(page, servers.app_url)
        check = page.locator(".redeemed-check")
        expect(check).to_be_visible()
        animation = check.evaluate("el => getComputedStyle(el).animationName")
        assert (animation != "none") is (motion == "no-preference"), animation
        expect(page.get_by_test_id("new-balance")).to_be_visible()
    finally:
        ctx.close()
