"""Install on a phone: the web app manifest, its icons, the service worker and the offline page.

Everything here is served from the site root, so the service worker (`/sw.js`) controls the
whole site without a `Service-Worker-Allowed` header. The worker's release version and its
pre-cache list are written into the script when it is served: a new release (any static file,
the worker itself, or the brand's colours changed) is a new script, which the browser installs
and activates in place of the old one.

Icons are drawn here in the brand's colours, carrying the program's initial (brand.py's
strokes, antialiased; a tiny stdlib PNG and ICO encoder: no Pillow needed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import struct
import zlib
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import i18n
from .brand import GLYPHS, Palette, Point, initial_of, palette_for, parse_hex
from .i18n import N_, _
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

# The offline page's words, here where the catalog's extraction finds them (it doesn't read
# the template string below, which translates them).
_OFFLINE_WORDS = {
    "title": N_("Offline · %(program)s"),
    "heading": N_("You're offline"),
    "vouchers": N_(
        "This page needs a connection. Vouchers you opened recently while online can still be"
        ' shown: go to <a href="%(url)s">your vouchers</a>.'
    ),
    "retry": N_("Reconnect and try again."),
}
_OFFLINE_PAGE = """{% extends "base.html" %}
{% block title %}{{ _(words.title, program=program_name) }}{% endblock %}
{% block content %}
<h1>{{ _(words.heading) }}</h1>
<section class="card">
  <p>{{ _(words.vouchers, url=url_for("vouchers").path) }}</p>
  <p>{{ _(words.retry) }}</p>
</section>
{% endblock %}
"""
# The pages whose words depend on the request's language (Accept-Language, the choice cookie).
VARY_LANGUAGE = "Accept-Language, Cookie"


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


Segment = tuple[Point, Point]


def _segment_span(segment: Segment, reach: float, y: float) -> tuple[float, float] | None:
    """Where the row at height `y` crosses the points within `reach` of `segment` (a capsule,
    so one interval): the two round ends and the band between them."""
    (ax, ay), (bx, by) = segment
    lo, hi = math.inf, -math.inf
    for px, py in segment:
        if half := _span(reach, y - py):
            lo, hi = min(lo, px - half), max(hi, px + half)
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    if length and dy:
        centre, half = ax + (y - ay) * dx / dy, reach * length / abs(dy)
        band = [centre - half, centre + half]
        if dx:  # between the ends: 0 <= projection <= length, a range of x on this row
            ends = sorted((ax - (y - ay) * dy / dx, ax + (length**2 - (y - ay) * dy) / dx))
            band = [max(band[0], ends[0]), min(band[1], ends[1])]
        elif not 0 <= (y - ay) / dy <= 1:
            band = [math.inf, -math.inf]
        if band[0] <= band[1]:
            lo, hi = min(lo, band[0]), max(hi, band[1])
    elif length and abs(y - ay) <= reach:
        lo, hi = min(lo, ax, bx), max(hi, ax, bx)
    return (lo, hi) if lo <= hi else None


def _distance(x: float, y: float, segment: Segment) -> float:
    (ax, ay), (bx, by) = segment
    dx, dy = bx - ax, by - ay
    along = ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy) if dx or dy else 0.0
    along = min(1.0, max(0.0, along))
    return math.hypot(x - ax - along * dx, y - ay - along * dy)


def _glyph_cover(size: int, initial: str, cap_height: float) -> list[dict[int, float]]:
    """How much of each pixel the initial's strokes cover (0..1, antialiased), row by row:
    the glyph `cap_height` (a fraction of `size`) tall, centred."""
    strokes = GLYPHS[initial]
    unit = cap_height * size / 10  # glyphs are 10 units tall
    radius = 0.95 * unit  # a bold monoline letter
    xs = [x for stroke in strokes for x, _ in stroke]
    shift_x = size / 2 - (min(xs) + max(xs)) / 2 * unit
    shift_y = size / 2 - 5 * unit
    segments = [
        ((shift_x + ax * unit, shift_y + ay * unit), (shift_x + bx * unit, shift_y + by * unit))
        for stroke in strokes
        for (ax, ay), (bx, by) in pairwise(stroke)
    ]
    rows: list[dict[int, float]] = []
    for row in range(size):
        y = row + 0.5
        near: dict[int, list[Segment]] = {}
        for segment in segments:
            if span := _segment_span(segment, radius + 0.5, y):
                for x in range(max(0, math.floor(span[0])), min(size, math.ceil(span[1]))):
                    near.setdefault(x, []).append(segment)
        cover = {}
        for x, nearby in near.items():
            depth = radius + 0.5 - min(_distance(x + 0.5, y, s) for s in nearby)
            if depth > 0:
                cover[x] = min(1.0, depth)
        rows.append(cover)
    return rows


def _ring_cover(size: int) -> list[dict[int, float]]:
    """A ring and a dot: the mark when the program's name has no initial to draw."""
    outer, inner, dot, centre = size * 0.30, size * 0.21, size * 0.10, size / 2
    rows: list[dict[int, float]] = []
    for row in range(size):
        y = row + 0.5 - centre
        rows.append(
            {
                x: 1.0
                for x in range(size)
                if inner**2 <= (d2 := (x + 0.5 - centre) ** 2 + y * y) <= outer**2 or d2 <= dot**2
            }
        )
    return rows


