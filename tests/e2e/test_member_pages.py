"""A signed-in member in Chromium: redeem once (whatever the clicking), use the voucher, and
page through history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..browser import sign_in
from ..helpers import Servers

pytestmark = pytest.mark.browser

MAYA_CONNECTION = 3001
SMOOTHIE = 201  # 150 points in the seed


def balance(servers: Servers) -> int:
    return int(servers.sandbox.state.store.connections[MAYA_CONNECTION].point_balance)


def smoothie_vouchers(servers: Servers) -> int:
    store = servers.sandbox.state.store
    return sum(
        1 for t in store.transactions.values() if t.perk_id == SMOOTHIE and t.user_id == 1001
    )


@pytest.fixture
def member_page(phone_page: Page, servers: Servers) -> Page:
    """A signed-in member's page, with and without JavaScript."""
    sign_in(phone_page, servers.app_url)
    return phone_page


def test_double_click_back_and_refresh_spend_once(member_page: Page, servers: Servers) -> None:
    page = member_page
    before_balance, before_count = balance(servers), smoothie_vouchers(servers)
    page.goto(f"{servers.app_url}/rewards")
    page.locator(f'a[href="/rewards/{SMOOTHIE}/redeem"]').click()
    expect(page.get_by_text("Your balance now")).to_be_visible()
    page.get_by_role("button", name="Redeem for 150 points").dblclick()
    expect(page).to_have_url(re.compile(r"/vouchers/\d+\?redeemed=1$"))
    expect(page.get_by_role("heading", name=re.compile("^Redeemed!"))).to_be_visible()
    voucher_url = page.url.split("?")[0]

    page.reload()
    page.go_back()  # the confirmation again: it knows this one is done
    expect(page.get_by_text("You redeemed this a moment ago")).to_be_visible()
    page.get_by_role("link", name="See your voucher").click()
    expect(page).to_have_url(voucher_url)

    assert balance(servers) == before_balance - 150
    assert smoothie_vouchers(servers) == before_count + 1
    page.goto(f"{servers.app_url}/")
    expect(page.get_by_test_id("point-balance")).to_have_text(f"{before_balance - 150:,}")


def test_mark_the_new_voucher_used(member_page: Page, servers: Servers) -> None:
    page = member_page
    page.goto(f"{servers.app_url}/rewards/{SMOOTHIE}/redeem")
    page.get_by_role("button", name="Redeem for 150 points").click()
    expect(page.get_by_role("heading", name=re.compile("^Redeemed!"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Barcode for code"))).to_be_visible()
    page.get_by_role("link", name="Mark as used").click()
    expect(page.get_by_text("This can't be undone.")).to_be_visible()
    page.get_by_role("button", name="Yes, mark it used").click()
    expect(page.get_by_text("Marked as used.")).to_be_visible()
    expect(page.get_by_role("link", name="Mark as used")).to_have_count(0)


def test_page_through_history(
    member_page: Page, servers: Servers, request: pytest.FixtureRequest
) -> None:
    page = member_page
    page.goto(f"{servers.app_url}/more")
    page.get_by_role("link", name="Point history").click()
    expect(page).to_have_url(f"{servers.app_url}/history")
    lines = page.locator("li.history-line")
    lines.first.wait_for()  # counted once the page has come, not while it is on its way
    first = lines.count()
    assert first >= 15
    if request.node.callspec.params["phone_page"] == "with JavaScript":
        # "Show more" appends the next page's lines to the list, and stays for the next.
        page.get_by_role("button", name="Show more").click()
        expect(lines.nth(first)).to_be_focused()
        assert lines.count() >= first + 15
        expect(page).to_have_url(re.compile(r"/history$"))
        times = page.locator("li.history-line time").evaluate_all(
            "ts => ts.map(t => t.getAttribute('datetime'))"
        )
        assert times == sorted(times, reverse=True)
        # On to the end: every line once, the newest first, and the button gone.
        store = servers.sandbox.state.store
        shown = sum(
            1
            for t in store.transactions.values()
            if t.user_id == 1001 and t.transaction_status != "VOID_REF"
        )
        more = page.get_by_role("button", name="Show more")
        for _ in range(shown // 20 + 1):
            if not more.count():
                break
            before = lines.count()
            more.click()
            expect(lines).not_to_have_count(before)
        expect(more).to_have_count(0)
        assert lines.count() == shown
        expect(page.get_by_role("status")).to_have_text(re.compile("all of your history"))
    else:
        # Without scripts: pages, with links both ways.
        page.get_by_role("link", name="Older").click()
        expect(page).to_have_url(re.compile(r"/history\?offset=20$"))
        assert lines.count() >= 15
        expect(page.get_by_role("link", name="Newer")).to_have_attribute("href", "/history")
    page.get_by_label("Show").select_option("redeemed")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"kind=redeemed"))
    expect(page.locator(".history-points.spent").first).to_be_visible()
