"""The small things of the frame, in Chromium: an action button shows it is working and can't
be pressed twice, the location picker shows the chosen location's whole name on a small
phone, every disclosure ("Fine print") shows that it opens, and the first load asks for
nothing that isn't there (the favicon)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from ..browser import PHONE, sign_in
from ..helpers import Servers
from ..pages_to_check import MEMBER_PAGES

pytestmark = pytest.mark.browser

# Runs after app.js's handler (window is the last stop of a submit event): keeps the page
# here to look at the button, and counts the submissions app.js let through.
HOLD_SUBMISSIONS = """() => {
  window.submissions = 0;
  window.addEventListener("submit", (event) => {
    if (!event.defaultPrevented) window.submissions += 1;
    event.preventDefault();
  });
}"""


def test_an_action_button_works_once_and_says_so(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)
    page.goto(f"{servers.app_url}/earn")
    page.evaluate(HOLD_SUBMISSIONS)
    change = page.locator(".location-switcher button[type=submit]")
    expect(change).to_have_text("Change")
    change.click()
    expect(change).to_have_text("Changing…")
    expect(change).to_have_attribute("aria-busy", "true")
    expect(change).to_be_disabled()
    # A second submission (Enter in the form, a script) is refused.
    page.locator(".location-switcher").evaluate("form => form.requestSubmit()")
    assert page.evaluate("window.submissions") == 1
    # Back on the page from the back/forward cache: ready again.
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(change).to_have_text("Change")
    expect(change).to_be_enabled()
    assert change.get_attribute("aria-busy") is None
    change.click()
    assert page.evaluate("window.submissions") == 2


def test_a_button_without_its_own_label_says_working(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)
    page.goto(f"{servers.app_url}/earn")
    page.evaluate(HOLD_SUBMISSIONS)
    change = page.locator(".location-switcher button[type=submit]")
    change.evaluate("button => button.removeAttribute('data-working')")
    change.click()
    expect(change).to_have_text("Working…")


def test_the_action_really_happens(page: Page, servers: Servers) -> None:
    sign_in(page, servers.app_url)
    page.goto(f"{servers.app_url}/earn")
    picker = page.get_by_label("Location")
    picker.select_option(label="Summit Fitness Riverside")
    page.get_by_role("button", name="Change").click()
    expect(page).to_have_url(f"{servers.app_url}/earn")
    expect(page.get_by_label("Location")).to_have_value("12")
    expect(page.get_by_role("button", name="Change")).to_be_enabled()


def test_the_chosen_locations_whole_name_shows_on_a_small_phone(
    browser: Browser, servers: Servers
) -> None:
    servers.reseed_sandbox()
    ctx = browser.new_context(viewport={"width": 320, "height": 640})
    ctx.set_default_timeout(5_000)
    try:
        page = ctx.new_page()
        sign_in(page, servers.app_url)
        page.goto(f"{servers.app_url}/earn")
        shown = page.locator("[data-location-shown]")
        expect(shown).to_have_text("Summit Fitness Downtown (home)")
        expect(shown).to_be_visible()
        fits: dict[str, Any] = shown.evaluate(
            """(el) => {
              const r = el.getBoundingClientRect(), style = getComputedStyle(el);
              const inner = r.height - parseFloat(style.paddingTop)
                - parseFloat(style.paddingBottom);
              return {cut: el.scrollWidth > el.clientWidth, right: r.right,
                      lines: Math.round(inner / parseFloat(style.lineHeight))};
            }"""
        )
        assert not fits["cut"] and fits["right"] <= 320, fits
        assert fits["lines"] >= 2, fits  # it wraps rather than being cut
        page.get_by_label("Location").select_option(label="Summit Fitness Northgate")
        expect(shown).to_have_text("Summit Fitness Northgate")
    finally:
        ctx.close()


MARKER = """(summary) => {
  const before = getComputedStyle(summary, "::before");
  const box = summary.getBoundingClientRect();
  return {content: before.content, width: parseFloat(before.width),
          transform: before.transform, height: box.height,
          text: summary.innerText.trim()};
}"""


def test_every_disclosure_shows_that_it_opens(browser: Browser, servers: Servers) -> None:
    servers.reseed_sandbox()
    # Reduced motion: the chevron turns at once (no transition to wait out).
    ctx = browser.new_context(viewport=PHONE, reduced_motion="reduce")
    ctx.set_default_timeout(5_000)
    try:
        seen = _disclosures(ctx.new_page(), servers)
    finally:
        ctx.close()
    assert any("Fine print" in where for where in seen), seen


def _disclosures(page: Page, servers: Servers) -> list[str]:
    """Every page's disclosures, each checked closed and open; where each was."""
    sign_in(page, servers.app_url)
    seen: list[str] = []
    for path in MEMBER_PAGES:
        page.goto(f"{servers.app_url}{path}")
        summaries = page.locator("details > summary")
        for i in range(summaries.count()):
            summary = summaries.nth(i)
            closed = summary.evaluate(MARKER)
            where = f"{path} {closed['text']!r}"
            assert closed["content"] not in ("none", "normal") and closed["width"] > 0, where
            assert closed["height"] >= 44, where
            summary.click()
            opened = summary.evaluate(MARKER)
            assert opened["transform"] != closed["transform"], where  # the chevron turns
            seen.append(where)
    return seen


def test_first_load_asks_for_nothing_missing(browser: Browser, servers: Servers) -> None:
    ctx = browser.new_context(service_workers="block")
    ctx.set_default_timeout(5_000)
    failed: list[str] = []

    def check(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    try:
        page = ctx.new_page()
        page.on("response", check)
        page.goto(f"{servers.app_url}/")
        icon = page.locator('link[rel="icon"]').get_attribute("href")
        assert icon
        size = page.evaluate(
            """(href) => new Promise((done) => {
              const img = new Image();
              img.onload = () => done(img.naturalWidth);
              img.onerror = () => done(0);
              img.src = href;
            })""",
            icon,
        )
        assert size > 0
        assert page.request.get(f"{servers.app_url}/favicon.ico").ok
    finally:
        ctx.close()
    assert failed == []


PAGE_GRID = """() => {
  const main = document.querySelector("main");
  const grid = document.createElement("div");
  grid.className = "page-grid";
  for (const text of ["One", "Two", "Three"]) {
    const card = document.createElement("section");
    card.className = "card";
    card.textContent = text;
    grid.append(card);
  }
  main.append(grid);
  const [a, b] = [...grid.children].map((card) => card.getBoundingClientRect());
  return {sideBySide: a.top === b.top && b.left > a.right, mainWidth: main.clientWidth};
}"""


@pytest.mark.parametrize(("width", "columns"), [(390, 1), (1024, 2), (1440, 2)])
def test_page_grid_lays_sections_in_two_columns_on_a_wide_screen(
    browser: Browser, servers: Servers, width: int, columns: int
) -> None:
    servers.reseed_sandbox()
    ctx = browser.new_context(viewport={"width": width, "height": 800})
    ctx.set_default_timeout(5_000)
    try:
        page = ctx.new_page()
        sign_in(page, servers.app_url)
        page.goto(f"{servers.app_url}/more")
        found = page.evaluate(PAGE_GRID)
        assert found["sideBySide"] == (columns == 2), found
        if columns == 2:
            assert found["mainWidth"] > 40 * 16, found  # the page's column widens for it
    finally:
        ctx.close()
