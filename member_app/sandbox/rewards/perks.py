"""Perks (reference: Perk, Perk Category): the business's rules for earning points (EARN) and
the rewards points buy (REDEEM), and the categories that group them for display."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from ..errors import invalid_request
from ..media import perk_picture_url
from ..records import Perk, PerkCategory
from ..resources import Context, Field, Filter, Resource, iso, iso_date, resource_routes, uri
from ..store import Store

# Reference, Filtering ("In" filter): ?business=889&classification=REDEEM&type__in=... "would
# query for all active redeem perks": a list without a status filter has only ACTIVE perks.
ACTIVE_ONLY = Filter("status", "exact", ("active",))


def perk_at(perk: Perk, location_id: int | None) -> bool:
    return perk.location_ids is None or location_id in perk.location_ids


def in_date_window(perk: Perk, day: date) -> bool:
    return (perk.start_date is None or perk.start_date <= day) and (
        perk.end_date is None or day <= perk.end_date
    )


def category_of(perk: Perk, store: Store) -> dict[str, Any] | None:
    cat = store.perk_categories.get(perk.category_id) if perk.category_id else None
    if cat is None:
        return None
    return {
        "category_id": cat.category_id,
        "category_name": cat.category_name,
        "display_order": cat.display_order,
    }


def display_key(perk: Perk, store: Store) -> tuple[Any, ...]:
    """Categorised perks first (by category order), then by display_order (nulls last)."""
    cat = store.perk_categories.get(perk.category_id) if perk.category_id else None
    cat_order = (cat.display_order if cat.display_order is not None else 10**9) if cat else 0
    return (
        cat is None,
        cat_order,
        cat.category_id if cat else 0,
        perk.display_order is None,
        perk.display_order or 0,
        perk.perk_id,
    )


def serialize_perk(perk: Perk, ctx: Context) -> dict[str, Any]:
    limited = perk.redemption_limit_interval != "NO_REDEMPTION_LIMIT"
    data: dict[str, Any] = {
        "admin_flagged_as_invisible_to_customers": perk.admin_flagged_as_invisible_to_customers,
        "business": uri("businesses", perk.business_id),
        "category": uri("perk-categories", perk.category_id),
        "classification": perk.classification,
        "completes_referral": perk.completes_referral,
        "description": perk.description,
        "eligible_at_all_locations": perk.location_ids is None,
        "end_date": iso_date(perk.end_date),
        "external_coupon_code": perk.external_coupon_code,
        "external_reward_url": perk.external_reward_url,
        "fine_print": perk.fine_print,
        "initial_voucher_status": perk.initial_voucher_status,
        "must_redeem_at_home_location": perk.must_redeem_at_home_location,
        "perk_id": perk.perk_id,
        "picture_card": perk_picture_url(perk, ctx.base_url),
        "points": perk.points,
        "redemption_instructions": perk.redemption_instructions,
        "redemption_limit_count": perk.redemption_limit_count if limited else None,
        "redemption_limit_interval": perk.redemption_limit_interval if limited else None,
        "redemption_limit_interval_count": perk.redemption_limit_interval_count
        if limited
        else None,
        "required_level": uri("levels", perk.required_level_id),
        "resource_uri": uri("perks", perk.perk_id),
        "start_date": iso_date(perk.start_date),
        "status": perk.status,
        "title": perk.title,
        "type": perk.type,
        "valid_customer_attributes": [],
    }
    if perk.location_ids is not None:  # "won't be included" when eligible at all locations
        data["eligible_locations"] = [uri("locations", k) for k in perk.location_ids]
    return data


def serialize_category(cat: PerkCategory, ctx: Context) -> dict[str, Any]:
    perks = sorted(
        (p for p in ctx.store.perks.values() if p.category_id == cat.category_id),
        key=lambda p: display_key(p, ctx.store),
    )
    return {
        "business": uri("businesses", cat.business_id),
        "category_id": cat.category_id,
        "category_name": cat.category_name,
        "created_dt": iso(cat.created_dt),
        "display_order": cat.display_order,
        "last_mod_dt": iso(cat.last_mod_dt),
        "perks": [uri("perks", p.perk_id) for p in perks],
        "resource_uri": uri("perk-categories", cat.category_id),
    }


def category_filters(filters: Sequence[Filter]) -> None:
    """Reference, Perk Category, Required Filters: a business filter, and never business__in."""
    if any(f.field == "business" and f.op == "in" for f in filters):
        raise invalid_request(
            "invalid_filter", "An IN query on business is not allowed here.", "business__in"
        )
    if not any(f.field == "business" for f in filters):
        raise invalid_request("required", "Perk categories must be filtered by business.")


PERKS = Resource(
    "perks",
    "perks",
    lambda s: s.perks,
    serialize_perk,
    fields={
        "perk_id": Field(lambda p, s: p.perk_id),
        "business": Field(lambda p, s: p.business_id),
        "classification": Field(lambda p, s: p.classification, "str"),
        "type": Field(lambda p, s: p.type, "str"),
        "status": Field(lambda p, s: p.status, "str"),
        "points": Field(lambda p, s: p.points),
        "category": Field(lambda p, s: p.category_id),
        "required_level": Field(lambda p, s: p.required_level_id),
        "admin_flagged_as_invisible_to_customers": Field(
            lambda p, s: p.admin_flagged_as_invisible_to_customers, "bool"
        ),
    },
    default_filters=(ACTIVE_ONLY,),
)
PERK_CATEGORIES = Resource(
    "perk-categories",
    "perk categories",
    lambda s: s.perk_categories,
    serialize_category,
    fields={
        "category_id": Field(lambda c, s: c.category_id),
        "business": Field(lambda c, s: c.business_id),
    },
    check_filters=category_filters,
)

routes = resource_routes([PERKS, PERK_CATEGORIES])
