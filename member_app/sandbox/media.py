"""The pictures the API's URLs point at, generated as SVG and served without a token: business
logos (`logo_url`), level badges (`badge_url`), perk photos (`picture_card`) and promotion cards
(`picture_url`). Each URL is both built and served here, so the two always agree.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .records import Business, Level, Perk, Promotion
from .store import Store

_BADGE_COLOURS = {"Bronze": "#B06A2B", "Silver": "#8A9299", "Gold": "#C9A227"}


def logo_url(biz: Business, base_url: str) -> str | None:
    return f"{base_url}/media/businesses/{biz.business_id}/logo.svg" if biz.has_logo else None


def badge_url(level: Level, base_url: str) -> str:
    return f"{base_url}/media/levels/{level.level_id}/badge.svg"


def perk_picture_url(perk: Perk, base_url: str) -> str | None:
    """The perk's `picture_card`, for the perks that have a photo."""
    return None if perk.picture_color is None else f"{base_url}/media/perks/{perk.perk_id}.svg"


def promotion_picture_url(promo: Promotion, base_url: str) -> str:
    return f"{base_url}/media/promotions/{promo.promotion_id}.svg"


def _svg(svg: str) -> Response:
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


def _not_found() -> Response:
    return Response("Not found", status_code=404)


async def business_logo(request: Request) -> Response:
    """/media/businesses/{id}/logo.svg: a logo in the brand colour with the initials."""
    store: Store = request.app.state.store
    biz = store.businesses.get(int(request.path_params["business_id"]))
    if biz is None or not biz.has_logo:
        return _not_found()
    initials = "".join(word[0] for word in biz.name.split()[:2]).upper()
    return _svg(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96">'
        f'<rect width="96" height="96" rx="20" fill="{escape(biz.brand_color or "#333")}"/>'
        '<path d="M18 70 L40 34 L52 52 L60 42 L78 70 Z" fill="#fff" opacity=".9"/>'
        f'<text x="48" y="88" font-family="sans-serif" font-size="12" text-anchor="middle" '
        f'fill="#fff">{escape(initials)}</text></svg>'
    )


async def level_badge(request: Request) -> Response:
    """/media/levels/{id}/badge.svg: a Bronze, Silver or Gold star."""
    store: Store = request.app.state.store
    level = store.levels.get(int(request.path_params["level_id"]))
    if level is None:
        return _not_found()
    colour = _BADGE_COLOURS.get(level.name, "#555")
    return _svg(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f'<circle cx="32" cy="32" r="30" fill="{colour}"/>'
        '<path d="M32 14 L37 27 L51 27 L40 36 L44 50 L32 41 L20 50 L24 36 L13 27 L27 27 Z" '
        'fill="#fff"/></svg>'
    )


async def perk_picture(request: Request) -> Response:
    """/media/perks/{id}.svg: the generated photo a perk's picture_card points at."""
    store: Store = request.app.state.store
    perk = store.perks.get(int(request.path_params["perk_id"]))
    if perk is None or perk.picture_color is None:
        return _not_found()
    words = perk.title.split()
    lines = [" ".join(words[i : i + 4]) for i in range(0, min(len(words), 8), 4)]
    text = "".join(
        f'<text x="40" y="{300 + 44 * n}" font-family="sans-serif" font-size="36" '
        f'font-weight="700" fill="#fff">{escape(line)}</text>'
        for n, line in enumerate(lines)
    )
    return _svg(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 700 400" width="700" height="400">'
        f'<rect width="700" height="400" fill="{escape(perk.picture_color)}"/>'
        '<circle cx="590" cy="110" r="70" fill="#fff" opacity=".18"/>'
        '<path d="M560 110 l22 22 l42 -48" stroke="#fff" stroke-width="12" fill="none" '
        f'opacity=".8"/>{text}</svg>'
    )


async def promotion_picture(request: Request) -> Response:
    """/media/promotions/{id}.svg: a generated 620×368 offer card in the brand colours."""
    store: Store = request.app.state.store
    promo = store.promotions.get(int(request.path_params["promotion_id"]))
    if promo is None:
        return _not_found()
    biz = store.businesses.get(promo.business_id)
    colour = escape((biz.brand_color if biz else None) or "#333333")
    accent = escape((biz.brand_secondary_color if biz else None) or "#F59E0B")
    title = escape(promo.title if len(promo.title) <= 28 else promo.title[:27] + "…")
    name = escape(biz.name if biz else "")
    return _svg(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 620 368" width="620" height="368">'
        f'<rect width="620" height="368" fill="{colour}"/>'
        f'<circle cx="540" cy="70" r="120" fill="{accent}" opacity=".35"/>'
        f'<rect x="60" y="150" width="90" height="70" rx="6" fill="{accent}"/>'
        '<rect x="99" y="150" width="12" height="70" fill="#fff"/>'
        '<rect x="52" y="136" width="106" height="20" rx="4" fill="#fff"/>'
        '<text x="186" y="178" font-family="sans-serif" font-size="34" font-weight="bold" '
        f'fill="#fff">{title}</text>'
        '<text x="186" y="214" font-family="sans-serif" font-size="18" fill="#fff" '
        f'opacity=".85">{name}</text></svg>'
    )


routes = [
    Route("/media/businesses/{business_id:int}/logo.svg", business_logo),
    Route("/media/levels/{level_id:int}/badge.svg", level_badge),
    Route("/media/perks/{perk_id:int}.svg", perk_picture),
    Route("/media/promotions/{promotion_id:int}.svg", promotion_picture),
]
