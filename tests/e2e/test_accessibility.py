"""Accessibility in a real browser: axe-core (WCAG 2.1 A and AA rules, via
axe-playwright-python) finds no violations on any page, signed out, signed in and as a
pending member; and the keyboard reaches the skip link first, visibly."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page, expect

from member_app.brand import contrast
from member_app.sandbox.seed import PENDING_EMAIL

from ..browser import sign_in
from ..helpers import Servers
from ..pages_to_check import MEMBER_PAGES, PENDING_PAGES, SIGNED_OUT_PAGES

pytestmark = pytest.mark.browser

WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
AXE = Axe()


def _violations(page: Page) -> list[str]:
    """axe's violations on the page, one readable line per failing element."""
    response: dict[str, Any] = AXE.run(page, options=WCAG_21_AA).response
    lines = []
    for violation in response["violations"]:
        for node in violation["nodes"]:
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(
                f"{page.url}: [{violation['id']}, {violation['impact']}] {violation['help']}\n"
                f"    at {node['target']}: {node['html'][:160]}\n    {summary}"
            )
    return lines


def _check_all(page: Page, base: str, paths: list[str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("load")
        found += _violations(page)
    return found


def test_no_axe_violations_on_any_page(scheme_page: Page, servers: Servers) -> None:
    page = scheme_page
    found = _check_all(page, servers.app_url, SIGNED_OUT_PAGES)
    sign_in(page, servers.app_url)
    found += _check_all(page, servers.app_url, MEMBER_PAGES)
    page.context.clear_cookies()
    sign_in(page, servers.app_url, email=PENDING_EMAIL)
    found += _check_all(page, servers.app_url, PENDING_PAGES)
    assert not found, f"{len(found)} axe violation(s):\n" + "\n".join(found)


def test_tab_reaches_the_visible_skip_link_first(scheme_page: Page, servers: Servers) -> None:
    page = scheme_page
    for signed_in in (False, True):
        if signed_in:
            sign_in(page, servers.app_url)
        page.goto(f"{servers.app_url}/")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_visible()
        box = skip.bounding_box()
        assert box is not None and box["width"] > 1 and box["height"] > 1, box
        assert box["y"] >= 0 and box["x"] >= 0, box  # on screen, not parked off it
        page.keyboard.press("Enter")
        expect(page.locator("main#main")).to_be_focused()


# What a focused element's ring looks like, and the colour it is drawn on: the first opaque
# background behind the element's parent (the ring sits outside the element).
_FOCUS_RING = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let behind = el.parentElement, bg = "rgb(255, 255, 255)";
  for (; behind; behind = behind.parentElement) {
    const c = getComputedStyle(behind).backgroundColor;
    if (c !== "transparent" && !c.endsWith(", 0)")) { bg = c; break; }
  }
  return {html: el.outerHTML.slice(0, 120), tag: el.tagName, outlineStyle: style.outlineStyle,
          outlineWidth: parseFloat(style.outlineWidth), outlineColor: style.outlineColor, bg};
}"""


def _rgb(css: str) -> tuple[int, int, int]:
    parts = css[css.index("(") + 1 : css.index(")")].replace(",", " ").split()
    r, g, b = (round(float(p)) for p in parts[:3])
    return r, g, b


def _tab_through(page: Page, presses: int = 40) -> list[str]:
    """Tab through the page; every focused control must show a ring of 3:1 contrast."""
    problems: list[str] = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        ring = page.evaluate(_FOCUS_RING)
        if ring["tag"] == "BODY":
            break
        ratio = contrast(_rgb(ring["outlineColor"]), _rgb(ring["bg"]))
        if ring["outlineStyle"] == "none" or ring["outlineWidth"] < 2 or ratio < 3:
            problems.append(f"{page.url}: {ring} (contrast {ratio:.2f})")
    return problems


def test_every_control_shows_a_visible_focus_ring(scheme_page: Page, servers: Servers) -> None:
    page = scheme_page
    page.goto(f"{servers.app_url}/")
    problems = _tab_through(page)
    sign_in(page, servers.app_url)
    for path in ("/", "/rewards", "/vouchers/52005", "/referrals"):
        page.goto(f"{servers.app_url}{path}")
        problems += _tab_through(page)
    assert not problems, "focus rings missing or too faint:\n" + "\n".join(problems)


def test_axe_run_reports_a_planted_violation(page: Page, servers: Servers) -> None:
    """The check above really runs axe in these pages (their CSP allows it)."""
    page.goto(f"{servers.app_url}/")
    page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=x>')")
    assert any("image-alt" in line for line in _violations(page))
