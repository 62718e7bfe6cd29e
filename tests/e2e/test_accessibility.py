"""Accessibility in a real browser: axe-core (WCAG 2.1 A and AA rules, via
axe-playwright-python) finds no violations on any page of tests/pages_to_check.py (signed
out, refused at sign-in, as Maya, as the pending member, as someone with no membership) in
every place the app runs: a phone (light and dark), a tablet-size window, the front-desk kiosk
(1080x1920, portrait) and inside a gym's app (webview). And the keyboard reaches the skip link
first, visibly."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, ViewportSize, expect

from member_app.brand import contrast
from member_app.sandbox.seed.gym import FRIEND_EMAIL
from member_app.settings import Mode

from ..browser import PHONE, sign_in, sign_in_at_perkville, submit_perkville_sign_in
from ..helpers import Servers, demo_servers
from ..pages_to_check import (
    OUTSIDER_EMAIL,
    SIGNED_IN,
    SIGNED_OUT_PAGES,
    WEBVIEW_SIGNED_OUT_PAGES,
)

pytestmark = pytest.mark.browser

# Violations only: axe then keeps no element lists for the rules that pass (much faster).
WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
AXE_SOURCE: str = Axe().axe_script
RUN_AXE = "options => axe.run(document, options).then(results => results.violations)"


@dataclass(frozen=True)
class Place:
    """Where a page is seen: the window's size and its colour scheme."""

    name: str
    viewport: ViewportSize
    scheme: Literal["light", "dark"]


TABLET: ViewportSize = {"width": 1024, "height": 768}
KIOSK: ViewportSize = {"width": 1080, "height": 1920}  # the front desk's portrait screen
# Each mode's places. Colour is checked light and dark on the phone; the other places change
# the layout and the frame (the rail beside the page, the kiosk's frame and attract screen, a
# gym's app with no header of ours), not the colours.
PLACES: dict[Mode, list[Place]] = {
    "phone": [
        Place("phone, light", PHONE, "light"),
        Place("phone, dark", PHONE, "dark"),
        Place("tablet", TABLET, "light"),
    ],
    "kiosk": [Place("kiosk", KIOSK, "light")],
    "webview": [Place("webview", PHONE, "light")],
}


def _go_to(page: Page, place: Place) -> None:
    page.set_viewport_size(place.viewport)
    page.emulate_media(color_scheme=place.scheme)


def _violations(page: Page, place: str = "") -> list[str]:
    """axe's violations on the page, one readable line per failing element."""
    if not page.evaluate("typeof axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_21_AA)
    lines = []
    for violation in violations:
        for node in violation["nodes"]:
            summary = " ".join(str(node.get("failureSummary", "")).split())
            lines.append(
                f"{place}{page.url}: [{violation['id']}, {violation['impact']}] "
                f"{violation['help']}\n"
                f"    at {node['target']}: {node['html'][:160]}\n    {summary}"
            )
    return lines


def _check_all(page: Page, base: str, paths: list[str], places: list[Place]) -> list[str]:
    """axe on each page, loaded afresh in each place."""
    found: list[str] = []
    for place in places:
        _go_to(page, place)
        for path in paths:
            response = page.goto(f"{base}{path}")
            # The page asked for, not a redirect elsewhere or a server error, is the one checked.
            assert response is not None and response.status < 500, (path, response)
            assert page.url == f"{base}{path}", (path, page.url)
            found += _violations(page, f"{place.name}: ")
    return found


def _refused(page: Page, servers: Servers, places: list[Place]) -> list[str]:
    """A member signs in at Perkville but denies the app: the app's problem page, in each
    place (the same page: loading its address again would be another answer). Riley, who has
    never allowed the app, so Perkville asks."""
    pkce = "?pkce=1" if servers.settings.identify else ""  # not the identify flow
    page.goto(f"{servers.app_url}/signin{pkce}")
    submit_perkville_sign_in(page, email=FRIEND_EMAIL)
    page.get_by_role("button", name="Deny").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(servers.app_url)}/auth/callback\?"))
    found = []
    for place in places:
        _go_to(page, place)
        found += _violations(page, f"{place.name}: ")
    return found


def _sign_in_as(page: Page, servers: Servers, email: str) -> None:
    """Signed in as the member with `email`, the way the mode signs members in."""
    app = servers.app_url
    if servers.settings.identify and email != OUTSIDER_EMAIL:
        # Inside a gym's app: signed in at Perkville already, recognised with no prompt.
        sign_in_at_perkville(page, servers.sandbox_url, email=email)
        page.goto(f"{app}/")
    elif servers.settings.identify:
        # Perkville identifies only the gym's own members: Alex signs in instead.
        page.goto(f"{app}/signin?pkce=1")
        submit_perkville_sign_in(page, email=email)
        page.get_by_role("button", name="Allow").click()
    elif servers.settings.kiosk:
        page.goto(f"{app}/")
        page.get_by_role("link", name="Tap to see your points").click()
        submit_perkville_sign_in(page, email=email)
        page.get_by_role("button", name="Allow").click()
    else:
        sign_in(page, app, email=email)
    expect(page).to_have_url(f"{app}/")


@pytest.fixture(scope="module")
def servers_in(servers: Servers) -> Iterator[Callable[[Mode], Servers]]:
    """The demo's servers in a mode: the module's own for the phone, the others started when
    first asked for and stopped with the module."""
    with contextlib.ExitStack() as stack:
        running: dict[Mode, Servers] = {"phone": servers}

        def start(mode: Mode) -> Servers:
            if mode not in running:
                running[mode] = stack.enter_context(demo_servers(mode=mode))
            return running[mode]

        yield start


@pytest.mark.parametrize("mode", list(PLACES))
def test_no_axe_violations_on_any_page(
    browser: Browser, servers_in: Callable[[Mode], Servers], mode: Mode
) -> None:
    """Every page in every place of the mode: signed out, refused at sign-in, then as each
    member in turn (each signs in once for all the places)."""
    servers = servers_in(mode)
    servers.reseed_sandbox()
    places = PLACES[mode]
    app = servers.app_url
    ctx = browser.new_context(has_touch=mode == "kiosk")
    ctx.set_default_timeout(5_000)
    ctx.add_init_script(AXE_SOURCE)  # in each page before its own scripts
    try:
        page = ctx.new_page()
        signed_out = WEBVIEW_SIGNED_OUT_PAGES if servers.settings.identify else SIGNED_OUT_PAGES
        found = _check_all(page, app, signed_out, places)
        found += _refused(page, servers, places)
        for _who, email, paths in SIGNED_IN:
            ctx.clear_cookies()
            _sign_in_as(page, servers, email)
            found += _check_all(page, app, paths, places)
    finally:
        ctx.close()  # its connections too, before the servers stop
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
