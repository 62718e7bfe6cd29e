"""Layout and weight in a real browser.

* Every page, from 320 px (a small phone, 320x640) to 1440 px wide, fits the window: no
  horizontal scrolling.
* The navigation (Home, Earn, Rewards, Vouchers, More) is in view without scrolling, and
  stays in view when the page is scrolled, on the member's home and rewards pages: on a
  phone (the tab bar), a tablet or laptop (1024x768), a desktop (1440x900) and the front-desk
  kiosk standing up (1080x1920, the demo in kiosk mode).
* At phone width (390 px) every visible control is a touch target at least 44 px tall (and
  44 px wide when it shows no text, i.e. an icon), except links inside a sentence or block of
  text (WCAG 2.5.5's inline exception). A checkbox counts with its label.
* Page weight, as the network really carries it (Chromium's encoded byte counts, headers
  included, via CDP `Network.loadingFinished`): the home page's first load with a cold cache
  is at most 50 KB, and each later page (warm cache: the document and whatever is not cached
  yet) at most 15 KB.

Members are signed in once per module; each browser context reuses that storage state. The
service worker is blocked here: it would answer navigations itself and hide what the network
carries (its pre-cache is a one-off background fetch after the first load).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, StorageState, expect

from member_app.sandbox.seed import MEMBER_EMAIL, PENDING_EMAIL
from member_app.settings import Mode

from ..browser import PHONE, sign_in, submit_perkville_sign_in
from ..helpers import Servers, demo_servers
from ..pages_to_check import MEMBER_PAGES, PENDING_PAGES, SIGNED_OUT_PAGES

pytestmark = pytest.mark.browser

# 390 is between 320 and 768 in the same (phone) layout: what fits at 320 fits there.
WIDTHS = [320, 768, 1024, 1440]
HEIGHT = 844
SMALL_PHONE_HEIGHT = 640  # 320 px wide: a small phone (iPhone SE 1st generation)
TABS = ["Home", "Earn", "Rewards", "Vouchers", "More options"]  # "More" + hidden " options"
MIN_TARGET = 44  # CSS px, WCAG 2.5.5 (AAA): a target a thumb can hit
FIRST_LOAD_LIMIT = 50 * 1024
LATER_PAGE_LIMIT = 15 * 1024


@dataclass(frozen=True)
class Members:
    """Signed-in browser state, ready to load into a fresh context."""

    maya: StorageState
    pending: StorageState


@pytest.fixture(scope="module")
def members(browser: Browser, servers: Servers) -> Members:
    servers.reseed_sandbox()
    states: list[StorageState] = []
    for email in (MEMBER_EMAIL, PENDING_EMAIL):
        ctx = browser.new_context(viewport=PHONE, service_workers="block")
        ctx.set_default_timeout(5_000)
        try:
            sign_in(ctx.new_page(), servers.app_url, email=email)
            states.append(ctx.storage_state())
        finally:
            ctx.close()
    return Members(maya=states[0], pending=states[1])


def _context(browser: Browser, width: int, state: StorageState | None = None) -> BrowserContext:
    ctx = browser.new_context(
        viewport={"width": width, "height": SMALL_PHONE_HEIGHT if width <= 320 else HEIGHT},
        storage_state=state,
        service_workers="block",
    )
    ctx.set_default_timeout(5_000)
    return ctx


def _every_page(browser: Browser, servers: Servers, members: Members, width: int) -> Iterator[Page]:
    """Each page to check, loaded in turn, at `width`: Maya's, the pending member's, then the
    signed-out ones. One context per kind of visitor."""
    for state, paths in (
        (members.maya, MEMBER_PAGES),
        (members.pending, PENDING_PAGES),
        (None, SIGNED_OUT_PAGES),
    ):
        ctx = _context(browser, width, state)
        try:
            page = ctx.new_page()
            for path in paths:
                page.goto(f"{servers.app_url}{path}")
                yield page
        finally:
            ctx.close()


_OVERFLOW = """() => {
  const doc = document.documentElement, limit = window.innerWidth;
  const wide = [];
  if (doc.scrollWidth > limit) for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.right > limit + 0.5 && r.width > 0) {
      wide.push(`<${el.tagName.toLowerCase()} class="${el.className.baseVal ?? el.className}">`
                + ` right=${Math.round(r.right)}`);
    }
  }
  return {scrollWidth: doc.scrollWidth, innerWidth: limit, wide: wide.slice(0, 5)};
}"""


def test_no_horizontal_scrolling_from_320_to_1440_px(
    browser: Browser, servers: Servers, members: Members
) -> None:
    offenders: list[str] = []
    for width in WIDTHS:
        for page in _every_page(browser, servers, members, width):
            found: dict[str, Any] = page.evaluate(_OVERFLOW)
            if found["scrollWidth"] > found["innerWidth"]:
                path = page.url.removeprefix(servers.app_url)
                offenders.append(
                    f"{width}px {path}: scrollWidth {found['scrollWidth']} > "
                    f"{found['innerWidth']}; too wide: {', '.join(found['wide'])}"
                )
    assert not offenders, "pages scroll sideways:\n" + "\n".join(offenders)


# Where each of the navigation's links is, against the window (CSS px).
_NAV = r"""(labels) => {
  const nav = document.querySelector("nav[aria-label=Main]");
  if (!nav) return null;
  const links = [...nav.querySelectorAll("a")];
  return labels.map((label) => {
    const link = links.find((a) => a.innerText.trim().split(/\s+/).join(" ") === label);
    if (!link || !link.checkVisibility()) return {label, missing: true};
    const r = link.getBoundingClientRect();
    return {label, left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  });
}"""


def _out_of_view(page: Page, where: str) -> list[str]:
    """Each navigation link not wholly inside the window, described."""
    window = page.viewport_size
    assert window is not None
    boxes = page.evaluate(_NAV, TABS)
    if boxes is None:
        return [f"{where}: no navigation"]
    return [
        f"{where}: {box['label']} "
        + ("missing" if box.get("missing") else f"at {box['top']:.0f}..{box['bottom']:.0f}")
        for box in boxes
        if box.get("missing")
        or box["top"] < 0
        or box["left"] < 0
        or box["bottom"] > window["height"] + 0.5
        or box["right"] > window["width"] + 0.5
    ]


def _navigation_in_view(page: Page, app_url: str, label: str) -> list[str]:
    problems: list[str] = []
    for path in ("/", "/rewards"):
        page.goto(f"{app_url}{path}")
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        assert page.evaluate("window.scrollY") == 0
        problems += _out_of_view(page, f"{label} {path}")
        # ... and it stays there when the member scrolls to the end of the page.
        page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
        page.wait_for_function(
            "window.scrollY > 0 || document.documentElement.scrollHeight <= window.innerHeight"
        )
        problems += _out_of_view(page, f"{label} {path} scrolled")
    return problems


SIZES: list[tuple[Mode, int, int]] = [
    ("phone", 390, 844),
    ("phone", 1024, 768),
    ("phone", 1440, 900),
    ("kiosk", 1080, 1920),
]


@pytest.mark.parametrize(
    ("mode", "width", "height"), SIZES, ids=[f"{m}-{w}x{h}" for m, w, h in SIZES]
)
def test_navigation_is_in_view_without_scrolling(
    browser: Browser, servers: Servers, members: Members, mode: Mode, width: int, height: int
) -> None:
    label = f"{width}x{height}"
    if mode == "phone":
        ctx = browser.new_context(
            viewport={"width": width, "height": height},
            storage_state=members.maya,
            service_workers="block",
        )
        try:
            ctx.set_default_timeout(5_000)
            problems = _navigation_in_view(ctx.new_page(), servers.app_url, label)
        finally:
            ctx.close()
    else:
        # The kiosk: its own demo, the member signing in at the front desk.
        with demo_servers(mode="kiosk", kiosk_idle_seconds=600) as kiosk:
            ctx = browser.new_context(viewport={"width": width, "height": height}, has_touch=True)
            try:
                ctx.set_default_timeout(5_000)
                page = ctx.new_page()
                page.goto(f"{kiosk.app_url}/signin")
                submit_perkville_sign_in(page)
                page.get_by_role("button", name="Allow").click()
                page.wait_for_url(f"{kiosk.app_url}/")
                expect(page.get_by_role("button", name="Done")).to_be_visible()
                problems = _navigation_in_view(page, kiosk.app_url, f"kiosk {label}")
            finally:
                ctx.close()
    assert not problems, "navigation out of view:\n" + "\n".join(problems)


# Every visible control's box. A link is "inline" (exempt) when it flows inside a block that
# has text of its own besides the link. A checkbox or radio is measured with its label.
_TARGETS = """(minimum) => {
  const small = [];
  const describe = (el) => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim();
    return `<${el.tagName.toLowerCase()}${el.type ? ` type=${el.type}` : ""}`
      + `${el.className && typeof el.className === "string" ? ` class="${el.className}"` : ""}>`
      + ` "${text.replace(/\\s+/g, " ").slice(0, 40)}"`;
  };
  const isInline = (el) => {
    if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display.startsWith("inline")) {
      block = block.parentElement;
    }
    if (!block) return false;
    const own = (block.textContent || "").replace(el.textContent || "", "").trim();
    return own.length > 0;
  };
  const boxOf = (el) => {
    const r = el.getBoundingClientRect();
    let width = r.width, height = r.height;
    if (el.tagName === "INPUT" && (el.type === "checkbox" || el.type === "radio")) {
      for (const label of el.labels || []) {
        const l = label.getBoundingClientRect();
        width = Math.max(width, l.width);
        height = Math.max(height, l.height);
      }
    }
    return {width, height, top: r.top + window.scrollY, bottom: r.bottom + window.scrollY};
  };
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary,"
    + " label[for]";
  for (const el of document.querySelectorAll(selector)) {
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
    if (el.tagName === "LABEL") {
      const control = el.control;
      if (!control || !["checkbox", "radio"].includes(control.type)) continue;
    }
    const box = boxOf(el);
    if (box.bottom <= 0 || box.width < 2 || box.height < 2) continue;  // off screen, sr-only
    if (isInline(el)) continue;
    const iconOnly = !(el.innerText || el.value || "").trim()
      && !["INPUT", "SELECT", "TEXTAREA"].includes(el.tagName);
    if (box.height < minimum - 0.5 || (iconOnly && box.width < minimum - 0.5)) {
      small.push(`${describe(el)} is ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""


def test_touch_targets_are_at_least_44_px_on_a_phone(
    browser: Browser, servers: Servers, members: Members
) -> None:
    offenders: list[str] = []
    for page in _every_page(browser, servers, members, PHONE["width"]):
        path = page.url.removeprefix(servers.app_url)
        offenders += [f"{path}: {line}" for line in page.evaluate(_TARGETS, MIN_TARGET)]
    assert not offenders, f"{len(offenders)} touch target(s) under {MIN_TARGET}px:\n" + "\n".join(
        offenders
    )


@dataclass
class Transfers:
    """What the network carried for one page target, per request (CDP's encoded byte counts:
    headers and the body as sent, compressed or not)."""

    session: CDPSession
    urls: dict[str, str] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, float] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)

    @classmethod
    def watch(cls, context: BrowserContext, page: Page) -> Transfers:
        session = context.new_cdp_session(page)
        transfers = cls(session)
        session.on("Network.requestWillBeSent", transfers._sent)
        session.on("Network.loadingFinished", transfers._finished)
        session.on("Network.loadingFailed", transfers._failed)
        session.send("Network.enable")
        return transfers

    def _sent(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]
        self.documents[event["requestId"]] = event["documentURL"]

    def _finished(self, event: dict[str, Any]) -> None:
        self.sizes[event["requestId"]] = event["encodedDataLength"]

    def _failed(self, event: dict[str, Any]) -> None:
        self.failed.add(event["requestId"])

    def load(self, page: Page, url: str) -> tuple[float, list[str]]:
        """Load `url` and wait until every request it made has finished; the bytes carried,
        and one line per request that carried any."""
        for seen in (self.urls, self.documents, self.sizes):
            seen.clear()
        self.failed.clear()
        page.goto(url)  # waits for the load event: the document, styles, scripts and images
        # Only this document's requests: a late event from the page before may still arrive.
        mine: set[str] = set()
        for _ in range(100):  # CDP's last events may trail the load event
            # The live updates' event stream never finishes by design: it is not page weight.
            mine = {
                rid
                for rid, doc in self.documents.items()
                if doc == page.url and not self.urls[rid].endswith("/live")
            }
            if mine <= set(self.sizes) | self.failed:
                break
            page.wait_for_timeout(20)
        else:
            missing = [self.urls[r] for r in mine - set(self.sizes) - self.failed]
            pytest.fail(f"{url}: requests still unfinished after 2 s: {missing}")
        sizes = {rid: self.sizes[rid] for rid in mine if rid in self.sizes}
        lines = [
            f"    {size:>8,.0f} B  {self.urls[rid]}"
            for rid, size in sorted(sizes.items(), key=lambda item: -item[1])
            if size > 0
        ]
        return sum(sizes.values()), lines


def test_home_first_load_and_later_pages_are_light(
    browser: Browser, servers: Servers, members: Members
) -> None:
    ctx = _context(browser, PHONE["width"], members.maya)
    report: list[str] = []
    too_heavy: list[str] = []
    try:
        page = ctx.new_page()
        transfers = Transfers.watch(ctx, page)
        total, lines = transfers.load(page, f"{servers.app_url}/")
        report += [f"/ (first load, cold cache): {total:,.0f} B", *lines]
        if total > FIRST_LOAD_LIMIT:
            too_heavy.append(f"/ first load {total:,.0f} B > {FIRST_LOAD_LIMIT:,} B")
        for path in [p for p in MEMBER_PAGES if p != "/"]:
            total, lines = transfers.load(page, f"{servers.app_url}{path}")
            report += [f"{path} (warm cache): {total:,.0f} B", *lines]
            if total > LATER_PAGE_LIMIT:
                too_heavy.append(f"{path} {total:,.0f} B > {LATER_PAGE_LIMIT:,} B")
    finally:
        ctx.close()
    # The landing page is a newcomer's first load: the same budget as the home page's.
    newcomer = _context(browser, PHONE["width"])
    try:
        page = newcomer.new_page()
        total, lines = Transfers.watch(newcomer, page).load(page, f"{servers.app_url}/")
        report += [f"/ signed out (first load, cold cache): {total:,.0f} B", *lines]
        if total > FIRST_LOAD_LIMIT:
            too_heavy.append(f"landing first load {total:,.0f} B > {FIRST_LOAD_LIMIT:,} B")
    finally:
        newcomer.close()
    print("\nTransferred:\n" + "\n".join(report))
    assert not too_heavy, "\n".join(too_heavy) + "\n\nTransferred:\n" + "\n".join(report)
