"""Install on a phone: manifest, icons, service worker, offline page (member_app/pwa.py)."""

from __future__ import annotations

import dataclasses
import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from httpx2 import Response
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, pwa
from member_app.brand import initial_of, palette_for, parse_hex

from .helpers import FakeClock, SignIn, make_client, write_catalog


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_manifest_has_the_program_and_the_brand(
    client: TestClient, app: Starlette, sign_in: SignIn
) -> None:
    # Like brand.css, the manifest uses the business as last fetched by any member page.
    sign_in()
    client.get("/")
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    data = json.loads(response.text)
    state = app.state.member_app
    business = state.perkville.cached_business(state.settings.business_id)
    assert business is not None
    palette = palette_for(business)
    assert data["name"] == business.program_name
    assert 0 < len(data["short_name"]) <= pwa.SHORT_NAME_MAX
    assert data["theme_color"] == palette.brand
    assert data["background_color"] == palette.brand
    assert data["display"] == "standalone"
    assert data["lang"] == "en" and data["dir"] == "ltr"
    assert {"Accept-Language", "Cookie"} <= varies(response)
    assert data["start_url"] == "/" and data["scope"] == "/" and data["id"] == "/"
    assert "prefer_related_applications" not in data
    sizes = {(icon["sizes"], icon["purpose"]) for icon in data["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for entry in data["icons"]:
        icon = client.get(entry["src"])
        assert icon.status_code == 200
        assert icon.headers["content-type"] == "image/png"
        width, height = png_size(icon.content)
        assert entry["sizes"] == f"{width}x{height}"


def varies(response: Response) -> set[str]:
    return {name.strip() for name in response.headers.get("vary", "").split(",")}


def test_short_name_fits_under_an_icon() -> None:
    assert pwa.short_name("Summit Perks", "Summit Fitness") == "Summit Perks"
    assert pwa.short_name("Summit Fitness Rewards", "Summit Gym") == "Summit Gym"
    assert pwa.short_name("Extraordinarily Long Rewards", None) == "Extraordinar"
    assert len(pwa.short_name("A" * 40, "B" * 40)) == pwa.SHORT_NAME_MAX


def pixels(data: bytes) -> list[list[bytes]]:
    """An RGBA PNG's pixels, row by row (the encoder writes filter 0 and one IDAT chunk)."""
    width, height = png_size(data)
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    raw = zlib.decompress(data[start : start + length])
    stride = 1 + 4 * width
    return [
        [raw[r * stride + 1 + 4 * x : r * stride + 5 + 4 * x] for x in range(width)]
        for r in range(height)
    ]


BRAND, ON_BRAND = bytes([0x11, 0x22, 0x33, 0xFF]), bytes([0xFF, 0xFF, 0xFF, 0xFF])


def test_icons_use_the_brand_colour() -> None:
    data = pwa.icon_png(48, True, "#112233", "#FFFFFF", "S")
    assert png_size(data) == (48, 48)
    assert pixels(data)[0][0] == BRAND  # a maskable icon fills its corners
    rounded = pwa.icon_png(48, False, "#112233", "#FFFFFF", "S")
    assert pixels(rounded)[0][0] == b"\0\0\0\0"  # an "any" icon has rounded (clear) corners
    assert pixels(rounded)[24][2] == BRAND


def test_icons_carry_the_programs_initial_inside_the_safe_zone() -> None:
    size = 96
    letters = {c: pixels(pwa.icon_png(size, True, "#112233", "#FFFFFF", c)) for c in "SHO"}
    for letter, rows in letters.items():
        marked = [
            (x, y) for y, row in enumerate(rows) for x, pixel in enumerate(row) if pixel != BRAND
        ]
        assert any(rows[y][x] == ON_BRAND for x, y in marked), letter  # solid strokes
        # Everything drawn lies inside the maskable safe zone, a circle of radius 40 %.
        centre = size / 2
        assert all(
            (x + 0.5 - centre) ** 2 + (y + 0.5 - centre) ** 2 <= (0.4 * size) ** 2
            for x, y in marked
        ), letter
    assert letters["S"] != letters["H"] != letters["O"]
    # No initial to draw: the ring mark, not an empty square.
    ring = pixels(pwa.icon_png(size, True, "#112233", "#FFFFFF", ""))
    assert any(pixel == ON_BRAND for row in ring for pixel in row)


def test_the_initial_is_the_names_first_letter_or_digit() -> None:
    assert initial_of("Summit Rewards") == "S"
    assert initial_of("  harbor perks") == "H"
    assert initial_of("Élan Club") == "E"
    assert initial_of("24/7 Fitness") == "2"
    assert initial_of("東京ジム") == ""  # no glyph for it: the icons show the ring mark


def ico_images(data: bytes) -> list[tuple[int, bytes]]:
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    images = []
    for i in range(count):
        width, height, _, _, _, _, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i : 22 + 16 * i]
        )
        image = data[offset : offset + length]
        assert png_size(image) == (width, height)
        images.append((width, image))
    return images


