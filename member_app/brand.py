"""The business's brand colours as CSS, with text colours computed for contrast (WCAG 2.1).

Served as a tiny stylesheet rather than inline styles so the CSP can forbid inline style.
"""

from __future__ import annotations

import hashlib
import re
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
