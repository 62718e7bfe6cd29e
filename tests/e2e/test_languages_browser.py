"""Every page in Spanish and in French (Canada), in Chromium, as a member whose phone reads
that language, on the smallest phone (320 px; both run longer than English): signing in
through Perkville's pages in it, every signed-out and member page in it (no English sentence
of ours, no console error, no axe violation, no sideways scrolling), redeeming with its
numbers, choosing another language on More and keeping it after signing out; and the kiosk's
language buttons, reset for the next person."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from member_app.i18n import Languages
from member_app.sandbox.seed import MEMBER_EMAIL, MEMBER_PASSWORD

from ..browser import PHONE
from ..helpers import Servers, catalog_words, demo_servers, perkvilles_words
from ..pages_to_check import SIGNED_IN, SIGNED_OUT_PAGES

pytestmark = pytest.mark.browser

LANGUAGES = Languages.load("en")
SMALL_PHONE: ViewportSize = {"width": 320, "height": 640}
AXE_SOURCE: str = Axe().axe_script
# WCAG 2.1 A and AA, violations only (as tests/e2e/test_accessibility.py).
RUN_AXE = """() => axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
  resultTypes: ["violations"],
}).then(found => found.violations.map(v => `${v.id}: ${v.nodes.map(n => n.target).join(" ")}`))"""
WIDER = "document.documentElement.scrollWidth > window.innerWidth"


def english_sentences(tag: str) -> list[str]:
    """Our English sentences (three words or more, no placeholder) that `tag` says otherwise:
    any of them on a page in `tag` would be English left behind."""
    language = LANGUAGES.exact(tag)
    assert language is not None
    # gettext's own table: msgid → text, "context\x04msgid" with a context, (msgid, n) for
    # the forms of a plural message.
    catalog: dict[object, str] = vars(language.translations)["_catalog"]
    found = []
    for key, text in catalog.items():
        if not isinstance(key, str) or not key:
            continue
        source = key.split("\x04")[-1]
        plain = re.sub(r"<[^>]+>", "", source)
        if len(plain.split()) >= 3 and "%" not in plain and "{" not in plain and text != source:
            found.append(plain)
    return found


@pytest.fixture
def reader(request: pytest.FixtureRequest, browser: Browser) -> Iterator[BrowserContext]:
    """A small phone whose browser reads the language (Accept-Language, navigator.language)."""
    ctx = browser.new_context(viewport=SMALL_PHONE, locale=request.param, has_touch=True)
    ctx.set_default_timeout(5_000)
    ctx.add_init_script(AXE_SOURCE)
    try:
        yield ctx
    finally:
        ctx.close()


def sign_in_in(page: Page, app_url: str, tag: str, email: str = MEMBER_EMAIL) -> None:
    """Through the landing page and Perkville's sign-in and consent pages, all in `tag`."""
    page.goto(f"{app_url}/")
    expect(page.locator("html")).to_have_attribute("lang", tag)
    page.get_by_role("link", name=catalog_words(tag, "Sign in with Perkville")).click()
    expect(page.locator("html")).to_have_attribute("lang", tag)  # Perkville's page too
    page.get_by_label(catalog_words(tag, "Email"), exact=True).fill(email)
    page.get_by_label(catalog_words(tag, "Password"), exact=True).fill(MEMBER_PASSWORD)
    page.get_by_role("button", name=catalog_words(tag, "Sign in"), exact=True).click()
    page.get_by_role("button", name=catalog_words(tag, "Allow", "consent")).click()
    page.wait_for_url(f"{app_url}/")