def test_favicon_is_the_brands_initial_at_tab_sizes(client: TestClient, app: Starlette) -> None:
    page = client.get("/").text
    link = re.search(r'<link rel="icon" href="(/favicon\.ico\?v=[0-9a-f]+)"', page)
    assert link, "no <link rel=icon>"
    for url in ("/favicon.ico", link.group(1)):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/x-icon"
        assert "max-age" in response.headers["cache-control"]
    images = ico_images(client.get("/favicon.ico").content)
    assert [size for size, _ in images] == [16, 32, 48]
    state = app.state.member_app
    business = state.perkville.cached_business(state.settings.business_id)
    program = business.program_name if business else state.settings.program_name
    palette = palette_for(business)
    assert client.get("/favicon.ico").content == pwa.favicon_ico(
        palette.brand, palette.on_brand, initial_of(program)
    )
    centre = pixels(images[1][1])[16]
    brand = bytes(parse_hex(palette.brand) or (0, 0, 0)) + b"\xff"
    assert brand in centre and any(pixel != brand for pixel in centre)  # the initial, drawn


def test_home_screen_icons_carry_the_programs_initial(client: TestClient, app: Starlette) -> None:
    state = app.state.member_app
    business = state.perkville.cached_business(state.settings.business_id)
    program = business.program_name if business else state.settings.program_name
    palette = palette_for(business)
    for name, (size, maskable) in pwa.ICONS.items():
        served = client.get(f"/icons/{name}.png").content
        assert served == pwa.icon_png(
            size, maskable, palette.brand, palette.on_brand, initial_of(program)
        ), name


def test_unknown_icon_is_missing(client: TestClient) -> None:
    assert client.get("/icons/nope.png").status_code == 404


def test_service_worker_is_served_from_the_root_with_a_release_version(
    client: TestClient,
) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert "__VERSION__" not in response.text and "__PRECACHE__" not in response.text
    match = re.search(r'var VERSION = "([0-9a-f]{16})";', response.text)
    assert match
    precache = json.loads(re.search(r"var PRECACHE = (\[.*\]);", response.text).group(1))  # type: ignore[union-attr]
    assert "/offline" in precache
    assert "/offline?lang=en" in precache
    assert any(url.startswith("/static/app.css?v=") for url in precache)
    assert any(url.startswith("/static/app.js?v=") for url in precache)
    assert any(url.startswith("/icons/icon-512.png") for url in precache)
    assert any(url.startswith("/favicon.ico?v=") for url in precache)
    for url in precache:
        assert client.get(url).status_code == 200, url


def test_release_version_changes_with_any_static_file(tmp_path: Path) -> None:
    (tmp_path / "app.css").write_text("body{}")
    (tmp_path / "sw.js").write_text("// v1")
    before = pwa.static_version(tmp_path)
    assert pwa.static_version(tmp_path) == before
    (tmp_path / "app.css").write_text("body{color:red}")
    changed = pwa.static_version(tmp_path)
    assert changed != before
    (tmp_path / "icons").mkdir()
    (tmp_path / "icons" / "x.png").write_bytes(b"x")
    assert pwa.static_version(tmp_path) != changed


def test_release_version_changes_with_the_brand() -> None:
    assert pwa.release_version(palette_for(None)) != pwa.release_version(
        palette_for(None).__class__(**{**_fields(palette_for(None)), "brand": "#000000"})
    )


def _fields(palette: object) -> dict[str, str]:
    return {name: getattr(palette, name) for name in palette.__slots__}  # type: ignore[attr-defined]