def _draw(
    size: int, corner: float, background: str, foreground: str, initial: str, cap: float
) -> bytes:
    """A square of the brand colour (with corners of radius `corner`, clear outside them)
    carrying the mark in the colour for text on the brand colour."""
    bg = parse_hex(background) or (0, 0, 0)
    fg = parse_hex(foreground) or (255, 255, 255)
    cover = _glyph_cover(size, initial, cap) if initial in GLYPHS else _ring_cover(size)
    shades = {}
    rows = []
    for row in range(size):
        # the square's rounded corners: how far in from each edge this row starts
        edge = 0.0
        if corner and (row < corner or row >= size - corner):
            dy = corner - (row + 0.5) if row < corner else (row + 0.5) - (size - corner)
            edge = corner - _span(corner, dy)
        pixels = []
        for x in range(size):
            if x + 0.5 < edge or x + 0.5 > size - edge:
                pixels.append(b"\0\0\0\0")
                continue
            c = round(cover[row].get(x, 0.0) * 255)
            if c not in shades:
                mixed = (round(b + (f - b) * c / 255) for b, f in zip(bg, fg, strict=True))
                shades[c] = bytes(mixed) + b"\xff"
            pixels.append(shades[c])
        rows.append(b"".join(pixels))
    return _png(size, size, rows)


@cache
def icon_png(
    size: int, maskable: bool, background: str, foreground: str, initial: str = ""
) -> bytes:
    """A home-screen icon: the program's initial (else a ring and a dot) on the brand colour,
    inside the maskable safe zone (radius 40 %) either way; "any" icons have rounded corners."""
    return _draw(size, 0 if maskable else size * 0.18, background, foreground, initial, 0.38)


@cache
def favicon_ico(background: str, foreground: str, initial: str = "") -> bytes:
    """The browser tab's icon: the initial, larger than on a home screen, at 16, 32 and 48
    pixels, as PNG images in one ICO file (every current browser reads those)."""
    sizes = (16, 32, 48)
    images = [_draw(size, size * 0.2, background, foreground, initial, 0.56) for size in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))  # reserved, type 1 = icon, count
    offset = len(header) + 16 * len(images)
    entries = b""
    for size, image in zip(sizes, images, strict=True):
        entries += struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
    return header + entries + b"".join(images)


# --- helpers ------------------------------------------------------------------------------


def _business(request: Request) -> Business | None:
    state = app_state(request)
    return state.perkville.cached_business(state.settings.business_id)


def _mark(request: Request) -> tuple[Palette, str]:
    """The brand's colours and the program's initial, for the icons."""
    business = _business(request)
    program = business.program_name if business else app_state(request).settings.program_name
    return palette_for(business), initial_of(program)


def short_name(program_name: str, business_name: str | None) -> str:
    for candidate in (program_name, business_name or ""):
        if 0 < len(candidate) <= SHORT_NAME_MAX:
            return candidate
    first = (business_name or program_name).split()[0] if (business_name or program_name) else ""
    return first[:SHORT_NAME_MAX] or _("Rewards")


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
    language = i18n.current()
    return {
        "id": "/",
        "name": program,
        "short_name": short_name(program, business.name if business else None),
        "lang": language.tag,
        "dir": language.locale.text_direction,
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
        headers={"Cache-Control": "no-cache", "Vary": VARY_LANGUAGE},
    )


async def icon(request: Request) -> Response:
    spec = ICONS.get(request.path_params["name"])
    if spec is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    palette, initial = _mark(request)
    size, maskable = spec
    return Response(
        icon_png(size, maskable, palette.brand, palette.on_brand, initial),
        media_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


async def favicon(request: Request) -> Response:
    """/favicon.ico, where browsers look for it even without a `<link rel="icon">`."""
    palette, initial = _mark(request)
    return Response(
        favicon_ico(palette.brand, palette.on_brand, initial),
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def precache_urls(request: Request) -> list[str]:
    """The shell: styles, script, icons, manifest and the offline page (as the browser asks
    for it, and in each language offered: the worker shows the member's). Nothing personal."""
    palette = palette_for(_business(request))
    return [
        "/offline",
        *(f"/offline?lang={language.tag}" for language in app_state(request).languages.offered),
        static_url("app.css"),
        static_url("app.js"),
        static_url("vouchers.css"),
        f"{request.url_for('brand_css').path}?v={palette.version}",
        "/manifest.webmanifest",
        f"{request.url_for('favicon').path}?v={palette.version}",
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
    member's data (rendered as signed out whoever fetched it). `?lang=` (the worker pre-caches
    one per language) is in that language, whatever the cookies and the browser ask for."""
    state = app_state(request)
    settings = state.settings
    asked = request.query_params.get("lang")
    language = state.languages.exact(asked) if asked else None
    if language is not None:
        i18n.use(language)
        request.state.language = language
    business = _business(request)
    template = state.templates.env.from_string(_OFFLINE_PAGE)
    html = template.render(
        request=request,
        words=_OFFLINE_WORDS,
        business=business,
        program_name=business.program_name if business else settings.program_name,
        brand_version=palette_for(business).version,
        signed_in=False,
        offline_page=True,
        kiosk=settings.kiosk,
        kiosk_idle_seconds=settings.idle_seconds,
        embed=False,
    )
    headers = {"Vary": VARY_LANGUAGE, "Content-Language": i18n.current().tag}
    return Response(html, media_type="text/html", headers=headers)


routes = [
    Route("/manifest.webmanifest", manifest, name="manifest"),
    Route("/sw.js", service_worker, name="service_worker"),
    Route("/sw/key", offline_key, name="offline_key"),
    Route("/offline", offline, name="offline"),
    Route("/icons/{name}.png", icon, name="pwa_icon"),
    Route("/favicon.ico", favicon, name="favicon"),
]
