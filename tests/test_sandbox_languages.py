"""The languages of the sandbox's pages: the browser's (`Accept-Language`), or the one an
authorization asks for with OpenID Connect's `ui_locales` (default profile), over HTTP.

The sandbox offers the app's catalogs (`member_app/locales`). The tests on those compute what
they expect from the catalogs compiled there (`i18n.languages_in()`), and skip what needs a
Spanish one until it exists; `test_ui_locales_carries_through_sign_in_and_consent` builds a
small Spanish catalog of its own, so the round trip is checked whatever is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
from babel.messages.catalog import Catalog
from starlette.testclient import TestClient

from member_app import i18n
from member_app.sandbox import create_sandbox

from .helpers import APP_URL, SANDBOX_URL, FakeClock, visible_text, write_catalog
from .sandbox_helpers import (
    AUTHORIZE_PATH,
    MEMBER_EMAIL,
    MEMBER_PASSWORD,
    authorize_params,
    consent,
    pkce_pair,
    query_of,
    sign_in,
)

_LANG = re.compile(r'<html lang="([^"]*)"')


def _lang(page: httpx2.Response) -> str:
    found = _LANG.search(page.text)
    assert found is not None, page.text[:200]
    return found.group(1)


def _offered() -> i18n.Languages:
    """The languages the sandbox offers: English and the app's compiled catalogs."""
    return i18n.Languages.load(i18n.SOURCE)


def _browser_choice(accept_language: str) -> str:
    """The tag the sandbox picks for this `Accept-Language` with what is compiled now."""
    languages = _offered()
    return (languages.best_for(accept_language) or languages.default).tag


def _needs_spanish() -> None:
    if _offered().exact("es") is None:
        pytest.skip("no Spanish catalog is compiled in member_app/locales yet")


def _login_page(
    client: TestClient, *, ui_locales: str | None = None, accept_language: str = ""
) -> httpx2.Response:
    """GET /api/authorize/ signed out (with `ui_locales` if given), then the sign-in page it
    sends the browser to, in a browser that asks for `accept_language`."""
    _, challenge = pkce_pair()
    params = authorize_params(challenge)
    if ui_locales is not None:
        params["ui_locales"] = ui_locales
    headers = {"Accept-Language": accept_language}
    response = client.get(AUTHORIZE_PATH, params=params, headers=headers)
    assert response.status_code == 303, response.text
    login_url = response.headers["location"]
    assert urlsplit(login_url).path == "/login/"
    assert "ui_locales" not in query_of(query_of(login_url)["next"])  # it lives in the session
    page = client.get(login_url, headers=headers)
    assert page.status_code == 200, page.text
    return page


@pytest.fixture
def reference(clock: FakeClock) -> Iterator[TestClient]:
    """A client of the sandbox in its reference profile."""
    app = create_sandbox(redirect_uris=[f"{APP_URL}/auth/callback"], profile="reference")
    app.state.store.clock = clock.utc
    with TestClient(app, base_url=SANDBOX_URL, follow_redirects=False) as client:
        yield client


# --- with the catalogs the app has ------------------------------------------------------------


def test_pages_are_english_for_a_browser_that_asks_for_nothing(
    sandbox_client: TestClient,
) -> None:
    page = _login_page(sandbox_client)
    assert _lang(page) == "en"
    assert "Sign in to Perkville" in visible_text(page.text)
    assert _lang(sandbox_client.get("/")) == "en"


@pytest.mark.parametrize("accept_language", ["es", "es-MX,es;q=0.9", "fr-CA", "de, en;q=0.5"])
def test_without_ui_locales_the_login_page_follows_accept_language(
    sandbox_client: TestClient, accept_language: str
) -> None:
    page = _login_page(sandbox_client, accept_language=accept_language)
    assert _lang(page) == _browser_choice(accept_language)


def test_ui_locales_comes_before_accept_language(sandbox_client: TestClient) -> None:
    # English is always offered, so this holds whatever is compiled.
    page = _login_page(sandbox_client, ui_locales="en", accept_language="es, fr-CA")
    assert _lang(page) == "en"
    assert "Sign in to Perkville" in visible_text(page.text)


def test_ui_locales_es_gives_a_spanish_login_page(sandbox_client: TestClient) -> None:
    _needs_spanish()
    page = _login_page(sandbox_client, ui_locales="es", accept_language="en")
    assert _lang(page) == "es"


def test_the_first_ui_locale_with_a_catalog_is_used(sandbox_client: TestClient) -> None:
    _needs_spanish()
    page = _login_page(sandbox_client, ui_locales="tlh es-MX en", accept_language="en")
    assert _lang(page) == "es"


@pytest.mark.parametrize("ui_locales", ["", "tlh", "x-klingon zz-ZZ", "*", "es;q=0"])
def test_ui_locales_without_a_known_tag_leaves_accept_language_to_choose(
    sandbox_client: TestClient, ui_locales: str
) -> None:
    page = _login_page(sandbox_client, ui_locales=ui_locales, accept_language="fr-CA")
    assert _lang(page) == _browser_choice("fr-CA")


def test_the_reference_profile_ignores_ui_locales(reference: TestClient) -> None:
    """Step 1 names no `ui_locales`: never an error, and the browser's language stays."""
    for ui_locales in ("en", "es", "tlh", ""):
        page = _login_page(reference, ui_locales=ui_locales, accept_language="es")
        assert _lang(page) == _browser_choice("es")


