"""Every member in their language: which language a request gets (an explicit choice, a gym's
app's `?lang=`, the browser's Accept-Language, the deployment's default), the choice kept
across sign-in and sign-out, numbers and dates as each language writes them, and no English
left hard-coded anywhere (a pseudo-language run over every page)."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, SettingsError, create_app
from member_app.i18n import LOCALES_DIR, Languages, day, languages_in, number, points, relative, use
from member_app.i18n import clock as clock_of
from member_app.settings import MODES

from .crawl import render_every_page
from .helpers import (
    APP_URL,
    GOOD_ENV,
    FakeClock,
    SignIn,
    catalog_words,
    csrf_of,
    perkvilles_words,
    visible_text,
    write_catalog,
)

LANG = re.compile(r'<html lang="([^"]+)">')


def lang_of(html: str) -> str:
    found = LANG.search(html)
    assert found, html[:200]
    return found.group(1)


def app_for(settings: Settings, sandbox: Starlette, clock: FakeClock, **changes: Any) -> Starlette:
    changed = dataclasses.replace(settings, **changes)
    return create_app(changed, perkville_transport=httpx2.ASGITransport(app=sandbox), clock=clock)


@pytest.fixture
def browser(client: TestClient) -> TestClient:
    """The member's browser (the one `sign_in` signs in)."""
    return client


# --- which language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es", "es"),
        ("es-MX,es;q=0.9,en;q=0.8", "es"),  # Mexico's Spanish is served by Spanish
        ("fr-CA", "fr-CA"),
        ("fr-FR,fr;q=0.9", "fr-CA"),  # the only French there is
        ("de-DE,fr;q=0.5,es;q=0.8", "es"),  # by preference, not by order
        ("de-DE, pt-BR", "en"),  # none we have: the default
        ("*", "en"),
        ("es;q=0, en", "en"),  # q=0 means "not this one"
        ("es;q=abc,,;;,fr-CA", "fr-CA"),  # malformed entries are dropped
        ("", "en"),
    ],
)
def test_the_browsers_language_is_used_when_the_member_chose_none(
    browser: TestClient, header: str, expected: str
) -> None:
    page = browser.get("/", headers={"Accept-Language": header})
    assert lang_of(page.text) == expected
    assert page.headers["content-language"] == expected


def test_the_landing_page_speaks_the_language_it_says(browser: TestClient) -> None:
    for tag in ("es", "fr-CA"):
        page = browser.get("/", headers={"Accept-Language": tag})
        sign_in = catalog_words(tag, "Sign in")
        assert sign_in != "Sign in" and sign_in in visible_text(page.text), tag


def test_the_deployments_default_language_is_for_browsers_that_ask_for_none_we_have(
    settings: Settings, sandbox: Starlette, clock: FakeClock
) -> None:
    app = app_for(settings, sandbox, clock, default_language="fr-CA")
    with TestClient(app, base_url=APP_URL) as client:
        assert lang_of(client.get("/", headers={"Accept-Language": "de"}).text) == "fr-CA"
        assert lang_of(client.get("/", headers={"Accept-Language": "es"}).text) == "es"


def test_an_unknown_default_language_is_a_configuration_error() -> None:
    with pytest.raises(SettingsError, match="MEMBER_APP_DEFAULT_LANGUAGE"):
        Settings.from_env({**GOOD_ENV, "MEMBER_APP_DEFAULT_LANGUAGE": "xx"})
    chosen = Settings.from_env({**GOOD_ENV, "MEMBER_APP_DEFAULT_LANGUAGE": "es"})
    assert chosen.default_language == "es"


# --- the member's choice ----------------------------------------------------------------------


def choose(client: TestClient, lang: str, **extra: str) -> httpx2.Response:
    csrf = csrf_of(client, "/more") if extra.pop("signed_in", "") else ""
    form = {"lang": lang, "next": "/more", "csrf": csrf, **extra}
    return client.post("/language", data=form, headers={"Sec-Fetch-Site": "same-origin"})


def test_a_chosen_language_outranks_the_browser_and_outlives_sign_out_and_in(
    browser: TestClient, sign_in: SignIn
) -> None:
    assert sign_in().status_code == 303
    browser.headers["Accept-Language"] = "fr-CA"
    chosen = choose(browser, "es", signed_in="yes")
    assert chosen.status_code == 303 and chosen.headers["location"] == "/more"
    assert lang_of(browser.get("/more").text) == "es"

    signed_out = browser.post("/signout", data={"csrf": csrf_of(browser, "/more")})
    assert signed_out.status_code == 303
    assert lang_of(browser.get("/").text) == "es"
    assert sign_in().status_code == 303
    assert lang_of(browser.get("/").text) == "es"

    # "Automatic" goes back to the browser's language.
    choose(browser, "", signed_in="yes")
    assert lang_of(browser.get("/").text) == "fr-CA"


