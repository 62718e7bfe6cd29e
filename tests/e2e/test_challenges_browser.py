"""A signed-in member in Chromium finds a challenge, joins it and sees it among their own."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..browser import sign_in
from ..helpers import Servers

pytestmark = pytest.mark.browser

MAYA_CONNECTION = 3001
HOLIDAY_HUSTLE = 802  # open to join in the seed


def joined(servers: Servers, challenge_id: int) -> bool:
    entries = servers.sandbox.state.store.challenge_connections.values()
    return any(
        e.challenge_id == challenge_id
        and e.connection_id == MAYA_CONNECTION
        and e.join_status == "ACTIVE"
        for e in entries
    )


def test_join_a_challenge_from_the_more_tab(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="More").click()
    expect(page.get_by_role("heading", name="More", level=1)).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Challenges", exact=True).click()
    expect(page.get_by_role("heading", name="Challenges", level=1)).to_be_visible()

    available = page.get_by_role("list", name="Available to join")
    available.get_by_role("link", name="Holiday Hustle").click()
    expect(page).to_have_url(re.compile(rf"/challenges/{HOLIDAY_HUSTLE}$"))
    expect(page.get_by_role("heading", name="Take 10 classes")).to_be_visible()
    page.get_by_role("button", name="Join this challenge").click()

    expect(page).to_have_url(re.compile(rf"/challenges/{HOLIDAY_HUSTLE}\?joined=1$"))
    # The page's notice (the live updates' toast is a status region of its own, empty).
    notice = page.get_by_role("status").filter(has_text="You're in!")
    expect(notice).to_have_text("You're in! Every visit now counts towards this challenge.")
    expect(page.get_by_role("progressbar", name="Take 10 classes: 0 of 10")).to_be_visible()
    assert joined(servers, HOLIDAY_HUSTLE)

    page.get_by_role("link", name="← All challenges").click()
    mine = page.get_by_role("list", name="In progress")
    expect(mine.get_by_role("link", name="Holiday Hustle")).to_be_visible()
    # Nothing else to join at Downtown (the Northgate challenge counts only there).
    available_section = page.get_by_role("region", name="Available to join")
    expect(available_section).not_to_contain_text("Holiday Hustle")
    expect(available_section).to_contain_text(
        "No challenges to join at Summit Fitness Downtown right now."
    )
