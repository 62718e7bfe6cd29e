"""A signed-in member in Chromium: home's next reward (its name, progress bar and the points
still needed) agrees with the rewards page, and the count of rewards to redeem now leads to
them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..browser import sign_in
from ..helpers import Servers

pytestmark = pytest.mark.browser

MAYA_CONNECTION = 3001


def points(text: str) -> int:
    match = re.search(r"[\d,]+", text)
    assert match, text
    return int(match.group(0).replace(",", ""))


def test_the_next_reward_on_home_agrees_with_the_rewards_page(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)
    store = servers.sandbox.state.store
    have = int(store.connections[MAYA_CONNECTION].point_balance)
    expect(page.get_by_test_id("point-balance")).to_have_text(f"{have:,}")

    card = page.get_by_role("region", name="Your next reward")
    expect(card).to_be_visible()
    title = card.get_by_test_id("next-reward-title").inner_text()
    reward = next(p for p in store.perks.values() if p.title == title)
    needed = reward.points - have
    assert needed > 0
    expect(card.get_by_test_id("next-reward-needed")).to_have_text(f"{needed:,} more points")
    bar = card.get_by_role("progressbar", name=re.compile(re.escape(title)))
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("max", str(reward.points))
    expect(bar).to_have_attribute("value", str(have))
    box = bar.bounding_box()
    assert box is not None and box["width"] > 200, box  # a bar across the card, not a dot

    card.get_by_role("link", name="All rewards").click()
    expect(page).to_have_url(f"{servers.app_url}/rewards")
    expect(page.get_by_text(f"You have {have:,} points.")).to_be_visible()
    same = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))
    expect(same).to_contain_text(f"{reward.points:,} points")
    expect(same).to_contain_text(f"You need {needed:,} more points.")
    same_bar = same.get_by_role("progressbar")
    expect(same_bar).to_have_attribute("max", str(reward.points))
    expect(same_bar).to_have_attribute("value", str(have))
    expect(same.get_by_role("link", name="Ways to earn points")).to_be_visible()
    # No other reward within reach of points alone is closer.
    others = page.get_by_text(re.compile(r"^You need [\d,]+ more points\.$")).all_inner_texts()
    assert needed == min(points(text) for text in others)


def test_the_count_of_rewards_to_redeem_now_leads_to_them(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)
    ready = page.get_by_test_id("ready-rewards")
    count = points(ready.inner_text())
    ready.click()
    expect(page).to_have_url(f"{servers.app_url}/rewards#available-now")
    available = page.locator("#available-now")
    expect(available.get_by_role("heading", name="Available now")).to_be_in_viewport()
    expect(available.get_by_role("link", name="Redeem", exact=True)).to_have_count(count)
