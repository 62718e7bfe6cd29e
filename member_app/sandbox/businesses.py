"""A business's public side (reference: Business, Location, Level): who runs the rewards
program, where its clubs are, and the levels its members reach. Everyone may read them."""

from __future__ import annotations

from typing import Any

from .media import badge_url, logo_url
from .records import Business, Level, Location
from .resources import Context, Field, Resource, resource_routes, uri


def serialize_business(biz: Business, ctx: Context) -> dict[str, Any]:
    locations = [
        k for k, loc in sorted(ctx.store.locations.items()) if loc.business_id == biz.business_id
    ]
    return {
        "app_connection_message": biz.app_connection_message,
        "brand_color": biz.brand_color,
        "brand_secondary_color": biz.brand_secondary_color,
        "business_id": biz.business_id,
        "categories": biz.categories,
        "fine_print": biz.fine_print,
        "homepage_url": biz.homepage_url,
        "locations": [uri("locations", k) for k in locations],
        "logo_url": logo_url(biz, ctx.base_url),
        "name": biz.name,
        "perkville_url": f"{ctx.base_url}/biz/{biz.business_id}/",
        # "(Deprecated) This property is no longer in use": the Perk endpoint lists perks.
        "perks": [],
        # "the collection of promotional perks a business offers" (all live in the sandbox).
        "promotions": [
            uri("promotions", k)
            for k, promo in sorted(ctx.store.promotions.items())
            if promo.business_id == biz.business_id
        ],
        "resource_uri": uri("businesses", biz.business_id),
        "rewards_program_name": biz.rewards_program_name,
    }


def serialize_location(loc: Location, ctx: Context) -> dict[str, Any]:
    return {
        "address_1": loc.address_1,
        "address_2": loc.address_2,
        "business": uri("businesses", loc.business_id),
        "city": loc.city,
        "country_code": loc.country_code,
        "external_location_id": loc.external_location_id,
        "latitude": loc.latitude,
        "location_id": loc.location_id,
        "longitude": loc.longitude,
        "name": loc.name,
        "postal_code": loc.postal_code,
        "resource_uri": uri("locations", loc.location_id),
        "state": loc.state,
    }


def serialize_level(level: Level, ctx: Context) -> dict[str, Any]:
    return {
        "badge_url": badge_url(level, ctx.base_url),
        "business": uri("businesses", level.business_id),
        "level_id": level.level_id,
        "name": level.name,
        "point_floor": level.point_floor,
        "resource_uri": uri("levels", level.level_id),
    }


BUSINESSES = Resource(
    "businesses",
    "businesses",
    lambda s: s.businesses,
    serialize_business,
    fields={"business_id": Field(lambda b, s: b.business_id)},
)
LOCATIONS = Resource(
    "locations",
    "locations",
    lambda s: s.locations,
    serialize_location,
    fields={
        "location_id": Field(lambda loc, s: loc.location_id),
        "business": Field(lambda loc, s: loc.business_id),
        "external_location_id": Field(lambda loc, s: loc.external_location_id, "str"),
    },
)
LEVELS = Resource(
    "levels",
    "levels",
    lambda s: s.levels,
    serialize_level,
    fields={
        "level_id": Field(lambda lv, s: lv.level_id),
        "business": Field(lambda lv, s: lv.business_id),
        "point_floor": Field(lambda lv, s: lv.point_floor),
    },
)

routes = resource_routes([BUSINESSES, LOCATIONS, LEVELS])