@pytest.mark.parametrize("reader", ["es", "fr-CA"], indirect=True)
def test_every_member_page_reads_in_the_members_language(
    reader: BrowserContext, servers: Servers
) -> None:
    page = reader.new_page()
    tag = str(page.evaluate("navigator.language"))
    servers.reseed_sandbox()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    data = set(perkvilles_words(servers.sandbox))  # a reward may be called "Refer a friend"
    english = [sentence for sentence in english_sentences(tag) if sentence not in data]
    tabs = [catalog_words(tag, name, "tab") for name in ("Home", "Earn", "Rewards", "Vouchers")]
    problems: dict[str, list[str]] = {}

    def check(path: str, who: str) -> None:
        response = page.goto(f"{servers.app_url}{path}")
        assert response is not None and response.status < 500, (path, response)
        if response.status >= 400:  # a page that is a 404 by design: its own load "failed"
            errors[:] = [e for e in errors if not e.startswith("Failed to load resource")]
        expect(page.locator("html")).to_have_attribute("lang", tag)
        text = " ".join(page.locator("body").inner_text().split())
        found = [f"English: {sentence}" for sentence in english if sentence in text]
        found += [f"axe {violation}" for violation in page.evaluate(RUN_AXE)]
        if page.evaluate(WIDER):
            found.append("scrolls sideways at 320 px")
        if found:
            problems[f"{who} {path}"] = found
        if who != "signed out":
            nav = page.get_by_role(
                "navigation", name=catalog_words(tag, "Main", "the navigation landmark")
            )
            for name in tabs:
                expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()

    for path in SIGNED_OUT_PAGES:
        check(path, "signed out")
    # Maya, then the member who hasn't joined, then the one with no membership at all.
    for who, email, paths in SIGNED_IN:
        reader.clear_cookies()
        sign_in_in(page, servers.app_url, tag, email)
        for path in paths:
            check(path, who)
    assert problems == {}, f"on {tag} pages: {problems}"
    assert errors == []


@pytest.fixture
def spanish_member(browser: Browser, servers: Servers) -> Iterator[Page]:
    """Maya, signed in on a phone that reads Spanish, on a fresh demo gym."""
    servers.reseed_sandbox()
    ctx = browser.new_context(viewport=PHONE, locale="es", has_touch=True)
    ctx.set_default_timeout(5_000)
    try:
        page = ctx.new_page()
        sign_in_in(page, servers.app_url, "es")
        yield page
    finally:
        ctx.close()


def test_redeeming_in_spanish_says_the_new_balance_as_spanish_writes_it(
    spanish_member: Page, servers: Servers
) -> None:
    page = spanish_member
    page.goto(f"{servers.app_url}/rewards")
    page.locator('a[href*="/redeem"]').first.click()
    button = page.locator("main form[method=post] button[type=submit]").last
    expect(button).to_contain_text(re.compile(r"\d"))
    button.click()
    expect(page).to_have_url(re.compile(r"/vouchers/\d+\?redeemed=1$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    balance = page.get_by_test_id("new-balance").inner_text()
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*", balance), balance  # 1.100, never 1,100


def test_a_language_chosen_on_more_outranks_the_browser_and_outlives_signing_out(
    spanish_member: Page, servers: Servers
) -> None:
    page = spanish_member
    page.goto(f"{servers.app_url}/more")
    page.get_by_label(catalog_words("es", "Show this app in")).select_option("fr-CA")
    page.get_by_role("button", name=catalog_words("es", "Change language")).click()
    expect(page).to_have_url(f"{servers.app_url}/more")
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    page.get_by_role("button", name=catalog_words("fr-CA", "Sign out")).first.click()
    expect(page).to_have_url(re.compile(r"/\?signed_out=1$"))
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")  # the browser says es


@pytest.fixture(scope="module")
def kiosk() -> Iterator[Servers]:
    with demo_servers(mode="kiosk") as running:
        yield running


def test_the_kiosk_speaks_the_language_tapped_until_the_member_is_done(
    browser: Browser, kiosk: Servers
) -> None:
    ctx = browser.new_context(viewport={"width": 1080, "height": 1920}, has_touch=True)
    ctx.set_default_timeout(5_000)
    try:
        page = ctx.new_page()
        page.goto(f"{kiosk.app_url}/")
        languages = page.get_by_role("navigation", name="Language")
        languages.get_by_role("button", name="Español").click()
        expect(page.locator("html")).to_have_attribute("lang", "es")
        spanish = page.get_by_role("navigation", name=catalog_words("es", "Language"))
        expect(spanish.get_by_role("button", name="Español")).to_have_attribute(
            "aria-pressed", "true"
        )
        page.get_by_role("link", name=catalog_words("es", "Tap to see your points")).click()
        page.get_by_label(catalog_words("es", "Email"), exact=True).fill(MEMBER_EMAIL)
        page.get_by_label(catalog_words("es", "Password"), exact=True).fill(MEMBER_PASSWORD)
        page.get_by_role("button", name=catalog_words("es", "Sign in"), exact=True).click()
        page.get_by_role("button", name=catalog_words("es", "Allow", "consent")).click()
        page.wait_for_url(f"{kiosk.app_url}/")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        done = catalog_words("es", "Done", "the kiosk's button that ends a member's visit")
        page.get_by_role("button", name=done).click()
        # The next person starts in the kiosk's own language.
        expect(page.get_by_role("link", name="Tap to see your points")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        ctx.close()