def test_a_signed_in_choice_needs_the_forms_token(browser: TestClient, sign_in: SignIn) -> None:
    assert sign_in().status_code == 303
    forged = browser.post("/language", data={"lang": "es", "next": "/more", "csrf": "forged"})
    assert forged.status_code == 403
    assert lang_of(browser.get("/more").text) == "en"


def test_a_signed_out_choice_must_come_from_this_site(browser: TestClient) -> None:
    """No session, no token: the browser's Fetch Metadata (or Origin) says where the form was."""
    for headers in (
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {},  # a request that says nothing about where it came from
    ):
        refused = browser.post("/language", data={"lang": "es", "next": "/"}, headers=headers)
        assert refused.status_code == 403, headers
        assert lang_of(browser.get("/").text) == "en"
    same = browser.post("/language", data={"lang": "es", "next": "/"}, headers={"Origin": APP_URL})
    assert same.status_code == 303
    assert lang_of(browser.get("/").text) == "es"


def test_a_choice_of_nothing_we_have_or_of_another_site_to_go_to_changes_nothing(
    browser: TestClient,
) -> None:
    odd = choose(browser, "xx")
    assert odd.status_code == 303 and "set-cookie" not in odd.headers
    away = choose(browser, "es", next="//evil.example/x")
    assert away.headers["location"] == "/more"  # never another site


def test_a_gyms_app_passes_its_language_on_the_address(
    settings: Settings, sandbox: Starlette, clock: FakeClock, browser: TestClient
) -> None:
    # On a member's own phone `?lang=` is not a way to change their choice ...
    assert lang_of(browser.get("/?lang=es").text) == "en"
    # ... inside a gym's app it is, and it is remembered for the pages that follow.
    app = app_for(settings, sandbox, clock, mode="webview")
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as client:
        assert lang_of(client.get("/offline?lang=fr-CA").text) == "fr-CA"
        assert lang_of(client.get("/offline").text) == "fr-CA"
        assert lang_of(client.get("/offline?lang=nope").text) == "fr-CA"
    # A phone visit that starts inside a gym's app (`?embed=1`) may pass it too.
    assert lang_of(browser.get("/offline?embed=1&lang=es").text) == "es"


def test_a_kiosk_choice_lasts_for_one_person(
    settings: Settings, sandbox: Starlette, clock: FakeClock
) -> None:
    app = app_for(settings, sandbox, clock, mode="kiosk")
    with TestClient(app, base_url=APP_URL, follow_redirects=False) as client:
        chosen = choose(client, "es")
        cookie = chosen.headers["set-cookie"]
        assert "max-age" not in cookie.lower()  # gone when the kiosk's browser closes
        assert lang_of(client.get("/").text) == "es"


# --- numbers and dates ------------------------------------------------------------------------


def test_numbers_dates_and_times_read_as_each_language_writes_them() -> None:
    moment = datetime(2026, 11, 27, 17, 15, tzinfo=ZoneInfo("America/Toronto"))
    expected = {
        "en": ("1,250", "Nov 27, 2026", "5:15\u202fPM", "in 3 days"),
        "es": ("1.250", "27 nov 2026", "17:15", "dentro de 3 días"),
        "fr-CA": ("1\u00a0250", "27 nov. 2026", "17 h 15", "dans 3 jours"),
    }
    languages = Languages.load("en")
    for tag, (grouped, when, at, soon) in expected.items():
        language = languages.exact(tag)
        assert language is not None
        use(language)
        assert number(1250) == grouped
        assert day(moment.date()) == when
        assert clock_of(moment) == at  # in the moment's own time zone, not the server's
        assert relative(timedelta(days=3)) == soon
        assert points(1) != points(2).replace("2", "1")  # singular and plural differ
    use(languages.default)


