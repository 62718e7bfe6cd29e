"""Install on a phone: the web app manifest, its icons, the service worker and the offline page.

Everything here is served from the site root, so the service worker (`/sw.js`) controls the
whole site without a `Service-Worker-Allowed` header. The worker's release version and its
pre-cache list are written into the script when it is served: a new release (any static file,
the worker itself, or the brand's colours changed) is a new script, which the browser installs
and activates in place of the old one.

Icons are drawn here in the brand's colours (a tiny stdlib PNG encoder: no Pillow needed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
import zlib
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .brand import Palette, palette_for, parse_hex
from .paths import STATIC_DIR
from .perkville import Business
from .state import app_state
from .web.sealing import derive_key
from .web.session import SID, signed_in
from .web.templating import static_url

# name -> (pixel size, maskable). Maskable icons fill the square; "any" icons have rounded
# corners and keep the mark inside the maskable safe zone either way.
ICONS: dict[str, tuple[int, bool]] = {
    "icon-192": (192, False),
    "icon-512": (512, False),
    "maskable-192": (192, True),
    "maskable-512": (512, True),
    "apple-touch-icon": (180, True),  # iOS rounds the corners itself
}
SHORT_NAME_MAX = 12  # what fits under an icon on a home screen

_OFFLINE_PAGE = """{% extends "base.html" %}
{% block title %}Offline · {{ program_name }}{% endblock %}
{% block content %}
<h1>You're offline</h1>
<section class="card">
  <p>This page needs a connection. Vouchers you opened recently while online can still be
  shown: go to <a href="/vouchers">your vouchers</a>.</p>
  <p>Reconnect and try again.</p>