def test_ui_locales_is_never_an_error_for_a_signed_in_member(
    sandbox_client: TestClient, reference: TestClient
) -> None:
    for client in (sandbox_client, reference):
        assert sign_in(client, "/login/?next=/", MEMBER_EMAIL, MEMBER_PASSWORD).status_code == 303
        _, challenge = pkce_pair()
        params = {**authorize_params(challenge), "ui_locales": "es fr-CA en"}
        page = client.get(AUTHORIZE_PATH, params=params)
        assert page.status_code == 200, page.text  # the consent page
        form = consent(client, page.text)
        assert form.status_code == 302
        assert "code" in query_of(form.headers["location"])


def test_the_front_desk_stays_english(sandbox_client: TestClient) -> None:
    """A staff tool, not Perkville's member pages."""
    sign_in(sandbox_client, "/login/?next=/", MEMBER_EMAIL, MEMBER_PASSWORD)
    page = sandbox_client.get("/front-desk/", headers={"Accept-Language": "es, fr-CA"})
    assert page.status_code == 403  # a member, not staff
    assert _lang(page) == "en"


# --- with a catalog of the test's own ---------------------------------------------------------

_SPANISH = {
    "Sign in to Perkville": "Inicia sesión en Perkville",
    "%(app)s would like to:": "%(app)s quiere:",
    "Redeem your earned points for rewards": "Canjear tus puntos por recompensas",
    "That email and password do not match a Perkville account.": (
        "Ese correo y esa contraseña no coinciden con ninguna cuenta de Perkville."
    ),
}


@pytest.fixture
def spanish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's catalogs are this test's: English and a small Spanish one."""
    catalog = Catalog(locale="es", domain=i18n.DOMAIN)
    for english, spanish in _SPANISH.items():
        catalog.add(english, spanish)
    write_catalog(tmp_path, catalog)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)


@pytest.mark.usefixtures("spanish")
def test_ui_locales_carries_through_sign_in_and_consent(sandbox_client: TestClient) -> None:
    english = {"Accept-Language": "en-US,en;q=0.9"}
    _, challenge = pkce_pair()
    params = {**authorize_params(challenge, scope="PUBLIC USER_REDEEM"), "ui_locales": "tlh es-MX"}
    response = sandbox_client.get(AUTHORIZE_PATH, params=params, headers=english)
    login_url = response.headers["location"]

    # A wrong password first: the page comes back in Spanish, with its message.
    wrong = sign_in(sandbox_client, login_url, MEMBER_EMAIL, "not-the-password")
    assert wrong.status_code == 400 and _lang(wrong) == "es"
    assert "Inicia sesión en Perkville" in visible_text(wrong.text)
    assert "no coinciden con ninguna cuenta" in visible_text(wrong.text)

    signed_in = sign_in(sandbox_client, login_url, MEMBER_EMAIL, MEMBER_PASSWORD)
    assert signed_in.status_code == 303
    page = sandbox_client.get(signed_in.headers["location"], headers=english)
    assert page.status_code == 200 and _lang(page) == "es"
    text = visible_text(page.text)
    assert "Summit Fitness member app quiere:" in text  # the app's name as registered
    assert "Canjear tus puntos por recompensas" in text
    assert "See public information about rewards programs" in text  # not translated here

    done = consent(sandbox_client, page.text)
    assert done.status_code == 302 and "code" in query_of(done.headers["location"])

    # Another authorization, without ui_locales: the browser's language again.
    _, challenge = pkce_pair()
    other = authorize_params(challenge, scope="PUBLIC USER_REFERRAL")
    page = sandbox_client.get(AUTHORIZE_PATH, params=other, headers=english)
    assert page.status_code == 200 and _lang(page) == "en"
    spanish_browser = sandbox_client.get(
        AUTHORIZE_PATH, params=other, headers={"Accept-Language": "es-ES"}
    )
    assert _lang(spanish_browser) == "es"


@pytest.mark.usefixtures("spanish")
def test_a_remembered_language_belongs_to_its_authorization(sandbox_client: TestClient) -> None:
    """Spanish asked for by one authorization does not leak into a sign-in page for another."""
    _, challenge = pkce_pair()
    params = {**authorize_params(challenge), "ui_locales": "es"}
    response = sandbox_client.get(AUTHORIZE_PATH, params=params)
    assert _lang(sandbox_client.get(response.headers["location"])) == "es"
    assert _lang(sandbox_client.get("/login/?next=/")) == "en"
    _, challenge = pkce_pair()
    response = sandbox_client.get(AUTHORIZE_PATH, params=authorize_params(challenge))
    assert _lang(sandbox_client.get(response.headers["location"])) == "en"


@pytest.mark.usefixtures("spanish")
def test_not_you_signs_out_and_back_in_in_the_same_language(sandbox_client: TestClient) -> None:
    assert (
        sign_in(sandbox_client, "/login/?next=/", MEMBER_EMAIL, MEMBER_PASSWORD).status_code == 303
    )
    _, challenge = pkce_pair()
    params = {**authorize_params(challenge), "ui_locales": "es"}
    page = sandbox_client.get(AUTHORIZE_PATH, params=params)
    assert page.status_code == 200 and _lang(page) == "es"  # the consent page
    not_you = re.search(r'<a href="(/logout/\?next=[^"]*)"', page.text)
    assert not_you is not None
    signed_out = sandbox_client.get(not_you.group(1).replace("&amp;", "&"))
    assert signed_out.status_code == 303
    again = sandbox_client.get(signed_out.headers["location"])
    assert again.status_code == 303 and urlsplit(again.headers["location"]).path == "/login/"
    assert _lang(sandbox_client.get(again.headers["location"])) == "es"
