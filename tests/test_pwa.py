"""Install on a phone: manifest, icons, service worker, offline page (member_app/pwa.py)."""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from member_app import Settings, pwa
from member_app.brand import palette_for

from .helpers import FakeClock, SignIn, make_client


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


def test_short_name_fits_under_an_icon() -> None:
    assert pwa.short_name("Summit Perks", "Summit Fitness") == "Summit Perks"
    assert pwa.short_name("Summit Fitness Rewards", "Summit Gym") == "Summit Gym"
    assert pwa.short_name("Extraordinarily Long Rewards", None) == "Extraordinar"
    assert len(pwa.short_name("A" * 40, "B" * 40)) == pwa.SHORT_NAME_MAX


def test_icons_use_the_brand_colour() -> None:
    data = pwa.icon_png(48, True, "#112233", "#FFFFFF")
    assert png_size(data) == (48, 48)
    idat = data[data.index(b"IDAT") + 4 :]
    raw = zlib.decompressobj().decompress(idat)
    assert raw[1:5] == bytes([0x11, 0x22, 0x33, 0xFF])  # a maskable icon fills its corners
    rounded = pwa.icon_png(48, False, "#112233", "#FFFFFF")
    raw = zlib.decompressobj().decompress(rounded[rounded.index(b"IDAT") + 4 :])
    assert raw[1:5] == b"\0\0\0\0"  # an "any" icon has rounded (clear) corners


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
    assert any(url.startswith("/static/app.css?v=") for url in precache)
    assert any(url.startswith("/static/app.js?v=") for url in precache)
    assert any(url.startswith("/icons/icon-512.png") for url in precache)
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
    assert "/static/app.css?v=" in page.text
    # Pre-cached for everyone: no sign-out form, no CSRF token, no tab bar.
    assert "csrf" not in page.text and "Sign out" not in page.text
    assert 'class="tabbar"' not in page.text


def test_base_links_the_manifest_and_icon(client: TestClient) -> None:
    page = client.get("/").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<link rel="apple-touch-icon" href="/icons/apple-touch-icon.png?v=' in page
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
