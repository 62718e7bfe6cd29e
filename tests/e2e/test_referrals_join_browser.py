"""In Chromium, against real servers: a member refers a friend, and a pending member joins the
program by accepting its terms."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..browser import sign_in
from ..helpers import Servers

pytestmark = pytest.mark.browser

PENDING_EMAIL = "pending@example.com"
JORDAN_CONNECTION = 3003


def sign_in_as_pending_member(page: Page, servers: Servers) -> None:
    """Sign in as Jordan, who is connected to the gym but has not joined its program."""
    sign_in(page, servers.app_url, email=PENDING_EMAIL)
    expect(page.get_by_test_id("point-balance")).to_have_text("120")


def test_refer_a_friend_and_see_them_listed(phone_page: Page, servers: Servers) -> None:
    page = phone_page
    sign_in(page, servers.app_url)
    page.goto(f"{servers.app_url}/referrals")
    expect(page.get_by_role("heading", name="Free Week Pass")).to_be_visible()
    expect(page.get_by_text("You earn 100 points for each friend you refer.")).to_be_visible()
    expect(page.locator("#referral-link")).to_have_text(re.compile(r"biz/4/referral/1001/$"))

    page.get_by_label("Friend's email").fill("robin@example.net")
    page.get_by_label("First name (optional)").fill("Robin")
    page.get_by_label("A note from you (optional)").fill("Spin class on Saturday?")
    page.get_by_role("button", name="Send referral").click()

    expect(page).to_have_url(re.compile(r"/referrals(#by-email)?$"))
    expect(page.get_by_role("status")).to_contain_text("Referral sent!")
    friend = page.locator(".referral-line", has_text="robin@example.net")
    expect(friend).to_contain_text("Sent")
    store = servers.sandbox.state.store
    assert any(r.to_email == "robin@example.net" for r in store.referrals.values())


def test_referral_to_an_existing_customer_is_explained(phone_page: Page, servers: Servers) -> None:
    page = phone_page
    sign_in(page, servers.app_url)
    page.goto(f"{servers.app_url}/referrals")
    page.get_by_label("Friend's email").fill(PENDING_EMAIL)
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_text("This person is already a customer")).to_be_visible()
    expect(page.get_by_label("Friend's email")).to_have_value(PENDING_EMAIL)


def test_pending_member_joins_the_program(phone_page: Page, servers: Servers) -> None:
    page = phone_page
    sign_in_as_pending_member(page, servers)
    expect(page.get_by_text("haven't joined Summit Rewards yet")).to_be_visible()
    page.get_by_role("link", name="Join now").click()

    expect(page).to_have_url(f"{servers.app_url}/join")
    expect(page.get_by_text("Get 50 bonus points for joining.")).to_be_visible()
    page.get_by_label("I agree to these terms").check()
    page.get_by_role("button", name="Join Summit Rewards").click()

    expect(page).to_have_url(f"{servers.app_url}/?joined=1")
    expect(page.get_by_text("Welcome to Summit Rewards!")).to_be_visible()
    expect(page.get_by_test_id("point-balance")).to_have_text("170")  # + the join bonus
    expect(page.get_by_text("haven't joined")).to_have_count(0)
    store = servers.sandbox.state.store
    assert store.connections[JORDAN_CONNECTION].status == "ACTIVE"