def test_offline_page_is_the_branded_frame_without_the_member(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in()
    page = client.get("/offline")
    assert page.status_code == 200
    assert "You're offline" in page.text
    assert '<a href="/vouchers">your vouchers</a>' in page.text
    assert "<title>Offline · " in page.text
    assert "/static/app.css?v=" in page.text
    assert {"Accept-Language", "Cookie"} <= varies(page)
    # Pre-cached for everyone: no sign-out form, no CSRF token, no tab bar.
    assert "csrf" not in page.text and "Sign out" not in page.text
    assert 'class="tabbar"' not in page.text


def test_base_links_the_manifest_and_icon(client: TestClient) -> None:
    page = client.get("/").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<link rel="apple-touch-icon" href="/icons/apple-touch-icon.png?v=' in page
    assert '<link rel="icon" href="/favicon.ico?v=' in page
    assert "data-forget-member" not in page


def test_signed_out_landing_asks_to_forget_offline_copies(
    client: TestClient, sign_in: SignIn
) -> None:
    sign_in()
    home = client.get("/")
    assert "data-forget-member" not in home.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert csrf
    out = client.post("/signout", data={"csrf": csrf.group(1)})
    assert out.status_code == 303
    landing = client.get(out.headers["location"])
    assert "You're signed out" in landing.text
    assert "data-forget-member" in landing.text


def test_offline_key_is_per_session_and_never_the_cookie(
    client: TestClient, sign_in: SignIn, settings: Settings
) -> None:
    assert client.get("/sw/key").json() == {"key": None}
    sign_in()
    key = client.get("/sw/key").json()["key"]
    assert isinstance(key, str) and re.fullmatch(r"[0-9a-f]{24}", key)
    assert key == client.get("/sw/key").json()["key"]
    cookie = client.cookies.get(settings.session_cookie) or ""
    assert key not in cookie
    response = client.get("/sw/key")
    assert response.headers["cache-control"] == "no-store"
    # A new sign-in is a new session, so a new key.
    sign_in()
    assert client.get("/sw/key").json()["key"] not in (None, key)


@pytest.fixture
def kiosk_client(settings: Settings, sandbox: Starlette, clock: FakeClock) -> Iterator[TestClient]:
    for client, _ in make_client(settings, sandbox, clock, mode="kiosk"):
        yield client


def test_kiosk_keeps_nothing_of_the_member_offline(
    kiosk_client: TestClient, sandbox_client: TestClient
) -> None:
    SignIn(kiosk_client, sandbox_client)()
    assert kiosk_client.get("/vouchers").status_code == 200
    assert kiosk_client.get("/sw/key").json() == {"key": None}


# --- in the member's language -------------------------------------------------------------

SPANISH = {
    "You're offline": "Sin conexión",
    "Offline · %(program)s": "Sin conexión · %(program)s",
    "Continue": "Continuar",
    "You're offline. This is your copy as of %(when)s.": "Sin conexión. Tu copia del %(when)s.",
}


@pytest.fixture
def spoken(settings: Settings, sandbox: Starlette, clock: FakeClock, tmp_path: Path) -> Settings:
    """Settings with catalogs for Spanish and French (Canada), a few messages each."""
    for code in ("es", "fr_CA"):
        catalog = Catalog(locale=code)
        if code == "es":
            for english, spanish in SPANISH.items():
                catalog.add(english, spanish)
            catalog.add(
                ("%(num)s point", "%(num)s points"),
                ("%(num)s punto", "%(num)s de puntos", "%(num)s puntos"),
            )
        write_catalog(tmp_path, catalog)
    return dataclasses.replace(settings, locale_dir=str(tmp_path))


@pytest.fixture
def spoken_client(spoken: Settings, sandbox: Starlette, clock: FakeClock) -> Iterator[TestClient]:
    for client, _ in make_client(spoken, sandbox, clock):
        yield client


def page_words(html: str) -> dict[str, Any]:
    found = re.search(r"""<div hidden id="page-words" data-words='([^']*)'></div>""", html)
    assert found, "no words for the page scripts"
    words: dict[str, Any] = json.loads(found.group(1))
    return words


def test_offline_page_in_each_language_whatever_the_browser_asks(
    spoken_client: TestClient,
) -> None:
    precache = json.loads(
        re.search(r"var PRECACHE = (\[.*\]);", spoken_client.get("/sw.js").text).group(1)  # type: ignore[union-attr]
    )
    assert {"/offline", "/offline?lang=en", "/offline?lang=es", "/offline?lang=fr-CA"} <= set(
        precache
    )
    # The worker fetches them without cookies, but the browser still says its languages.
    french = {"Accept-Language": "fr-CA,fr;q=0.9"}
    page = spoken_client.get("/offline?lang=es", headers=french)
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    assert "<h1>Sin conexión</h1>" in page.text and "<title>Sin conexión · " in page.text
    assert page.headers["content-language"] == "es"
    assert {"Accept-Language", "Cookie"} <= varies(page)
    english = spoken_client.get("/offline?lang=en", headers={"Accept-Language": "es"})
    assert "<h1>You're offline</h1>" in english.text and '<html lang="en">' in english.text
    # Not a language the app has: the request's own, as for any page.
    plain = spoken_client.get("/offline?lang=xx", headers={"Accept-Language": "es"})
    assert "<h1>Sin conexión</h1>" in plain.text
    assert plain.headers["content-language"] == "es"


def test_manifest_in_the_members_language(spoken_client: TestClient) -> None:
    data = spoken_client.get("/manifest.webmanifest", headers={"Accept-Language": "fr"}).json()
    assert data["lang"] == "fr-CA" and data["dir"] == "ltr"


def test_page_scripts_get_their_words_in_the_pages_language(
    client: TestClient, spoken_client: TestClient
) -> None:
    english = page_words(client.get("/").text)
    assert english["points"] == {"one": "{n} point", "other": "{n} points"}
    assert english["reached"] == "You reached {level}!"
    assert english["copied"] == "Copied" and english["working"] == "Working…"
    assert english["offline_note"] == "You're offline. This is your copy as of {when}."
    spanish = page_words(spoken_client.get("/", headers={"Accept-Language": "es"}).text)
    # One form per plural category of Spanish (Intl.PluralRules("es") picks among them).
    assert spanish["points"] == {
        "one": "{n} punto",
        "many": "{n} de puntos",
        "other": "{n} puntos",
    }
    assert spanish["continue"] == "Continuar"
    assert spanish["offline_note"] == "Sin conexión. Tu copia del {when}."
    assert spanish["working"] == "Working…"  # not in this catalog: English
    french = page_words(spoken_client.get("/", headers={"Accept-Language": "fr-CA"}).text)
    assert set(french["points"]) == {"one", "many", "other"}
