"""The business's brand: its colours as CSS, with text colours computed for contrast (WCAG
2.1), and its mark, the program's initial, as strokes for the icons that pwa.py draws.

The colours are served as a tiny stylesheet rather than inline styles so the CSP can forbid
inline style.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from .perkville import Business
from .state import app_state

_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
DEFAULT_BRAND = "#3B3B98"
DEFAULT_ACCENT = "#F59E0B"
WHITE = (255, 255, 255)
INK = (17, 17, 17)
DARK_SURFACE = (24, 24, 27)


def parse_hex(value: str | None) -> tuple[int, int, int] | None:
    match = _HEX.match((value or "").strip())
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def to_hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """White or near-black, whichever reads better on `background`."""
    return WHITE if contrast(WHITE, background) >= contrast(INK, background) else INK


def _mix(rgb: tuple[int, int, int], target: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    r, g, b = (round(c + (tc - c) * t) for c, tc in zip(rgb, target, strict=True))
    return r, g, b


def readable_on(
    rgb: tuple[int, int, int], surface: tuple[int, int, int], minimum: float = 4.5
) -> tuple[int, int, int]:
    """The brand colour, shifted towards black or white just enough to be readable as text on
    `surface` (links and headings keep the brand's hue)."""
    target = (0, 0, 0) if luminance(surface) > 0.5 else WHITE
    for step in range(21):
        candidate = _mix(rgb, target, step / 20)
        if contrast(candidate, surface) >= minimum:
            return candidate
    return target


@dataclass(frozen=True, slots=True)
class Palette:
    brand: str
    on_brand: str
    brand_text: str  # the brand colour as text on the light page background
    brand_text_dark: str  # … and on the dark-mode background
    accent: str
    on_accent: str

    def css(self) -> str:
        return (
            ":root{"
            f"--brand:{self.brand};--on-brand:{self.on_brand};--brand-text:{self.brand_text};"
            f"--accent:{self.accent};--on-accent:{self.on_accent}"
            "}\n@media (prefers-color-scheme: dark){:root{"
            f"--brand-text:{self.brand_text_dark}"
            "}}\n"
        )

    @property
    def version(self) -> str:
        return hashlib.sha256(self.css().encode()).hexdigest()[:10]


def palette_for(business: Business | None) -> Palette:
    brand = parse_hex(business.brand_color if business else None) or parse_hex(DEFAULT_BRAND)
    accent = parse_hex(business.brand_secondary_color if business else None) or parse_hex(
        DEFAULT_ACCENT
    )
    assert brand is not None and accent is not None
    return Palette(
        brand=to_hex(brand),
        on_brand=to_hex(text_on(brand)),
        brand_text=to_hex(readable_on(brand, WHITE)),
        brand_text_dark=to_hex(readable_on(brand, DARK_SURFACE)),
        accent=to_hex(accent),
        on_accent=to_hex(text_on(accent)),
    )


async def brand_css(request: Request) -> Response:
    """The stylesheet with this program's colours (versioned URL, so cacheable for a day)."""
    state = app_state(request)
    business = state.perkville.cached_business(state.settings.business_id)
    return Response(
        palette_for(business).css(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# --- the program's mark: its initial, drawn as strokes --------------------------------------
# Home-screen icons and the favicon carry the program's initial in the colour for text on the
# brand colour. Each glyph is a few strokes (polylines; round caps and joins) on a 10-unit cap
# height, so pwa.py can draw it at any size without a font file or an imaging library.

Point = tuple[float, float]
Stroke = tuple[Point, ...]


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> Stroke:
    """Points along an ellipse from `start` to `end` degrees (0 = right, 90 = up)."""
    steps = max(4, round(abs(end - start) / 7.5))
    turns = (math.radians(start + (end - start) * i / steps) for i in range(steps + 1))
    return tuple((cx + rx * math.cos(t), cy - ry * math.sin(t)) for t in turns)


def _p(*points: Point) -> Stroke:
    return points


_O = _arc(3.75, 5, 3.75, 5, 0, 360)
_P = (_p((0, 10), (0, 0), (3.9, 0)) + _arc(3.9, 2.75, 2.9, 2.75, 90, -90) + _p((0, 5.5)),)
GLYPHS: dict[str, tuple[Stroke, ...]] = {
    "A": (_p((0, 10), (3.6, 0), (7.2, 10)), _p((1.3, 6.6), (5.9, 6.6))),
    "B": (
        _p((0, 5), (0, 0), (3.8, 0)) + _arc(3.8, 2.5, 2.5, 2.5, 90, -90) + _p((0, 5)),
        _p((0, 5), (0, 10), (4.1, 10)) + _arc(4.1, 7.5, 2.7, 2.5, -90, 90) + _p((0, 5)),
    ),
    "C": (_arc(3.9, 5, 3.9, 5, 50, 310),),
    "D": (_p((2.6, 10), (0, 10), (0, 0), (2.6, 0)) + _arc(2.6, 5, 4.3, 5, 90, -90),),
    "E": (_p((6, 0), (0, 0), (0, 10), (6, 10)), _p((0, 5), (4.8, 5))),
    "F": (_p((6, 0), (0, 0), (0, 10)), _p((0, 5), (4.8, 5))),
    "G": (_arc(3.9, 5, 3.9, 5, 50, 360) + _p((4.4, 5)),),
    "H": (_p((0, 0), (0, 10)), _p((7, 0), (7, 10)), _p((0, 5), (7, 5))),
    "I": (_p((0, 0), (0, 10)),),
    "J": (_p((5, 0), (5, 7.2)) + _arc(2.6, 7.2, 2.4, 2.8, 0, -180),),
    "K": (_p((0, 0), (0, 10)), _p((6.5, 0), (0, 6.2)), _p((2.3, 4), (6.7, 10))),
    "L": (_p((0, 0), (0, 10), (6, 10)),),
    "M": (_p((0, 10), (0, 0), (4.25, 7), (8.5, 0), (8.5, 10)),),
    "N": (_p((0, 10), (0, 0), (7, 10), (7, 0)),),
    "O": (_O,),
    "P": _P,
    "Q": (_O, _p((4.6, 7.2), (7.8, 10.6))),
    "R": (*_P, _p((3.4, 5.5), (6.6, 10))),
    "S": (_arc(3.4, 2.5, 3.0, 2.5, 25, 270) + _arc(3.4, 7.5, 3.4, 2.5, 90, -155),),
    "T": (_p((0, 0), (7.4, 0)), _p((3.7, 0), (3.7, 10))),
    "U": (_p((0, 0), (0, 6.4)) + _arc(3.5, 6.4, 3.5, 3.6, 180, 360) + _p((7, 0)),),
    "V": (_p((0, 0), (3.6, 10), (7.2, 0)),),
    "W": (_p((0, 0), (2.3, 10), (4.6, 2.6), (6.9, 10), (9.2, 0)),),
    "X": (_p((0, 0), (7, 10)), _p((7, 0), (0, 10))),
    "Y": (_p((0, 0), (3.6, 5.2), (7.2, 0)), _p((3.6, 5.2), (3.6, 10))),
    "Z": (_p((0.2, 0), (7, 0), (0, 10), (7, 10)),),
    "0": (_arc(3.2, 5, 3.2, 5, 0, 360),),
    "1": (_p((0.6, 2), (3, 0), (3, 10)),),
    "2": (_arc(3.2, 3.1, 3, 3.1, 155, -35) + _p((0, 10), (6.6, 10)),),
    "3": (
        _arc(3.1, 2.5, 2.7, 2.5, 150, -90),
        _arc(3.1, 7.4, 3.2, 2.6, 90, -150),
    ),
    "4": (_p((5.2, 10), (5.2, 0), (0, 7), (7, 7)),),
    "5": (_p((6.2, 0), (0.8, 0), (0.4, 4.6)) + _arc(3.3, 6.9, 3.3, 3.1, 135, -150),),
    "6": (_p((5.6, 0.2), (0.9, 4.9)), _arc(3.4, 6.7, 3.4, 3.3, 0, 360)),
    "7": (_p((0, 0), (7, 0), (2.6, 10)),),
    "8": (_arc(3.4, 2.5, 2.9, 2.5, 0, 360), _arc(3.4, 7.4, 3.4, 2.6, 0, 360)),
    "9": (_p((6.1, 5.1), (1.4, 9.8)), _arc(3.4, 3.3, 3.4, 3.3, 0, 360)),
}


def initial_of(program_name: str) -> str:
    """The program's initial: its name's first letter or digit, without accents ("É" is "E");
    "" when that character has no glyph here (the icons then show a plain ring mark)."""
    for char in unicodedata.normalize("NFKD", program_name).upper():
        if char.isalnum():
            return char if char in GLYPHS else ""
    return ""
