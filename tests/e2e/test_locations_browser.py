"""A signed-in member in Chromium switches location and sees that location's rewards."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ..browser import sign_in
from ..helpers import Servers

pytestmark = pytest.mark.browser

SAUNA = "Riverside sauna day pass"  # offered at Riverside only


def test_switching_location_changes_the_rewards_shown(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rewards").click()
    expect(page.get_by_role("heading", name="Rewards", level=1)).to_be_visible()
    location = page.get_by_label("Location")
    expect(location).to_have_value("11")  # Maya's home, Downtown
    expect(page.get_by_role("heading", name=SAUNA)).to_have_count(0)

    location.select_option(label="Summit Fitness Riverside")
    page.get_by_role("button", name="Change").click()
    expect(page).to_have_url(f"{servers.app_url}/rewards")
    expect(page.get_by_label("Location")).to_have_value("12")
    sauna = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=SAUNA))
    expect(sauna).to_contain_text("Only at your home location (Summit Fitness Downtown).")

    page.get_by_label("Location").select_option(label="Summit Fitness Downtown (home)")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_label("Location")).to_have_value("11")
    expect(page.get_by_role("heading", name=SAUNA)).to_have_count(0)
