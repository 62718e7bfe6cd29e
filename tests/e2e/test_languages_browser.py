"""Every page in Spanish and in French (Canada), in Chromium, as a member whose phone reads
that language: signing in through Perkville's pages in it, every member page in it (no
English sentence of ours on any, no console error), redeeming with its numbers, choosing
another language on More and keeping it after signing out; and the kiosk's language
buttons, reset for the next person."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from member_app.i18n import Languages
from member_app.sandbox.seed import MEMBER_EMAIL, MEMBER_PASSWORD

from ..browser import PHONE
from ..helpers import Servers, demo_servers, perkvilles_words
from ..pages_to_check import MEMBER_PAGES

pytestmark = pytest.mark.browser

LANGUAGES = Languages.load("en")


def words(tag: str, message: str, context: str | None = None) -> str:
    """`message` as the catalog of `tag` says it."""
    language = LANGUAGES.exact(tag)
    assert language is not None
    if context is None:
        return language.translations.gettext(message)
    return str(language.translations.pgettext(context, message))


def english_sentences(tag: str) -> list[str]:
    """Our English sentences (three words or more, no placeholder) that `tag` says otherwise:
    any of them on a page in `tag` would be English left behind."""
    language = LANGUAGES.exact(tag)
    assert language is not None
    # gettext's own table: msgid → text, "context\x04msgid" with a context, (msgid, n) for
    # the forms of a plural message.
    catalog: dict[object, str] = language.translations._catalog  # type: ignore[attr-defined]
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
    """A phone whose browser reads the language (Accept-Language, navigator.language)."""
    ctx = browser.new_context(viewport=PHONE, locale=request.param, has_touch=True)
    ctx.set_default_timeout(5_000)
    try:
        yield ctx
    finally:
        ctx.close()


def sign_in_in(page: Page, app_url: str, tag: str) -> None:
    """Through the landing page and Perkville's sign-in and consent pages, all in `tag`."""
    page.goto(f"{app_url}/")
    expect(page.locator("html")).to_have_attribute("lang", tag)
    page.get_by_role("link", name=words(tag, "Sign in with Perkville")).click()
    expect(page.locator("html")).to_have_attribute("lang", tag)  # Perkville's page too
    page.get_by_label(words(tag, "Email"), exact=True).fill(MEMBER_EMAIL)
    page.get_by_label(words(tag, "Password"), exact=True).fill(MEMBER_PASSWORD)
    page.get_by_role("button", name=words(tag, "Sign in"), exact=True).click()
    page.get_by_role("button", name=words(tag, "Allow", "consent")).click()
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
    sign_in_in(page, servers.app_url, tag)
    data = set(perkvilles_words(servers.sandbox))  # a reward may be called "Refer a friend"
    english = [sentence for sentence in english_sentences(tag) if sentence not in data]
    tabs = [words(tag, name, "tab") for name in ("Home", "Earn", "Rewards", "Vouchers")]
    left: dict[str, list[str]] = {}
    for path in MEMBER_PAGES:
        response = page.goto(f"{servers.app_url}{path}")
        assert response is not None and response.status < 500, (path, response)
        if response.status >= 400:  # a page that is a 404 by design: its own load "failed"
            errors[:] = [e for e in errors if not e.startswith("Failed to load resource")]
        expect(page.locator("html")).to_have_attribute("lang", tag)
        text = " ".join(page.locator("body").inner_text().split())
        found = [sentence for sentence in english if sentence in text]
        if found:
            left[path] = found
        nav = page.get_by_role("navigation", name=words(tag, "Main", "the navigation landmark"))
        for name in tabs:
            expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert left == {}, f"English on {tag} pages: {left}"
    assert errors == []


@pytest.mark.parametrize("reader", ["es"], indirect=True)
def test_redeeming_in_spanish_says_the_new_balance_as_spanish_writes_it(
    reader: BrowserContext, servers: Servers
) -> None:
    page = reader.new_page()
    servers.reseed_sandbox()
    sign_in_in(page, servers.app_url, "es")
    page.goto(f"{servers.app_url}/rewards")
    page.locator('a[href*="/redeem"]').first.click()
    button = page.locator("main form[method=post] button[type=submit]").last
    expect(button).to_contain_text(re.compile(r"\d"))
    button.click()
    expect(page).to_have_url(re.compile(r"/vouchers/\d+\?redeemed=1$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    balance = page.get_by_test_id("new-balance").inner_text()
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*", balance), balance  # 1.100, never 1,100


@pytest.mark.parametrize("reader", ["es"], indirect=True)
def test_a_language_chosen_on_more_outranks_the_browser_and_outlives_signing_out(
    reader: BrowserContext, servers: Servers
) -> None:
    page = reader.new_page()
    servers.reseed_sandbox()
    sign_in_in(page, servers.app_url, "es")
    page.goto(f"{servers.app_url}/more")
    page.get_by_label(words("es", "Show this app in")).select_option("fr-CA")
    page.get_by_role("button", name=words("es", "Change language")).click()
    expect(page).to_have_url(f"{servers.app_url}/more")
    expect(page.locator("html")).to_have_attribute("lang", "fr-CA")
    page.get_by_role("button", name=words("fr-CA", "Sign out")).first.click()
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
        spanish = page.get_by_role("navigation", name=words("es", "Language"))
        expect(spanish.get_by_role("button", name="Español")).to_have_attribute(
            "aria-pressed", "true"
        )
        page.get_by_role("link", name=words("es", "Tap to see your points")).click()
        page.get_by_label(words("es", "Email"), exact=True).fill(MEMBER_EMAIL)
        page.get_by_label(words("es", "Password"), exact=True).fill(MEMBER_PASSWORD)
        page.get_by_role("button", name=words("es", "Sign in"), exact=True).click()
        page.get_by_role("button", name=words("es", "Allow", "consent")).click()
        page.wait_for_url(f"{kiosk.app_url}/")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        done = words("es", "Done", "the kiosk's button that ends a member's visit")
        page.get_by_role("button", name=done).click()
        # The next person starts in the kiosk's own language.
        expect(page.get_by_role("link", name="Tap to see your points")).to_be_visible()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        ctx.close()