def test_points_read_in_the_members_language_on_home(browser: TestClient, sign_in: SignIn) -> None:
    assert sign_in().status_code == 303
    # The HTML itself: folding the text's whitespace would fold French's no-break spaces too.
    english = browser.get("/").text
    spanish = browser.get("/", headers={"Accept-Language": "es"}).text
    french = browser.get("/", headers={"Accept-Language": "fr-CA"}).text
    # Maya's lifetime points run into the thousands (the seed): grouped three ways.
    grouped = re.compile(r"\b\d{1,3}([,.\u00a0\u202f])\d{3}\b")
    assert {m.group(1) for m in grouped.finditer(english)} == {","}
    assert {m.group(1) for m in grouped.finditer(spanish)} == {"."}
    assert {m.group(1) for m in grouped.finditer(french)} <= {"\u00a0", "\u202f"}
    assert grouped.search(french)


# --- no English left: a pseudo-language ---------------------------------------------------------

PSEUDO = "el"  # Greek: its own month names and words, so English left over stands out
OPEN, CLOSE = "⟦", "⟧"
_KEEP = re.compile(r"(%\(\w+\)[sd]|%%|<[^>]+>|&\w+;|\{\w+\})")
_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥíĵķĺɱñöþǫŕšŧüṽŵẋýžÀƁÇĐÉƑĜĤÍĴĶĹṀÑÖÞǪŔŠŦÜṼŴẊÝŽ",
)


def pseudo(text: str) -> str:
    """`You have %(n)s <strong>points</strong>` → `⟦Ýöü ĥàṽé %(n)s <strong>þöíñŧš</strong>⟧`:
    placeholders, markup and entities kept, every letter of ours changed."""
    parts = _KEEP.split(text)
    return (
        OPEN + "".join(p if _KEEP.fullmatch(p) else p.translate(_ACCENTED) for p in parts) + CLOSE
    )


def pseudo_catalog(folder: Path) -> Path:
    with (LOCALES_DIR / "messages.pot").open("rb") as file:
        template = read_po(file)
    catalog = Catalog(locale=PSEUDO)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, str):
            catalog.add(message.id, pseudo(message.id), context=message.context)
        else:
            singular, plural = message.id[0], message.id[1]
            forms = [pseudo(singular)] + [pseudo(plural)] * (catalog.num_plurals - 1)
            catalog.add((singular, plural), tuple(forms), context=message.context)
    return write_catalog(folder, catalog)


_ATTRIBUTES = re.compile(r'\b(?:aria-label|alt|title|placeholder|data-working)="([^"]*)"')
_OURS = re.compile(re.escape(OPEN) + r"[^" + re.escape(CLOSE) + r"]*" + re.escape(CLOSE))
_WORD = re.compile(r"[A-Za-z]{2,}")


def english_left(html: str, data: list[str]) -> list[str]:
    texts = [visible_text(html), *_ATTRIBUTES.findall(html)]
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    if title:
        texts.append(title.group(1))
    left = []
    for text in texts:
        # Nested: a message with a message in a placeholder.
        while _OURS.search(text):
            text = _OURS.sub(" ", text)
        for words in data:
            text = text.replace(words, " ")
        text = re.sub(r"\S+@\S+|https?://\S+|/\S*", " ", text)  # addresses, links, paths
        left += _WORD.findall(text)
    return left


def test_no_english_is_left_hard_coded_on_any_page(
    tmp_path: Path,
    settings: Settings,
    sandbox: Starlette,
    sandbox_client: TestClient,
    clock: FakeClock,
) -> None:
    folder = pseudo_catalog(tmp_path)
    assert PSEUDO in {language.code for language in languages_in(folder)}
    pseudo_settings = dataclasses.replace(settings, locale_dir=str(folder), default_language=PSEUDO)
    data = perkvilles_words(sandbox)
    found: dict[str, list[str]] = {}

    def check(who: str, path: str, html: str) -> None:
        assert lang_of(html) == PSEUDO, (who, path)
        left = english_left(html, data)
        if left:
            found[f"{who} {path}"] = left

    for mode in MODES:
        render_every_page(check, mode, pseudo_settings, sandbox, sandbox_client, clock, PSEUDO)
    assert found == {}, "English not from a catalog:\n" + "\n".join(
        f"{page}: {' '.join(words)}" for page, words in found.items()
    )


def test_the_pseudo_check_finds_english(sandbox: Starlette) -> None:
    """The check above would fail on a page with English of ours left in it."""
    data = perkvilles_words(sandbox)
    page = f'<html lang="el"><main><p>{pseudo("You have")} 10</p><p>Use by</p></main></html>'
    assert english_left(page, data) == ["Use", "by"]
    assert english_left(f"<p>{pseudo('Redeem %(t)s') % {'t': 'Free smoothie'}}</p>", data) == []