</section>
{% endblock %}
"""


# --- release version ----------------------------------------------------------------------


def static_version(directory: Path) -> str:
    """A hash over every file under `directory` (names and contents)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(file.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def _release_static() -> str:
    return static_version(STATIC_DIR)


def release_version(palette: Palette) -> str:
    """Changes with any static file (sw.js included) or the brand's colours."""
    return hashlib.sha256(f"{_release_static()}:{palette.version}".encode()).hexdigest()[:16]


# --- icons --------------------------------------------------------------------------------


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    """An RGBA PNG from raw rows (filter byte 0 is added here)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\0" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _span(r: float, y: float) -> float:
    """Half-width of a circle of radius `r` at height `y` from its centre (0 outside)."""
    return (r * r - y * y) ** 0.5 if abs(y) < r else 0.0


@cache
def icon_png(size: int, maskable: bool, background: str, foreground: str) -> bytes:
    """A brand-coloured square (rounded unless maskable) with a ring and a dot: a simple mark
    that reads at any size and stays inside the maskable safe zone (radius 40 %)."""
    bg = bytes(parse_hex(background) or (0, 0, 0)) + b"\xff"
    fg = bytes(parse_hex(foreground) or (255, 255, 255)) + b"\xff"
    clear = b"\0\0\0\0"
    corner = 0 if maskable else size * 0.18
    outer, inner, dot = size * 0.30, size * 0.21, size * 0.10
    centre = size / 2
    rows = []
    for row in range(size):
        y = row + 0.5 - centre
        # the square's rounded corners: how far in from each edge this row starts
        edge = 0.0
        if corner and (row < corner or row >= size - corner):
            dy = corner - (row + 0.5) if row < corner else (row + 0.5) - (size - corner)
            edge = corner - _span(corner, dy)
        pixels = [bg] * size
        for x in range(size):
            px = x + 0.5
            if px < edge or px > size - edge:
                pixels[x] = clear
                continue
            d2 = (px - centre) ** 2 + y * y
            if inner * inner <= d2 <= outer * outer or d2 <= dot * dot:
                pixels[x] = fg
        rows.append(b"".join(pixels))
    return _png(size, size, rows)


# --- helpers ------------------------------------------------------------------------------


def _business(request: Request) -> Business | None:
    state = app_state(request)
    return state.perkville.cached_business(state.settings.business_id)


def short_name(program_name: str, business_name: str | None) -> str:
    for candidate in (program_name, business_name or ""):
        if 0 < len(candidate) <= SHORT_NAME_MAX:
            return candidate
    first = (business_name or program_name).split()[0] if (business_name or program_name) else ""
    return first[:SHORT_NAME_MAX] or "Rewards"


def _icon_url(name: str, palette: Palette) -> str:
    return f"/icons/{name}.png?v={palette.version}"


def offline_cache_key(request: Request) -> str | None:
    """A name for this session's offline copies: a keyed hash of the session id (never the
    cookie or a token), or None when nothing of the member may be kept (signed out, kiosk)."""
    settings = app_state(request).settings
    sid = request.session.get(SID)
    if settings.kiosk or not signed_in(request):
        return None
    if not isinstance(sid, str):
        return None
    key = derive_key(settings.secret_key, "member-app offline cache")
    return hmac.new(key, sid.encode(), hashlib.sha256).hexdigest()[:24]


# --- endpoints ----------------------------------------------------------------------------


def manifest_data(request: Request) -> dict[str, Any]:
    business = _business(request)
    palette = palette_for(business)
    program = business.program_name if business else app_state(request).settings.program_name
    icons: list[dict[str, str]] = []
    for name, (size, maskable) in ICONS.items():
        if name == "apple-touch-icon":
            continue
        icons.append(
            {
                "src": _icon_url(name, palette),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "maskable" if maskable else "any",
            }
        )
    return {
        "id": "/",
        "name": program,
        "short_name": short_name(program, business.name if business else None),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": palette.brand,
        "background_color": palette.brand,
        "icons": icons,
    }


async def manifest(request: Request) -> Response:
    return Response(
        json.dumps(manifest_data(request), indent=1),
        media_type="application/manifest+json",
        headers={"Cache-Control": "no-cache"},
    )


async def icon(request: Request) -> Response:
    spec = ICONS.get(request.path_params["name"])
    if spec is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    palette = palette_for(_business(request))
    size, maskable = spec
    return Response(
        icon_png(size, maskable, palette.brand, palette.on_brand),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def precache_urls(request: Request) -> list[str]:
    """The shell: styles, script, icons, manifest and the offline page. Nothing personal."""
    palette = palette_for(_business(request))
    return [
        "/offline",
        static_url("app.css"),
        static_url("app.js"),
        f"{request.url_for('brand_css').path}?v={palette.version}",
        "/manifest.webmanifest",
        *(_icon_url(name, palette) for name in ICONS),
    ]


async def service_worker(request: Request) -> Response:
    palette = palette_for(_business(request))
    source = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    source = source.replace('"__VERSION__"', json.dumps(release_version(palette)), 1)
    source = source.replace('["__PRECACHE__"]', json.dumps(precache_urls(request)), 1)
    return Response(
        source,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


async def offline_key(request: Request) -> Response:
    """Asked by the service worker before it keeps a copy of a vouchers page."""
    return JSONResponse({"key": offline_cache_key(request)})


async def offline(request: Request) -> Response:
    """The page shown for a page that can't load offline; pre-cached, so it never carries the
    member's data (rendered as signed out whoever fetched it)."""
    state = app_state(request)
    settings = state.settings
    business = _business(request)
    template = state.templates.env.from_string(_OFFLINE_PAGE)
    html = template.render(
        request=request,
        business=business,
        program_name=business.program_name if business else settings.program_name,
        brand_version=palette_for(business).version,
        signed_in=False,
        offline_page=True,
        kiosk=settings.kiosk,
        kiosk_idle_seconds=settings.idle_seconds,
        embed=False,
    )
    return Response(html, media_type="text/html")


routes = [
    Route("/manifest.webmanifest", manifest, name="manifest"),
    Route("/sw.js", service_worker, name="service_worker"),
    Route("/sw/key", offline_key, name="offline_key"),
    Route("/offline", offline, name="offline"),
    Route("/icons/{name}.png", icon, name="pwa_icon"),
]
